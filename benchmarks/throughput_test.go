package benchmarks

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// BenchmarkThroughput measures one-way message throughput over loopback:
// a sender (in a helper process) sends b.N messages of 64 or 1,200 bytes
// as fast as the transport lets it, and this process receives them. One
// op is one message.
//
//   - raw-udp: one message per datagram, WriteToUDPAddrPort in a loop,
//     no flow control (what the receiver's socket buffer cannot hold is
//     lost): the baseline.
//   - netcode-*: netcode.Conn.Send, Flush every ~4 datagrams' worth, on a
//     reliable-ordered or an unreliable channel; ErrQueueFull makes the
//     sender Flush and sleep 50 µs.
//   - engine-*: the same through engine.Client.Send/Pump and an
//     engine.Server whose loop sleeps until traffic arrives (PumpWait) and
//     dispatches each message to a typed handler.
//
// A 1,200-byte message does not fit a 1,200-byte datagram with its header
// and tag, so netcode fragments it in two.
//
// The baseline is paired: right after each timed round, a raw UDP
// session of the same message size (its own sender process) runs an
// untimed round of about the same duration, and the ratios divide by it
// (raw-udp is paired with another raw-udp session: a check of the
// method). A round ends when every message arrived, or this round's end marker
// (sent after the data, on the same channel), or — lossy modes, when the
// markers were lost too — 100 ms after the sender reported with nothing
// arriving. Metrics: msg/s and MB/s (payload) delivered, from the "go"
// command to the last message; rx-cpu-ns/msg, the CPU time (user+system, all threads,
// getrusage(RUSAGE_SELF)) of this process over the same interval divided
// by the messages received — the sender runs in another process, so this
// is the receive side alone: socket reads, decryption, acks, delivery,
// dispatch and GC; lost-%; rx-allocs/msg (this process) and
// tx-allocs/msg (the sender process) per message; tx-lost-pkt-% and
// tx-rate-MB/s from the sender connection's Stats; msg/s/udp and
// rx-cpu/udp, the ratios to the paired raw UDP round.
func BenchmarkThroughput(b *testing.B) {
	cases := []struct {
		name, transport string
		mode            netcode.DeliveryMode
	}{
		{"raw-udp", "udp", 0},
		{"netcode-reliable", "netcode", netcode.ReliableOrdered},
		{"netcode-unreliable", "netcode", netcode.Unreliable},
		{"engine-reliable", "engine", netcode.ReliableOrdered},
		{"engine-unreliable", "engine", netcode.Unreliable},
	}
	for _, size := range []int{64, 1200} {
		for _, c := range cases {
			// One connection, and one raw UDP baseline connection, for every
			// run of the sub-benchmark.
			var s, bs *tputSession
			b.Run(fmt.Sprintf("%dB/%s", size, c.name), func(b *testing.B) {
				if s == nil {
					s = newTputSession(b, c.transport, c.mode, size)
					bs = newTputSession(b, "udp", 0, size)
				}
				b.ReportAllocs()
				b.ResetTimer()
				r := s.round(b.N)
				b.StopTimer()
				// The baseline: raw UDP for about as long, right after.
				n := int(min(5e6, max(1000, r.elapsed.Seconds()*bs.lastRate)))
				base := bs.round(n)
				bs.lastRate = base.rate()
				r.report(b, base)
			})
			if s != nil {
				s.close()
				bs.close()
			}
		}
	}
}

// tputResult is one round of a throughput benchmark.
type tputResult struct {
	size     int
	sent     int64         // messages the sender sent
	got      int64         // messages received
	elapsed  time.Duration // from "go" to the last message
	cpu      time.Duration // receiver process CPU over elapsed; < 0: unknown
	rxAllocs uint64
	txAllocs uint64
	retries  int64 // sends refused with ErrQueueFull (and retried)
	tx       *netcode.Stats
}

func (r tputResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.got) / r.elapsed.Seconds()
}

func (r tputResult) cpuPerMsg() float64 {
	if r.cpu < 0 || r.got == 0 {
		return 0
	}
	return float64(r.cpu.Nanoseconds()) / float64(r.got)
}

func (r tputResult) report(b *testing.B, base tputResult) {
	b.ReportMetric(r.rate(), "msg/s")
	b.ReportMetric(r.rate()*float64(r.size)/1e6, "MB/s")
	if c := r.cpuPerMsg(); c > 0 {
		b.ReportMetric(c, "rx-cpu-ns/msg")
	}
	if r.sent > 0 {
		b.ReportMetric(100*float64(r.sent-r.got)/float64(r.sent), "lost-%")
		b.ReportMetric(float64(r.txAllocs)/float64(r.sent), "tx-allocs/msg")
		if r.got > 0 {
			b.ReportMetric(float64(r.rxAllocs)/float64(r.got), "rx-allocs/msg")
		}
		if r.retries > 0 {
			b.ReportMetric(float64(r.retries)/float64(r.sent), "queue-full/msg")
		}
	}
	if st := r.tx; st != nil && st.PacketsOut > 0 {
		// The sender's connection, cumulative over the session.
		b.ReportMetric(100*float64(st.LostPackets)/float64(st.PacketsOut), "tx-lost-pkt-%")
		b.ReportMetric(st.SendRate/1e6, "tx-rate-MB/s")
	}
	reportRatio(b, ratio(r.rate(), base.rate()), "msg/s/udp")
	reportRatio(b, ratio(r.cpuPerMsg(), base.cpuPerMsg()), "rx-cpu/udp")
}

// tputSession is a receiver and a connected sender process.
type tputSession struct {
	tb        testing.TB
	transport string
	size      int
	h         *helper

	pc   *net.UDPConn      // udp
	ep   *netcode.Endpoint // netcode
	conn *netcode.Conn
	srv  *engine.Server // engine

	lossy  bool         // raw UDP or an unreliable channel
	got    atomic.Int64 // messages received this round
	marker bool         // the sender's end marker arrived
	rounds byte
	// lastRate is the last round's msg/s (a first guess before any).
	lastRate float64
}

// isMarker reports whether b is this round's end marker.
func (s *tputSession) isMarker(b []byte) bool {
	return len(b) == tputMarkerLen && b[0] == 0xff && b[1] == s.rounds
}

// The end marker is a 2-byte message (data messages are 64 or 1,200
// bytes): 0xff and the round number. The sender sends three after its
// data, on the same channel, so that they follow it; markers of an
// earlier round (which ended when its last message arrived) are ignored.
const tputMarkerLen = 2

func newTputSession(tb testing.TB, transport string, mode netcode.DeliveryMode, size int) *tputSession {
	tb.Helper()
	s := &tputSession{tb: tb, transport: transport, size: size, lastRate: 1e5, lossy: transport == "udp" || mode == netcode.Unreliable || mode == netcode.UnreliableSequenced}
	spec := helperSpec{Role: "tput", Transport: transport, Mode: mode, Size: size}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	switch transport {
	case "udp":
		pc, err := listenLoopbackUDP()
		if err != nil {
			tb.Fatal(err)
		}
		s.pc = pc
		spec.Addr = pc.LocalAddr().String()
		s.h = startHelper(tb, spec)
	case "netcode":
		ep, err := netcode.Listen(loopbackAddr(), &netcode.Config{Channels: []netcode.DeliveryMode{mode}})
		if err != nil {
			tb.Fatal(err)
		}
		s.ep = ep
		spec.Addr, spec.FP = ep.AddrPort().String(), ep.Fingerprint().String()
		s.h = startHelper(tb, spec)
		if s.conn, err = ep.Accept(ctx); err != nil {
			tb.Fatal(err)
		}
	case "engine":
		srv, err := engine.Listen(loopbackAddr(), nil)
		if err != nil {
			tb.Fatal(err)
		}
		s.srv = srv
		engine.HandleFunc(srv, "m", func(_ *engine.Peer, m blob) { s.got.Add(1) })
		engine.HandleFunc(srv, "end", func(_ *engine.Peer, m blob) {
			if s.isMarker(m.Data[:tputMarkerLen]) {
				s.marker = true
			}
		})
		spec.Target = srv.ConnectString()
		s.h = startHelper(tb, spec)
		// Pump (accept, greet) until the client says it was greeted.
		for {
			srv.PumpWait(ctx, 10*time.Millisecond)
			select {
			case l, ok := <-s.h.replies():
				s.h.check(l, ok)
				return s
			case <-ctx.Done():
				tb.Fatal("engine client did not connect")
			default:
			}
		}
	}
	s.h.reply(20 * time.Second) // ready
	return s
}

// tailIdle is how long a lossy round waits, once the sender reported that
// everything was handed to the transport, without a message arriving
// before it counts the rest as lost.
const tailIdle = 100 * time.Millisecond

// round has the sender send n messages and receives them. It ends when n
// messages arrived, or this round's end marker did (lossy modes), or, in
// lossy modes, when nothing arrived for tailIdle after the sender's report
// (the markers were lost too). Reliable rounds wait for every message.
func (s *tputSession) round(n int) tputResult {
	s.got.Store(0)
	s.marker = false
	s.rounds++
	s.h.send(fmt.Sprintf("go %d %d", n, s.rounds))
	m := startMeter()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	arrived, report := s.h.awaitReply(2 * time.Minute)
	var tail atomic.Bool // the sender reported: record the last arrival
	go func() {
		select {
		case <-arrived:
		case <-ctx.Done():
			return
		}
		tail.Store(true)
		t := time.NewTicker(tailIdle)
		defer t.Stop()
		for last := int64(-1); ; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			g := s.got.Load()
			if g == last && s.lossy {
				cancel() // idle: the rest was lost
				return
			}
			last = g
		}
	}()
	var lastAt time.Time // last arrival, when it matters
	want := int64(n)
	switch s.transport {
	case "udp":
		stop := context.AfterFunc(ctx, func() { s.pc.SetReadDeadline(time.Now()) })
		buf := make([]byte, 2048)
		for s.got.Load() < want {
			k, _, err := s.pc.ReadFromUDPAddrPort(buf)
			if err != nil || s.isMarker(buf[:k]) {
				break
			}
			if k == s.size {
				s.got.Add(1)
				if tail.Load() {
					lastAt = time.Now()
				}
			}
		}
		stop()
		s.pc.SetReadDeadline(time.Time{})
	case "netcode":
		for s.got.Load() < want && !s.marker && ctx.Err() == nil {
			select {
			case <-s.conn.Wake():
			case <-ctx.Done():
			}
			before := s.got.Load()
			for msg, ok := s.conn.Receive(); ok; msg, ok = s.conn.Receive() {
				if len(msg.Data) == s.size {
					s.got.Add(1)
				} else if s.isMarker(msg.Data) {
					s.marker = true
				}
			}
			if s.got.Load() != before {
				lastAt = time.Now()
			}
		}
	case "engine":
		for s.got.Load() < want && !s.marker && ctx.Err() == nil {
			before := s.got.Load()
			s.srv.PumpWait(ctx, 0)
			if s.got.Load() != before {
				lastAt = time.Now()
			}
		}
	}
	idle := ctx.Err() != nil
	cancel()
	cpu, elapsed, allocs := m.stop()
	if idle && !lastAt.IsZero() {
		elapsed = lastAt.Sub(m.wall)
	}
	rep := report()
	got := s.got.Load()
	if !s.lossy && got != want {
		s.tb.Fatalf("reliable round: %d of %d messages arrived within 2 minutes", got, want)
	}
	return tputResult{size: s.size, sent: rep.Sent, got: got, elapsed: elapsed, cpu: cpu,
		rxAllocs: allocs, txAllocs: rep.Allocs, retries: rep.Retries, tx: rep.Stats}
}

func (s *tputSession) close() {
	if s.h != nil {
		s.h.close()
	}
	switch {
	case s.pc != nil:
		s.pc.Close()
	case s.ep != nil:
		s.ep.Close()
	case s.srv != nil:
		s.srv.Close()
	}
}

// tputSender is the helper process of BenchmarkThroughput: it connects,
// says it is ready, then for each "go N" sends N messages and three end
// markers and replies with what it sent and allocated.
func tputSender(spec helperSpec, hio *helperIO) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg := make([]byte, spec.Size)
	marker := []byte{0xff, 0}
	var retries int64 // sends refused with ErrQueueFull
	stats := func() *netcode.Stats { return nil }
	var (
		send  func(end bool) error // queue msg, or an end marker
		flush = func() {}
		every = max(1, 4*1100/spec.Size) // messages per flush: ~4 datagrams
	)
	switch spec.Transport {
	case "udp":
		to, err := netip.ParseAddrPort(spec.Addr)
		if err != nil {
			return err
		}
		pc, err := listenLoopbackUDP()
		if err != nil {
			return err
		}
		defer pc.Close()
		send = func(end bool) error {
			if end {
				time.Sleep(time.Millisecond)
				_, err := pc.WriteToUDPAddrPort(marker, to)
				return err
			}
			_, err := pc.WriteToUDPAddrPort(msg, to)
			return err
		}
	case "netcode":
		fp, err := netcode.ParseFingerprint(spec.FP)
		if err != nil {
			return err
		}
		c, err := netcode.Dial(ctx, spec.Addr, &netcode.Config{Channels: []netcode.DeliveryMode{spec.Mode}},
			netcode.DialOptions{Fingerprint: fp})
		if err != nil {
			return err
		}
		defer c.Close()
		flush = c.Flush
		stats = func() *netcode.Stats { st := c.Stats(); return &st }
		send = func(end bool) error {
			m := msg
			if end {
				m = marker
			}
			for {
				err := c.Send(0, m)
				if !errors.Is(err, netcode.ErrQueueFull) {
					return err
				}
				retries++
				c.Flush()
				time.Sleep(50 * time.Microsecond)
			}
		}
	case "engine":
		cl, err := engine.Connect(spec.Target, nil)
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := waitGreeting(cl, 20*time.Second); err != nil {
			return err
		}
		data, end := newBlob("m", spec.Size), newBlob("end", 32)
		msg, marker = data.Data, end.Data
		flush = cl.Pump
		stats = func() *netcode.Stats { st := cl.Stats(); return &st }
		send = func(isEnd bool) error {
			m := data
			if isEnd {
				m = end
			}
			for {
				err := cl.Send(m, engine.Mode(spec.Mode))
				if !errors.Is(err, engine.ErrQueueFull) {
					return err
				}
				retries++
				cl.Pump()
				time.Sleep(50 * time.Microsecond)
			}
		}
	default:
		return fmt.Errorf("unknown transport %q", spec.Transport)
	}
	hio.reply(helperReply{Ready: true})
	for {
		cmd, err := hio.next()
		if err != nil {
			return nil // the benchmark is done with us
		}
		var n int
		if _, err := fmt.Sscanf(cmd, "go %d %d", &n, &marker[1]); err != nil {
			return fmt.Errorf("bad command %q", cmd)
		}
		marker[0] = 0xff
		retries = 0
		a0 := heapAllocs()
		for i := range n {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := send(false); err != nil {
				return err
			}
			if (i+1)%every == 0 {
				flush()
			}
		}
		flush()
		allocs := heapAllocs() - a0
		for range 3 {
			if err := send(true); err != nil {
				return err
			}
			flush()
		}
		hio.reply(helperReply{Sent: int64(n), Allocs: allocs, Retries: retries, Stats: stats()})
	}
}
