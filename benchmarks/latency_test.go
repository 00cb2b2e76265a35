package benchmarks

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

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
		ping, stop := harness.RawUDPPinger(b)
		defer stop()
		harness.PingLoop(b, ping, nil)
	})
	b.Run("raw-dtls", benchRawDTLS)
	b.Run("netcode-reliable", func(b *testing.B) { harness.PingNetcode(b, netcode.ReliableOrdered) })
	b.Run("netcode-unreliable", func(b *testing.B) { harness.PingNetcode(b, netcode.Unreliable) })
	b.Run("engine-reliable", func(b *testing.B) { harness.PingEngine(b, engine.ReliableOrdered) })
	b.Run("engine-unreliable", func(b *testing.B) { harness.PingEngine(b, engine.Unreliable) })
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
	ln, err := dtls.ListenWithOptions(harness.LoopbackNet(), harness.LoopbackUDPAddr(), so...)
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
	cl, err := dtls.DialWithOptions(harness.LoopbackNet(), ln.Addr().(*net.UDPAddr), co...)
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
	msg := make([]byte, harness.MsgSize)
	buf := make([]byte, 2048)
	harness.PingLoop(b, func() (time.Duration, bool) {
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
