package harness

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

// RawChunk is the largest datagram raw UDP sends in a throughput round:
// a message longer than this (64 KiB, 1 MiB) is blasted as consecutive
// datagrams of RawChunk bytes (the last one shorter), the same bytes as
// the message, with no flow control — the datagram budget pumpnet
// fragments into.
const RawChunk = 1200

// SizeName names a message size in sub-benchmark names: "64B", "1200B",
// "64KiB", "1MiB".
func SizeName(size int) string {
	switch {
	case size >= 1<<20 && size%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", size>>20)
	case size >= 1<<10 && size%(1<<10) == 0 && size > 1200:
		return fmt.Sprintf("%dKiB", size>>10)
	}
	return fmt.Sprintf("%dB", size)
}

// TputResult is one round of a throughput benchmark.
type TputResult struct {
	Size     int
	Sent     int64         // messages the sender sent
	Bytes    int64         // payload bytes received (whole messages, or raw chunks)
	Elapsed  time.Duration // from "go" to the last message
	CPU      time.Duration // receiver process CPU over Elapsed; < 0: unknown
	RxAllocs uint64
	TxAllocs uint64
	Retries  int64 // sends refused with a full queue (and retried)
	Tx       *netcode.Stats
}

// Got returns the messages received: Bytes in messages of Size (raw UDP
// blasting a large message counts the fraction of it that arrived).
func (r TputResult) Got() float64 { return float64(r.Bytes) / float64(r.Size) }

// Rate returns the messages received per second.
func (r TputResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return r.Got() / r.Elapsed.Seconds()
}

// CPUPerMsg returns the receiver's CPU ns per message received (0:
// unknown).
func (r TputResult) CPUPerMsg() float64 {
	if r.CPU < 0 || r.Bytes == 0 {
		return 0
	}
	return float64(r.CPU.Nanoseconds()) / r.Got()
}

// Report reports the round's metrics against base, the paired raw UDP
// round: msg/s, MB/s (payload), rx-cpu-ns/msg, lost-%, tx-allocs/msg,
// rx-allocs/msg, queue-full/msg, tx-lost-pkt-% and tx-rate-MB/s (the
// sender's declared loss and pacing rate), rx-cpu/udp, and msg/s/udp — or,
// for messages larger than RawChunk, goodput/udp (the MB/s ratio: raw UDP
// blasts the same bytes in datagrams).
func (r TputResult) Report(b *testing.B, base TputResult) {
	b.ReportMetric(r.Rate(), "msg/s")
	b.ReportMetric(r.Rate()*float64(r.Size)/1e6, "MB/s")
	if c := r.CPUPerMsg(); c > 0 {
		b.ReportMetric(c, "rx-cpu-ns/msg")
	}
	if r.Sent > 0 {
		b.ReportMetric(100*(float64(r.Sent)-r.Got())/float64(r.Sent), "lost-%")
		b.ReportMetric(float64(r.TxAllocs)/float64(r.Sent), "tx-allocs/msg")
		if r.Bytes > 0 {
			b.ReportMetric(float64(r.RxAllocs)/r.Got(), "rx-allocs/msg")
		}
		if r.Retries > 0 {
			b.ReportMetric(float64(r.Retries)/float64(r.Sent), "queue-full/msg")
		}
	}
	if st := r.Tx; st != nil && st.PacketsOut > 0 {
		// The sender's connection, cumulative over the session.
		b.ReportMetric(100*float64(st.LostPackets)/float64(st.PacketsOut), "tx-lost-pkt-%")
		if st.SendRate > 0 {
			b.ReportMetric(st.SendRate/1e6, "tx-rate-MB/s")
		}
	}
	if r.Size > RawChunk {
		ReportRatio(b, Ratio(r.Rate(), base.Rate()), "goodput/udp")
	} else {
		ReportRatio(b, Ratio(r.Rate(), base.Rate()), "msg/s/udp")
	}
	ReportRatio(b, Ratio(r.CPUPerMsg(), base.CPUPerMsg()), "rx-cpu/udp")
}

// TputReceiver is the receiving side of a TputSession for one transport.
// A receiver that must know a round before its data arrives also has a
// method Begin(want int64, round byte), called before the sender is told
// to go (want in bytes; round as in the end marker).
type TputReceiver interface {
	// Receive receives one round, adding the payload bytes of the data
	// messages to s.Got, until want bytes arrived, the round's end marker
	// did (s.IsMarker), or ctx is done; it blocks. It returns the time of
	// the last data arrival once tail was set (the sender reported), zero
	// if none.
	Receive(ctx context.Context, want int64, tail *atomic.Bool) (lastAt time.Time)
	// Close closes the receiving side.
	Close()
}

// TputListen makes the receiver of a transport that TputSession does not
// know, or returns nil when it knows none either: it listens, fills
// spec's address fields, starts the sender with s.Start(spec), and
// returns once the sender is connected and said it is ready (s.Helper's
// Reply).
type TputListen func(tb testing.TB, s *TputSession, spec *Spec) TputReceiver

// TputSession is a receiver (in this process) and a connected sender (in
// a helper process), for every round of one sub-benchmark.
type TputSession struct {
	tb        testing.TB
	transport string
	// Size is the message size.
	Size int
	h    *Helper
	recv TputReceiver

	lossy bool // raw UDP or an unreliable channel
	// Got is the payload bytes received this round; receivers add to it.
	Got    atomic.Int64
	rounds byte
	// lastRate is the last round's msg/s (a first guess before any).
	lastRate float64
}

// IsMarker reports whether b is this round's end marker.
func (s *TputSession) IsMarker(b []byte) bool {
	return len(b) == TputMarkerLen && b[0] == 0xff && b[1] == s.rounds
}

// Start starts the sender process running spec (for a TputListen).
func (s *TputSession) Start(spec Spec) { s.h = StartHelper(s.tb, spec) }

// Helper returns the sender process.
func (s *TputSession) Helper() *Helper { return s.h }

// TputMarkerLen is the length of the end marker, a 2-byte message (data
// messages are 64 bytes or more): 0xff and the round number. The sender
// sends three after its data, on the same channel, so that they follow
// it; markers of an earlier round (which ended when its last message
// arrived) are ignored.
const TputMarkerLen = 2

// NewTputSession starts a session of transport ("udp", "netcode",
// "engine", or one that extra makes) sending messages of size bytes on a
// channel of mode; it blocks until the sender is connected. extra may be
// nil.
func NewTputSession(tb testing.TB, transport string, mode netcode.DeliveryMode, size int, extra TputListen) *TputSession {
	tb.Helper()
	s := &TputSession{tb: tb, transport: transport, Size: size, lastRate: min(1e5, 2e8/float64(size)),
		lossy: transport == "udp" || mode == netcode.Unreliable || mode == netcode.UnreliableSequenced}
	spec := Spec{Role: "tput", Transport: transport, Mode: mode, Size: size}
	switch transport {
	case "udp":
		s.recv = listenTputUDP(tb, s, &spec)
	case "netcode":
		s.recv = listenTputNetcode(tb, s, &spec)
	case "engine":
		s.recv = listenTputEngine(tb, s, &spec)
	default:
		if extra != nil {
			s.recv = extra(tb, s, &spec)
		}
		if s.recv == nil {
			tb.Fatalf("unknown transport %q", transport)
		}
	}
	return s
}

// TailIdle is how long a lossy round waits, once the sender reported that
// everything was handed to the transport, without a message arriving
// before it counts the rest as lost.
const TailIdle = 100 * time.Millisecond

// Round has the sender send n messages and receives them; it blocks. It
// ends when n messages arrived, or this round's end marker did (lossy
// modes), or, in lossy modes, when nothing arrived for TailIdle after the
// sender's report (the markers were lost too). Reliable rounds wait (up
// to 2 minutes) for every message.
func (s *TputSession) Round(n int) TputResult {
	s.Got.Store(0)
	s.rounds++
	want := int64(n) * int64(s.Size)
	if b, ok := s.recv.(interface{ Begin(int64, byte) }); ok {
		b.Begin(want, s.rounds)
	}
	s.h.Send(fmt.Sprintf("go %d %d", n, s.rounds))
	m := StartMeter()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	arrived, report := s.h.AwaitReply(2 * time.Minute)
	var tail atomic.Bool // the sender reported: record the last arrival
	go func() {
		select {
		case <-arrived:
		case <-ctx.Done():
			return
		}
		tail.Store(true)
		t := time.NewTicker(TailIdle)
		defer t.Stop()
		for last := int64(-1); ; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			g := s.Got.Load()
			if g == last && s.lossy {
				cancel() // idle: the rest was lost
				return
			}
			last = g
		}
	}()
	lastAt := s.recv.Receive(ctx, want, &tail)
	idle := ctx.Err() != nil
	cancel()
	cpu, elapsed, allocs := m.Stop()
	if idle && !lastAt.IsZero() {
		elapsed = lastAt.Sub(m.Wall)
	}
	rep := report()
	got := s.Got.Load()
	if !s.lossy && got != want {
		s.tb.Fatalf("reliable round: %d of %d bytes arrived within 2 minutes", got, want)
	}
	return TputResult{Size: s.Size, Sent: rep.Sent, Bytes: got, Elapsed: elapsed, CPU: cpu,
		RxAllocs: allocs, TxAllocs: rep.Allocs, Retries: rep.Retries, Tx: rep.Stats}
}

// Baseline runs an untimed round of this session (raw UDP) about as long
// as r, a round just measured, and returns it: the paired baseline.
func (s *TputSession) Baseline(r TputResult) TputResult {
	lo := max(1, min(1000, 1_200_000/s.Size))
	hi := min(5e6, 6e9/float64(s.Size))
	n := int(min(hi, max(float64(lo), r.Elapsed.Seconds()*s.lastRate)))
	base := s.Round(n)
	s.lastRate = base.Rate()
	return base
}

// Close ends the sender and closes the receiver.
func (s *TputSession) Close() {
	if s.h != nil {
		s.h.Close()
	}
	if s.recv != nil {
		s.recv.Close()
	}
}

// tputUDP receives raw UDP datagrams.
type tputUDP struct {
	s  *TputSession
	pc *net.UDPConn
}

func listenTputUDP(tb testing.TB, s *TputSession, spec *Spec) TputReceiver {
	pc, err := ListenLoopbackUDP()
	if err != nil {
		tb.Fatal(err)
	}
	spec.Addr = pc.LocalAddr().String()
	s.Start(*spec)
	s.h.Reply(20 * time.Second) // ready
	return &tputUDP{s: s, pc: pc}
}

func (u *tputUDP) Receive(ctx context.Context, want int64, tail *atomic.Bool) (lastAt time.Time) {
	s := u.s
	stop := context.AfterFunc(ctx, func() { u.pc.SetReadDeadline(time.Now()) })
	defer func() {
		stop()
		u.pc.SetReadDeadline(time.Time{})
	}()
	buf := make([]byte, 2048)
	for s.Got.Load() < want {
		k, _, err := u.pc.ReadFromUDPAddrPort(buf)
		if err != nil || s.IsMarker(buf[:k]) {
			break
		}
		// A whole message, or a chunk of a large one.
		if k == s.Size || (s.Size > RawChunk && k > TputMarkerLen) {
			s.Got.Add(int64(k))
			if tail.Load() {
				lastAt = time.Now()
			}
		}
	}
	return lastAt
}

func (u *tputUDP) Close() { u.pc.Close() }

// tputNetcode receives on an accepted netcode.Conn.
type tputNetcode struct {
	s    *TputSession
	ep   *netcode.Endpoint
	conn *netcode.Conn
}

func listenTputNetcode(tb testing.TB, s *TputSession, spec *Spec) TputReceiver {
	ep, err := netcode.Listen(LoopbackAddr(), &netcode.Config{Channels: []netcode.DeliveryMode{spec.Mode}})
	if err != nil {
		tb.Fatal(err)
	}
	spec.Addr, spec.FP = ep.AddrPort().String(), ep.Fingerprint().String()
	s.Start(*spec)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := ep.Accept(ctx)
	if err != nil {
		ep.Close()
		tb.Fatal(err)
	}
	s.h.Reply(20 * time.Second) // ready
	return &tputNetcode{s: s, ep: ep, conn: conn}
}

func (r *tputNetcode) Receive(ctx context.Context, want int64, _ *atomic.Bool) (lastAt time.Time) {
	s := r.s
	for marker := false; s.Got.Load() < want && !marker && ctx.Err() == nil; {
		select {
		case <-r.conn.Wake():
		case <-ctx.Done():
		}
		before := s.Got.Load()
		for msg, ok := r.conn.Receive(); ok; msg, ok = r.conn.Receive() {
			if len(msg.Data) == s.Size {
				s.Got.Add(int64(s.Size))
			} else if s.IsMarker(msg.Data) {
				marker = true
			}
		}
		if s.Got.Load() != before {
			lastAt = time.Now()
		}
	}
	return lastAt
}

func (r *tputNetcode) Close() { r.ep.Close() }

// tputEngine receives with an engine.Server's typed handlers.
type tputEngine struct {
	s      *TputSession
	srv    *engine.Server
	marker bool // the round's end marker arrived (Pump's goroutine)
}

func listenTputEngine(tb testing.TB, s *TputSession, spec *Spec) TputReceiver {
	srv, err := engine.Listen(LoopbackAddr(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	r := &tputEngine{s: s, srv: srv}
	engine.HandleFunc(srv, "m", func(_ *engine.Peer, m Blob) { s.Got.Add(int64(s.Size)) })
	engine.HandleFunc(srv, "end", func(_ *engine.Peer, m Blob) {
		if s.IsMarker(m.Data[:TputMarkerLen]) {
			r.marker = true
		}
	})
	spec.Target = srv.ConnectString()
	s.Start(*spec)
	// Pump (accept, greet) until the client says it was greeted.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		srv.PumpWait(ctx, 10*time.Millisecond)
		select {
		case l, ok := <-s.h.Replies():
			s.h.Check(l, ok)
			return r
		case <-ctx.Done():
			srv.Close()
			tb.Fatal("engine client did not connect")
		default:
		}
	}
}

func (r *tputEngine) Receive(ctx context.Context, want int64, _ *atomic.Bool) (lastAt time.Time) {
	s := r.s
	r.marker = false
	for s.Got.Load() < want && !r.marker && ctx.Err() == nil {
		before := s.Got.Load()
		r.srv.PumpWait(ctx, 0)
		if s.Got.Load() != before {
			lastAt = time.Now()
		}
	}
	return lastAt
}

func (r *tputEngine) Close() { r.srv.Close() }

// TputConn is a throughput sender's connection, driven by TputSender's
// loop from one goroutine.
type TputConn struct {
	// Msg is the message Send(false) sends; the loop writes the message's
	// number into its first 8 bytes.
	Msg []byte
	// Marker is the end marker Send(true) sends; the loop sets Marker[0]
	// to 0xff and Marker[1] to the round number.
	Marker []byte
	// Send queues Msg, or Marker when end is set, retrying while the
	// transport refuses it (adding each refusal to Retries).
	Send func(end bool) error
	// Flush, when set, hands what Send queued to the socket.
	Flush func()
	// Stats, when set, returns the connection's statistics after a round
	// (the loop reports PacketsOut, LostPackets — the declared loss — and
	// SendRate).
	Stats func() *netcode.Stats
	// Close, when set, closes the connection.
	Close func()
	// Retries counts the sends refused this round.
	Retries int64
}

// TputDial connects the sender of a transport that TputSender does not
// know; nil, nil when it knows none either. It blocks.
type TputDial func(spec Spec) (*TputConn, error)

// TputSender is the helper process of a throughput session ("tput"): it
// connects (dial for transports it does not know; may be nil), says it is
// ready, then for each "go N ROUND" sends N messages and three end
// markers and replies with what it sent and allocated. It returns nil
// when stdin closes.
func TputSender(spec Spec, hio *HelperIO, dial TputDial) error {
	var c *TputConn
	var err error
	switch spec.Transport {
	case "udp":
		c, err = dialTputUDP(spec)
	case "netcode":
		c, err = dialTputNetcode(spec)
	case "engine":
		c, err = dialTputEngine(spec)
	default:
		if dial != nil {
			c, err = dial(spec)
		}
		if c == nil && err == nil {
			err = fmt.Errorf("unknown transport %q", spec.Transport)
		}
	}
	if err != nil {
		return err
	}
	if c.Close != nil {
		defer c.Close()
	}
	flush := c.Flush
	if flush == nil {
		flush = func() {}
	}
	every := max(1, 4*1100/spec.Size) // messages per flush: ~4 datagrams
	hio.Reply(Reply{Ready: true})
	for {
		cmd, err := hio.Next()
		if err != nil {
			return nil // the benchmark is done with us
		}
		var n int
		if _, err := fmt.Sscanf(cmd, "go %d %d", &n, &c.Marker[1]); err != nil {
			return fmt.Errorf("bad command %q", cmd)
		}
		c.Marker[0] = 0xff
		c.Retries = 0
		a0 := HeapAllocs()
		for i := range n {
			binary.LittleEndian.PutUint64(c.Msg, uint64(i))
			if err := c.Send(false); err != nil {
				return err
			}
			if (i+1)%every == 0 {
				flush()
			}
		}
		flush()
		allocs := HeapAllocs() - a0
		for range 3 {
			if err := c.Send(true); err != nil {
				return err
			}
			flush()
		}
		var st *netcode.Stats
		if c.Stats != nil {
			st = c.Stats()
		}
		hio.Reply(Reply{Sent: int64(n), Allocs: allocs, Retries: c.Retries, Stats: st})
	}
}

// dialTputUDP is the raw UDP sender: one message per datagram, or a large
// message in datagrams of RawChunk bytes; no flow control.
func dialTputUDP(spec Spec) (*TputConn, error) {
	to, err := netip.ParseAddrPort(spec.Addr)
	if err != nil {
		return nil, err
	}
	pc, err := ListenLoopbackUDP()
	if err != nil {
		return nil, err
	}
	c := &TputConn{Msg: make([]byte, spec.Size), Marker: []byte{0xff, 0}, Close: func() { pc.Close() }}
	c.Send = func(end bool) error {
		if end {
			time.Sleep(time.Millisecond)
			_, err := pc.WriteToUDPAddrPort(c.Marker, to)
			return err
		}
		for m := c.Msg; len(m) > 0; {
			k := min(len(m), RawChunk)
			if _, err := pc.WriteToUDPAddrPort(m[:k], to); err != nil {
				return err
			}
			m = m[k:]
		}
		return nil
	}
	return c, nil
}

// dialTputNetcode is the netcode sender: Conn.Send, and on ErrQueueFull a
// Flush and a 50 µs sleep before trying again.
func dialTputNetcode(spec Spec) (*TputConn, error) {
	fp, err := netcode.ParseFingerprint(spec.FP)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := netcode.Dial(ctx, spec.Addr, &netcode.Config{Channels: []netcode.DeliveryMode{spec.Mode}},
		netcode.DialOptions{Fingerprint: fp})
	if err != nil {
		return nil, err
	}
	c := &TputConn{Msg: make([]byte, spec.Size), Marker: []byte{0xff, 0}, Flush: conn.Flush,
		Stats: func() *netcode.Stats { st := conn.Stats(); return &st }, Close: func() { conn.Close() }}
	c.Send = func(end bool) error {
		m := c.Msg
		if end {
			m = c.Marker
		}
		for {
			err := conn.Send(0, m)
			if !errors.Is(err, netcode.ErrQueueFull) {
				return err
			}
			c.Retries++
			conn.Flush()
			time.Sleep(50 * time.Microsecond)
		}
	}
	return c, nil
}

// dialTputEngine is the engine sender: Client.Send of a Blob "m" (its
// frame the message size; "end" for markers), Pump to flush, and on
// ErrQueueFull a Pump and a 50 µs sleep before trying again.
func dialTputEngine(spec Spec) (*TputConn, error) {
	cl, err := engine.Connect(spec.Target, nil)
	if err != nil {
		return nil, err
	}
	if err := WaitGreeting(cl, 20*time.Second); err != nil {
		cl.Close()
		return nil, err
	}
	data, end := NewBlob("m", spec.Size), NewBlob("end", 32)
	c := &TputConn{Msg: data.Data, Marker: end.Data, Flush: cl.Pump,
		Stats: func() *netcode.Stats { st := cl.Stats(); return &st }, Close: func() { cl.Close() }}
	c.Send = func(isEnd bool) error {
		m := data
		if isEnd {
			m = end
		}
		for {
			err := cl.Send(m, engine.Mode(spec.Mode))
			if !errors.Is(err, engine.ErrQueueFull) {
				return err
			}
			c.Retries++
			cl.Pump()
			time.Sleep(50 * time.Microsecond)
		}
	}
	return c, nil
}
