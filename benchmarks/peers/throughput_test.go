package peers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtaci/kcp-go/v5"

	"github.com/pumpnet/pumpnet/benchmarks/peers/enet"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// BenchmarkPeers_Throughput is ../benchmarks' BenchmarkThroughput with the
// peers beside pumpnet: a sender in a helper process sends b.N messages of
// 64 or 1,200 bytes as fast as the transport lets it; this process
// receives them. One op is one message; every row is paired with an
// untimed raw UDP round of about the same length right after it
// (msg/s/udp, rx-cpu/udp).
//
//   - raw-udp: one message per datagram, no flow control (the baseline).
//   - enet-reliable: ENet, channel 0, ENET_PACKET_FLAG_RELIABLE. The sender
//     queues messages with enet_peer_send and calls enet_host_service with
//     a 0 timeout (sending what the window allows, reading acks) every ~4
//     datagrams' worth, like pumpnet's senders flush; while more than
//     1,024 commands wait in the peer's queue (ENet has no other
//     backpressure) it services with a 1 ms timeout (counted in
//     queue-full/msg). The receiver services its host in a loop with a
//     1 ms timeout. Both hosts are serviced between rounds too.
//   - kcp-reliable: kcp-go in fast mode (tuneKCP); the sender writes ~4
//     datagrams' worth of messages per WriteBuffers call (one KCP message
//     each), which blocks while the send window is full; the receiver
//     reads one message per Read.
//   - netcode-reliable, engine-reliable: as in ../benchmarks.
//
// Peers run first; pumpnet rows then report msg/s/best-peer (their
// msg/s/udp divided by the best peer's) and rx-cpu/best-peer. Metrics as
// in ../benchmarks; ENet's C heap (enet_packet_create, one malloc per
// packet) is not in allocs/msg, which counts Go heap allocations.
func BenchmarkPeers_Throughput(b *testing.B) {
	cases := []struct {
		name, transport string
		mode            netcode.DeliveryMode
		role            string
	}{
		{"raw-udp", "udp", 0, ""},
		{"enet-reliable", "enet", 0, "peer"},
		{"kcp-reliable", "kcp", 0, "peer"},
		{"netcode-reliable", "netcode", netcode.ReliableOrdered, "pumpnet"},
		{"engine-reliable", "engine", netcode.ReliableOrdered, "pumpnet"},
	}
	for _, size := range []int{64, 1200} {
		for _, c := range cases {
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
				n := int(min(5e6, max(1000, r.elapsed.Seconds()*bs.lastRate)))
				base := bs.round(n)
				bs.lastRate = base.rate()
				r.report(b, base)
				key := peerKey(fmt.Sprintf("tput/%dB", size), true)
				rate, cpu := ratio(r.rate(), base.rate()), ratio(r.cpuPerMsg(), base.cpuPerMsg())
				switch c.role {
				case "peer":
					recordPeer(b, key+"/rate", rate)
					recordPeer(b, key+"/cpu", cpu)
				case "pumpnet":
					reportVsPeer(b, key+"/rate", rate, "msg/s/best-peer", true)
					reportVsPeer(b, key+"/cpu", cpu, "rx-cpu/best-peer", false)
				}
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
	kcpL *kcp.Listener  // kcp
	kcpS *kcp.UDPSession
	enet *enetReceiver // enet

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
		pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		s.pc = pc
		spec.Addr = pc.LocalAddr().String()
		s.h = startHelper(tb, spec)
	case "kcp":
		ln, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
		if err != nil {
			tb.Fatal(err)
		}
		s.kcpL = ln
		spec.Addr = ln.Addr().String()
		s.h = startHelper(tb, spec)
		ln.SetDeadline(time.Now().Add(20 * time.Second))
		if s.kcpS, err = ln.AcceptKCP(); err != nil { // after the sender's hello
			tb.Fatal(err)
		}
		tuneKCP(s.kcpS)
	case "enet":
		s.enet = newENetReceiver(tb, s)
		spec.Addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), s.enet.host.Port()).String()
		s.h = startHelper(tb, spec)
	case "netcode":
		ep, err := netcode.Listen("127.0.0.1:0", &netcode.Config{Channels: []netcode.DeliveryMode{mode}})
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
		srv, err := engine.Listen("127.0.0.1:0", nil)
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
	if s.enet != nil {
		s.enet.begin(int64(n), s.rounds)
	}
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
	case "kcp":
		stop := context.AfterFunc(ctx, func() { s.kcpS.SetReadDeadline(time.Now()) })
		buf := make([]byte, 2048)
		for s.got.Load() < want {
			k, err := s.kcpS.Read(buf)
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
		s.kcpS.SetReadDeadline(time.Time{})
	case "enet":
		s.enet.setTail(&tail)
		select {
		case <-s.enet.done:
		case <-ctx.Done():
		}
		lastAt = s.enet.end()
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
	case s.kcpS != nil:
		s.kcpS.Close()
		s.kcpL.Close()
	case s.enet != nil:
		s.enet.close()
	}
}

// enetReceiver owns the receiving ENet host: one goroutine services it
// for the session's life (1 ms timeouts), counting into the session.
type enetReceiver struct {
	s     *tputSession
	host  *enet.Host
	mu    sync.Mutex // guards want, round, done and tail
	want  int64
	round byte          // the round's number, in its end marker
	done  chan struct{} // closed when want messages or the marker arrived
	// tail is the round's "sender reported" flag; lastAt the last arrival
	// after it.
	tail   *atomic.Bool
	lastAt atomic.Int64
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

func newENetReceiver(tb testing.TB, s *tputSession) *enetReceiver {
	h, err := enet.NewHost(netip.MustParseAddrPort("127.0.0.1:0"), 4, 1)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &enetReceiver{s: s, host: h, stop: cancel, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 4096)
		for ctx.Err() == nil {
			ev, err := h.Service(enetServiceMS, buf)
			if err != nil {
				tb.Error(err)
				return
			}
			if ev.Type != enet.EventReceive {
				continue
			}
			r.mu.Lock()
			finished := false
			if ev.N == s.size {
				finished = s.got.Add(1) == r.want
				if r.tail != nil && r.tail.Load() {
					r.lastAt.Store(time.Now().UnixNano())
				}
			} else if ev.N == tputMarkerLen && buf[0] == 0xff && buf[1] == r.round {
				finished = true
			}
			if finished {
				select {
				case <-r.done:
				default:
					close(r.done)
				}
			}
			r.mu.Unlock()
		}
	}()
	return r
}

// begin readies round number round, of want messages (s.got is reset).
func (r *enetReceiver) begin(want int64, round byte) {
	r.mu.Lock()
	r.want, r.round, r.done, r.tail = want, round, make(chan struct{}), nil
	r.lastAt.Store(0)
	r.mu.Unlock()
}

// setTail hands the receiver the round's "sender reported" flag.
func (r *enetReceiver) setTail(tail *atomic.Bool) {
	r.mu.Lock()
	r.tail = tail
	r.mu.Unlock()
}

// end returns the last arrival after the sender reported (zero if none).
func (r *enetReceiver) end() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tail = nil
	if t := r.lastAt.Load(); t != 0 {
		return time.Unix(0, t)
	}
	return time.Time{}
}

func (r *enetReceiver) close() {
	r.stop()
	r.wg.Wait()
	r.host.Destroy()
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
		pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
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
	case "kcp":
		c, err := kcp.DialWithOptions(spec.Addr, nil, 0, 0)
		if err != nil {
			return err
		}
		defer c.Close()
		tuneKCP(c)
		if _, err := c.Write([]byte{'h'}); err != nil { // the listener accepts on it
			return err
		}
		batch := make([][]byte, 0, every)
		send = func(end bool) error {
			if end {
				_, err := c.Write(marker)
				return err
			}
			batch = append(batch, msg)
			if len(batch) < every {
				return nil
			}
			_, err := c.WriteBuffers(batch)
			batch = batch[:0]
			return err
		}
		flush = func() {
			if len(batch) > 0 {
				c.WriteBuffers(batch)
				batch = batch[:0]
			}
		}
	case "enet":
		return enetSender(spec, hio)
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
