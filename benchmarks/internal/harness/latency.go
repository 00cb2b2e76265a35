package harness

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// MsgSize is the payload of every ping-pong message: the netcode message
// (for engine benchmarks, the engine frame) or the UDP datagram.
const MsgSize = 64

// Warmup is how many round trips each ping-pong makes before the timed
// ones, so that free lists and buffers of a fresh connection have grown.
const Warmup = 500

// Pinger makes one round trip. ok is false when the ping or the pong was
// lost (unreliable modes: after a second).
type Pinger func() (rtt time.Duration, ok bool)

// PingBlock is how many round trips PingLoop makes in a row before it
// switches between the baseline and the measured ping-pong.
const PingBlock = 1000

// PingLoop warms up, then times b.N round trips of ping in blocks of
// PingBlock, each block right after a block of untimed raw UDP round
// trips on sockets of its own (the baseline), and reports allocs/msg
// (whole process, both ends, two messages a round trip), datagrams/rtt
// when datagrams (the datagrams exchanged so far) is set, p50-µs, p99-µs,
// p50/udp and lost. It returns p50/udp (0: unknown). It blocks.
func PingLoop(b *testing.B, ping Pinger, datagrams func() uint64) float64 {
	udp, stop := RawUDPPinger(b)
	defer stop()
	for range Warmup {
		udp()
		ping()
	}
	var rec, base Recorder
	rec.Samples = make([]time.Duration, 0, b.N)
	lost := 0
	var d0 uint64
	if datagrams != nil {
		d0 = datagrams()
	}
	var allocs uint64 // in the timed blocks only
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		for range PingBlock {
			d, _ := udp()
			base.Add(d)
		}
		a0 := HeapAllocs()
		b.StartTimer()
		n := min(PingBlock, b.N-done)
		for range n {
			if d, ok := ping(); ok {
				rec.Add(d)
			} else {
				lost++
			}
		}
		allocs += HeapAllocs() - a0
		done += n
	}
	b.StopTimer()
	ReportAllocsPerMsg(b, allocs, 2*b.N)
	if datagrams != nil {
		b.ReportMetric(float64(datagrams()-d0)/float64(b.N), "datagrams/rtt")
	}
	rec.Report(b, base.Pct(0.5))
	if lost > 0 {
		b.ReportMetric(float64(lost), "lost")
	}
	return Ratio(float64(rec.Pct(0.5)), float64(base.Pct(0.5)))
}

// UDPEcho starts a raw UDP echo server on loopback and returns its
// address and a stop function.
func UDPEcho(tb testing.TB) (netip.AddrPort, func()) {
	srv, err := ListenLoopbackUDP()
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return srv.LocalAddr().(*net.UDPAddr).AddrPort(), func() { srv.Close(); wg.Wait() }
}

// RawUDPPinger is a raw UDP ping-pong with an echo server of its own: the
// floor. Call the returned function to stop both.
func RawUDPPinger(tb testing.TB) (Pinger, func()) {
	addr, stopEcho := UDPEcho(tb)
	cl, err := ListenLoopbackUDP()
	if err != nil {
		tb.Fatal(err)
	}
	msg := make([]byte, MsgSize)
	buf := make([]byte, 2048)
	ping := func() (time.Duration, bool) {
		start := time.Now()
		if _, err := cl.WriteToUDPAddrPort(msg, addr); err != nil {
			tb.Fatal(err)
		}
		if _, _, err := cl.ReadFromUDPAddrPort(buf); err != nil {
			tb.Fatal(err)
		}
		return time.Since(start), true
	}
	return ping, func() { cl.Close(); stopEcho() }
}

// PingNetcode is the ping-pong over netcode.Conn (Send+Flush; the echo
// side waits on Wake) on one channel of mode, run by PingLoop; it
// returns PingLoop's p50/udp.
func PingNetcode(b *testing.B, mode netcode.DeliveryMode) float64 {
	cfg := &netcode.Config{Channels: []netcode.DeliveryMode{mode}}
	srv, err := netcode.Listen(LoopbackAddr(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := srv.Accept(ctx)
		if err != nil {
			return
		}
		// The server sleeps until traffic arrives: no spinning.
		for {
			select {
			case <-c.Wake():
			case <-c.Done():
				return
			}
			for m, ok := c.Receive(); ok; m, ok = c.Receive() {
				c.Send(m.Channel, m.Data)
			}
			c.Flush()
		}
	}()
	cl, err := netcode.Dial(ctx, srv.AddrPort().String(), cfg, netcode.DialOptions{Fingerprint: srv.Fingerprint()})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	msg := make([]byte, MsgSize)
	timeout := time.NewTimer(time.Hour)
	return PingLoop(b, func() (time.Duration, bool) {
		start := time.Now()
		if err := cl.Send(0, msg); err != nil {
			b.Fatal(err)
		}
		cl.Flush()
		timeout.Reset(time.Second)
		for {
			select {
			case <-cl.Wake():
			case <-timeout.C:
				return 0, false // unreliable: a lost ping is not resent
			}
			if _, ok := cl.Receive(); ok {
				return time.Since(start), true
			}
		}
	}, func() uint64 { return Datagrams(srv, cl.Endpoint()) })
}

// PingEngine is the ping-pong through the full engine stack, run by
// PingLoop: Client.Send and Pump, the server asleep in PumpWait until
// traffic arrives, a typed handler answering with Peer.Send, Pump's
// flush, the client woken by Wake and dispatching the pong in Pump. It
// returns PingLoop's p50/udp.
func PingEngine(b *testing.B, mode engine.Mode) float64 {
	srv, err := engine.Listen(LoopbackAddr(), nil)
	if err != nil {
		b.Fatal(err)
	}
	EchoPings(b, srv, mode)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The server sleeps until traffic arrives: no spinning.
		for ctx.Err() == nil {
			srv.PumpWait(ctx, 0)
		}
	}()
	defer func() {
		cancel()
		wg.Wait()
		srv.Close()
	}()
	cl := ConnectEngine(b, srv.ConnectString(), nil)
	defer cl.Close()
	return PingLoop(b, EnginePinger(b, cl, mode), func() uint64 { return Datagrams(srv.Endpoint(), cl.Conn().(*netcode.Conn).Endpoint()) })
}

// EchoPings makes srv answer each "ping" Blob with a "pong" carrying the
// ping's sequence number (its first 8 bytes), sent in mode.
func EchoPings(tb testing.TB, srv *engine.Server, mode engine.Mode) {
	// Messages are sent by pointer: a struct passed by value to Send would
	// be copied to the heap when it is converted to an interface.
	pong := NewBlob("pong", MsgSize)
	engine.HandleFunc(srv, "ping", func(p *engine.Peer, m Blob) {
		copy(pong.Data[:8], m.Data) // echo the sequence number
		if err := p.Send(pong, mode); err != nil {
			tb.Error(err)
		}
	})
}

// EnginePinger returns one round trip of cl to a server that EchoPings:
// a numbered ping sent in mode, then Pump until its pong. It reports false
// for a ping that got no answer within a second (an unreliable mode does
// not resend it). It registers a "pong" handler on cl.
func EnginePinger(tb testing.TB, cl *engine.Client, mode engine.Mode) func() (time.Duration, bool) {
	var want uint64
	got := false
	engine.HandleFunc(cl, "pong", func(_ *engine.Client, m Blob) {
		if binary.LittleEndian.Uint64(m.Data) == want {
			got = true
		}
	})
	ping := NewBlob("ping", MsgSize)
	timeout := time.NewTimer(time.Hour)
	return func() (time.Duration, bool) {
		want++
		binary.LittleEndian.PutUint64(ping.Data, want)
		got = false
		start := time.Now()
		if err := cl.Send(ping, mode); err != nil {
			tb.Fatal(err)
		}
		cl.Pump() // flushes
		timeout.Reset(time.Second)
		for !got {
			select {
			case <-cl.Wake():
				cl.Pump()
			case <-timeout.C:
				return 0, false // unreliable: a lost ping is not resent
			}
		}
		return time.Since(start), true
	}
}
