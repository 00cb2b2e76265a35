package benchmarks

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// msgSize is the payload of every ping-pong message: the netcode message
// (for engine benchmarks, the engine frame) or the UDP datagram.
const msgSize = 64

// warmup is how many round trips each ping-pong makes before the timed
// ones, so that free lists and buffers of a fresh connection have grown.
const warmup = 500

// pinger makes one round trip. ok is false when the ping or the pong was
// lost (unreliable modes: after a second).
type pinger func() (rtt time.Duration, ok bool)

// BenchmarkPingPong_latency measures the round trip of a 64-byte message
// over loopback, one ping in flight at a time, both ends in this process:
//
//   - raw-udp: WriteToUDPAddrPort/ReadFromUDPAddrPort echo, the floor;
//   - raw-dtls: pion/dtls v3 records (AES-128-GCM), what decision 7 avoids;
//   - netcode-*: netcode.Conn Send+Flush, the echo side waiting on Wake;
//   - engine-*: the full engine stack: Client.Send and Pump, the server
//     sleeping in PumpWait until traffic arrives (no spinning), a typed
//     handler that answers with Peer.Send, Pump's flush, and the client
//     woken by Wake and dispatching the pong to its handler in Pump.
//
// reliable is a ReliableOrdered channel, unreliable an Unreliable one (a
// ping lost for a second is counted in "lost" and not timed). Each
// connection makes 500 untimed round trips first. The baseline runs in
// the same process, interleaved: every block of 1,000 timed round trips
// comes right after 1,000 untimed raw UDP round trips on other sockets,
// so that both see the same moments of a shared machine (raw-udp
// interleaves raw UDP with itself: a check of the method). Metrics: p50
// and p99 of the round trip in µs, p50/udp (the p50 divided by the
// baseline's p50), allocs/msg (heap
// allocations of the whole process, both ends, per message: a round trip
// is two messages; go test's allocs/op rounds down) and, for pumpnet,
// datagrams/rtt (both directions: 2 when every ACK rides on the next ping
// or pong). Run it with
//
//	go test -run XXX -bench latency ./benchmarks
func BenchmarkPingPong_latency(b *testing.B) {
	b.Run("raw-udp", func(b *testing.B) {
		ping, stop := rawUDPPinger(b)
		defer stop()
		pingLoop(b, ping, nil)
	})
	b.Run("raw-dtls", benchRawDTLS)
	b.Run("netcode-reliable", func(b *testing.B) { benchNetcode(b, netcode.ReliableOrdered) })
	b.Run("netcode-unreliable", func(b *testing.B) { benchNetcode(b, netcode.Unreliable) })
	b.Run("engine-reliable", func(b *testing.B) { benchEngine(b, engine.ReliableOrdered) })
	b.Run("engine-unreliable", func(b *testing.B) { benchEngine(b, engine.Unreliable) })
}

// pingBlock is how many round trips pingLoop makes in a row before it
// switches between the baseline and the measured ping-pong.
const pingBlock = 1000

// pingLoop warms up, then times b.N round trips in blocks of pingBlock,
// each block right after a block of raw UDP round trips (the baseline,
// untimed), and reports. datagrams, when set, counts the datagrams
// exchanged so far.
func pingLoop(b *testing.B, ping pinger, datagrams func() uint64) {
	udp, stop := rawUDPPinger(b)
	defer stop()
	for range warmup {
		udp()
		ping()
	}
	var rec, base rttRecorder
	rec.samples = make([]time.Duration, 0, b.N)
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
		for range pingBlock {
			d, _ := udp()
			base.add(d)
		}
		a0 := heapAllocs()
		b.StartTimer()
		n := min(pingBlock, b.N-done)
		for range n {
			if d, ok := ping(); ok {
				rec.add(d)
			} else {
				lost++
			}
		}
		allocs += heapAllocs() - a0
		done += n
	}
	b.StopTimer()
	reportAllocsPerMsg(b, allocs, 2*b.N)
	if datagrams != nil {
		b.ReportMetric(float64(datagrams()-d0)/float64(b.N), "datagrams/rtt")
	}
	rec.report(b, base.pct(0.5))
	if lost > 0 {
		b.ReportMetric(float64(lost), "lost")
	}
}

// udpEcho starts a raw UDP echo server on loopback and returns its address
// and a stop function.
func udpEcho(tb testing.TB) (netip.AddrPort, func()) {
	srv, err := listenLoopbackUDP()
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

// rawUDPPinger is a raw UDP ping-pong: the floor.
func rawUDPPinger(tb testing.TB) (pinger, func()) {
	addr, stopEcho := udpEcho(tb)
	cl, err := listenLoopbackUDP()
	if err != nil {
		tb.Fatal(err)
	}
	msg := make([]byte, msgSize)
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

func benchRawDTLS(b *testing.B) {
	cert, err := netcode.GenerateCertificate()
	if err != nil {
		b.Fatal(err)
	}
	opts := []dtls.Option{
		dtls.WithCertificates(cert),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
	}
	so := make([]dtls.ServerOption, len(opts))
	co := make([]dtls.ClientOption, len(opts))
	for i, o := range opts {
		so[i], co[i] = o, o
	}
	ln, err := dtls.ListenWithOptions(loopbackNet(), loopbackUDPAddr(), so...)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	cl, err := dtls.DialWithOptions(loopbackNet(), ln.Addr().(*net.UDPAddr), co...)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close() // before wg.Wait, after cl.Close
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.HandshakeContext(ctx); err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, msgSize)
	buf := make([]byte, 2048)
	pingLoop(b, func() (time.Duration, bool) {
		start := time.Now()
		if _, err := cl.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Read(buf); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), true
	}, nil)
}

func benchNetcode(b *testing.B, mode netcode.DeliveryMode) {
	cfg := &netcode.Config{Channels: []netcode.DeliveryMode{mode}}
	srv, err := netcode.Listen(loopbackAddr(), cfg)
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
	msg := make([]byte, msgSize)
	timeout := time.NewTimer(time.Hour)
	pingLoop(b, func() (time.Duration, bool) {
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
	}, func() uint64 { return datagrams(srv, cl.Endpoint()) })
}

// benchEngine is the ping-pong through the full engine stack.
func benchEngine(b *testing.B, mode engine.Mode) {
	srv, err := engine.Listen(loopbackAddr(), nil)
	if err != nil {
		b.Fatal(err)
	}
	// Messages are sent by pointer: a struct passed by value to Send would
	// be copied to the heap when it is converted to an interface.
	pong := newBlob("pong", msgSize)
	engine.HandleFunc(srv, "ping", func(p *engine.Peer, m blob) {
		copy(pong.Data[:8], m.Data) // echo the sequence number
		if err := p.Send(pong, mode); err != nil {
			b.Error(err)
		}
	})
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
	cl := connectEngine(b, srv.ConnectString(), nil)
	defer cl.Close()
	var want uint64
	got := false
	engine.HandleFunc(cl, "pong", func(_ *engine.Client, m blob) {
		if binary.LittleEndian.Uint64(m.Data) == want {
			got = true
		}
	})
	ping := newBlob("ping", msgSize)
	timeout := time.NewTimer(time.Hour)
	pingLoop(b, func() (time.Duration, bool) {
		want++
		binary.LittleEndian.PutUint64(ping.Data, want)
		got = false
		start := time.Now()
		if err := cl.Send(ping, mode); err != nil {
			b.Fatal(err)
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
	}, func() uint64 { return datagrams(srv.Endpoint(), cl.Conn().(*netcode.Conn).Endpoint()) })
}

// datagrams counts the datagrams two endpoints received: what went over
// the wire between them, both directions.
func datagrams(a, b *netcode.Endpoint) uint64 {
	return a.Stats().DatagramsIn + b.Stats().DatagramsIn
}
