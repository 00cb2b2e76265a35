package benchmarks

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

// BenchmarkEngineTransports is what the browser path costs a game: one
// engine.Server serving native clients (netcode) and WebRTC clients
// (Server.Serve with a webrtc.Server), a native client over each, same
// process, same run. Blocks of operations alternate between the two
// clients, so both see the same moments of a shared machine. Game code is
// identical for both: HandleFunc, Send, Pump.
//
//   - latency-reliable / latency-unreliable: one 64-byte ping in flight,
//     answered by the server's handler (the server sleeps in PumpWait);
//     one op is one round trip over WebRTC. Metrics: netcode-p50-µs,
//     webrtc-p50-µs, webrtc-p99-µs, p50-ratio (webrtc/netcode).
//   - throughput-reliable: one op is one 64-byte ReliableOrdered message
//     client→server, counted by the server's handler, in rounds of 2,000
//     sent as fast as each client takes them (ErrQueueFull: Pump, sleep
//     50 µs). Metrics: netcode-msg/s, webrtc-msg/s, msg/s-ratio
//     (webrtc/netcode).
//
// Run it with
//
//	go test -run XXX -bench EngineTransports ./benchmarks
func BenchmarkEngineTransports(b *testing.B) {
	b.Run("latency-reliable", func(b *testing.B) { benchEngineTransportLatency(b, engine.ReliableOrdered) })
	b.Run("latency-unreliable", func(b *testing.B) { benchEngineTransportLatency(b, engine.Unreliable) })
	b.Run("throughput-reliable", benchEngineTransportThroughput)
}

// engineTransports is one engine server with a native and a WebRTC
// client.
type engineTransports struct {
	srv            *engine.Server
	native, webrtc *engine.Client
	stop           func()
}

func newEngineTransports(b *testing.B, setup func(srv *engine.Server)) *engineTransports {
	b.Helper()
	srv, err := engine.Listen(harness.LoopbackAddr(), nil)
	if err != nil {
		b.Fatal(err)
	}
	wcfg := webrtc.EngineConfig(webrtc.Config{IPFilter: func(a netip.Addr) bool { return a.IsLoopback() }})
	wsrv, err := webrtc.Listen(harness.LoopbackAddr(), &webrtc.ServerConfig{Config: wcfg})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Serve(wsrv); err != nil {
		b.Fatal(err)
	}
	setup(srv)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			srv.PumpWait(ctx, 0) // the server sleeps until traffic arrives
		}
	})
	e := &engineTransports{srv: srv}
	e.native = harness.ConnectEngine(b, srv.ConnectString(), nil)
	e.webrtc = harness.ConnectEngine(b, "webrtc "+wsrv.SignalURL(), &engine.ClientConfig{
		Dial: func(ctx context.Context) (netcode.Transport, error) {
			c, err := webrtc.Dial(ctx, wsrv.SignalURL(), &wcfg, webrtc.DialOptions{Fingerprint: wsrv.Fingerprint()})
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
	e.stop = func() {
		e.native.Close()
		e.webrtc.Close()
		cancel()
		wg.Wait()
		srv.Close()
	}
	return e
}

func benchEngineTransportLatency(b *testing.B, mode engine.Mode) {
	e := newEngineTransports(b, func(srv *engine.Server) { harness.EchoPings(b, srv, mode) })
	defer e.stop()
	pingNative, pingWebRTC := harness.EnginePinger(b, e.native, mode), harness.EnginePinger(b, e.webrtc, mode)
	for range harness.Warmup {
		pingNative()
		pingWebRTC()
	}
	var nrec, wrec harness.Recorder
	lost := 0
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(transportBlock, b.N-done)
		b.StopTimer()
		for range n {
			if d, ok := pingNative(); ok {
				nrec.Add(d)
			}
		}
		b.StartTimer()
		for range n {
			if d, ok := pingWebRTC(); ok {
				wrec.Add(d)
			} else {
				lost++
			}
		}
		done += n
	}
	b.StopTimer()
	b.ReportMetric(harness.Micros(nrec.Pct(0.5)), "netcode-p50-µs")
	b.ReportMetric(harness.Micros(wrec.Pct(0.5)), "webrtc-p50-µs")
	b.ReportMetric(harness.Micros(wrec.Pct(0.99)), "webrtc-p99-µs")
	harness.ReportRatio(b, harness.Ratio(float64(wrec.Pct(0.5)), float64(nrec.Pct(0.5))), "p50-ratio")
	if lost > 0 {
		b.ReportMetric(float64(lost), "webrtc-lost")
	}
}

func benchEngineTransportThroughput(b *testing.B) {
	var count [2]atomic.Int64 // messages the server's handler got, per transport
	e := newEngineTransports(b, func(srv *engine.Server) {
		engine.HandleFunc(srv, "m", func(p *engine.Peer, m harness.Blob) {
			if _, ok := p.Conn().(*webrtc.Conn); ok {
				count[1].Add(1)
			} else {
				count[0].Add(1)
			}
		})
	})
	defer e.stop()
	msg := harness.NewBlob("m", harness.MsgSize)
	sendRound := func(cl *engine.Client, idx, n int) time.Duration {
		start := time.Now()
		target := count[idx].Load() + int64(n)
		for i := 0; i < n; {
			err := cl.Send(msg)
			switch {
			case err == nil:
				i++
				if i%16 == 0 {
					cl.Pump()
				}
			case errors.Is(err, engine.ErrQueueFull):
				cl.Pump()
				time.Sleep(50 * time.Microsecond)
			default:
				b.Fatal(err)
			}
		}
		cl.Pump()
		deadline := time.Now().Add(30 * time.Second)
		for count[idx].Load() < target {
			if time.Now().After(deadline) {
				b.Fatalf("transport %d: %d of %d messages arrived", idx, count[idx].Load()-(target-int64(n)), n)
			}
			cl.Pump()
			time.Sleep(20 * time.Microsecond)
		}
		return time.Since(start)
	}
	const round = 2000
	sendRound(e.native, 0, round)
	sendRound(e.webrtc, 1, round)
	var ntime, wtime time.Duration
	sent := 0
	b.ReportAllocs()
	b.ResetTimer()
	for sent < b.N {
		n := min(round, b.N-sent)
		b.StopTimer()
		ntime += sendRound(e.native, 0, n)
		b.StartTimer()
		wtime += sendRound(e.webrtc, 1, n)
		sent += n
	}
	b.StopTimer()
	nrate := float64(sent) / ntime.Seconds()
	wrate := float64(sent) / wtime.Seconds()
	b.ReportMetric(nrate, "netcode-msg/s")
	b.ReportMetric(wrate, "webrtc-msg/s")
	harness.ReportRatio(b, harness.Ratio(wrate, nrate), "msg/s-ratio")
}
