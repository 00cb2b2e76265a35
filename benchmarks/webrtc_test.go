package benchmarks

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

// transportConn is what the comparison uses of a connection: the method
// set netcode.Conn and webrtc.Conn share, less their Message types.
type transportConn struct {
	send    func(ch uint8, msg []byte) error
	flush   func()
	receive func() bool
	wake    <-chan struct{}
	close   func()
}

// BenchmarkWebRTC compares a native client over WebRTC data channels
// (the webrtc package, pion/webrtc v4: SCTP over DTLS over UDP, ICE-lite
// server) with one over netcode, same machine, same process, same run:
// each block of 500 operations on one transport comes right after a block
// on the other, so both see the same moments of a shared machine.
//
//   - latency-reliable / latency-unreliable: one 64-byte ping in flight,
//     echoed by a server goroutine that sleeps on Wake; one op is one round
//     trip on each transport. Metrics: netcode-p50-µs, webrtc-p50-µs,
//     webrtc-p99-µs, p50-ratio (webrtc/netcode), webrtc-allocs/msg
//     (whole process, both ends, per message; a round trip is two).
//   - throughput-reliable: one op is one 64-byte message client→server
//     on a ReliableOrdered channel, in rounds of 2,000 sent as fast as
//     each transport takes them (ErrQueueFull: Flush, sleep 50 µs).
//     Metrics: netcode-msg/s, webrtc-msg/s, msg/s-ratio (webrtc/netcode).
//
// Run it with
//
//	go test -run XXX -bench WebRTC ./benchmarks
func BenchmarkWebRTC(b *testing.B) {
	b.Run("latency-reliable", func(b *testing.B) { benchTransportLatency(b, netcode.ReliableOrdered, webrtc.ReliableOrdered) })
	b.Run("latency-unreliable", func(b *testing.B) { benchTransportLatency(b, netcode.Unreliable, webrtc.Unreliable) })
	b.Run("throughput-reliable", benchTransportThroughput)
}

// transportPair connects a netcode client and a WebRTC client to echoing
// servers (echo false: the servers count instead) and returns both.
func transportPair(b *testing.B, nm netcode.DeliveryMode, wm webrtc.DeliveryMode, echo bool, count *countingSink) (nc, wc transportConn, stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	stops := []func(){}

	ncfg := &netcode.Config{Channels: []netcode.DeliveryMode{nm}}
	nsrv, err := netcode.Listen(harness.LoopbackAddr(), ncfg)
	if err != nil {
		b.Fatal(err)
	}
	wg.Add(1)
	nAccepted := make(chan struct{})
	go func() {
		defer wg.Done()
		c, err := nsrv.Accept(ctx)
		close(nAccepted)
		if err != nil {
			return
		}
		serveEcho(c.Wake(), c.Done(), func() bool {
			m, ok := c.Receive()
			if ok {
				if echo {
					c.Send(m.Channel, m.Data)
				} else {
					count.add(0)
				}
			}
			return ok
		}, c.Flush)
	}()
	ncl, err := netcode.Dial(ctx, nsrv.AddrPort().String(), ncfg, netcode.DialOptions{Fingerprint: nsrv.Fingerprint()})
	if err != nil {
		b.Fatal(err)
	}
	stops = append(stops, func() { ncl.Close(); nsrv.Close() })
	nc = transportConn{
		send: ncl.Send, flush: ncl.Flush, wake: ncl.Wake(), close: func() { ncl.Close() },
		receive: func() bool { _, ok := ncl.Receive(); return ok },
	}

	wcfg := webrtc.Config{Channels: []webrtc.DeliveryMode{wm}, IPFilter: func(a netip.Addr) bool { return a.IsLoopback() }}
	wsrv, err := webrtc.Listen(harness.LoopbackAddr(), &webrtc.ServerConfig{Config: wcfg})
	if err != nil {
		b.Fatal(err)
	}
	wg.Add(1)
	wAccepted := make(chan struct{})
	go func() {
		defer wg.Done()
		c, err := wsrv.Accept(ctx)
		close(wAccepted)
		if err != nil {
			return
		}
		serveEcho(c.Wake(), c.Done(), func() bool {
			m, ok := c.Receive()
			if ok {
				if echo {
					c.Send(m.Channel, m.Data)
				} else {
					count.add(1)
				}
			}
			return ok
		}, c.Flush)
	}()
	wcl, err := webrtc.Dial(ctx, wsrv.SignalURL(), &wcfg, webrtc.DialOptions{Fingerprint: wsrv.Fingerprint()})
	if err != nil {
		b.Fatal(err)
	}
	stops = append(stops, func() { wcl.Close(); wsrv.Close() })
	wc = transportConn{
		send: wcl.Send, flush: wcl.Flush, wake: wcl.Wake(), close: func() { wcl.Close() },
		receive: func() bool { _, ok := wcl.Receive(); return ok },
	}
	// ctx ends when this returns: both servers must have accepted by then
	// (a WebRTC connection reaches Accept about when Dial returns, and an
	// Accept cancelled before it left the server reading nothing).
	<-nAccepted
	<-wAccepted
	return nc, wc, func() {
		for _, s := range stops {
			s()
		}
		wg.Wait()
	}
}

// serveEcho drains a connection whenever it wakes, until it ends.
func serveEcho(wake, done <-chan struct{}, receive func() bool, flush func()) {
	for {
		select {
		case <-wake:
		case <-done:
			return
		}
		for receive() {
		}
		flush()
	}
}

// countingSink counts messages the servers received, per transport.
type countingSink struct {
	mu     sync.Mutex
	n      [2]int
	signal chan struct{}
}

func (c *countingSink) add(i int) {
	c.mu.Lock()
	c.n[i]++
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *countingSink) get(i int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[i]
}

// roundTrip sends one ping and waits for its echo (a second at most).
func roundTrip(b *testing.B, c transportConn, msg []byte, timeout *time.Timer) (time.Duration, bool) {
	start := time.Now()
	if err := c.send(0, msg); err != nil {
		b.Fatal(err)
	}
	c.flush()
	timeout.Reset(time.Second)
	for {
		select {
		case <-c.wake:
		case <-timeout.C:
			return 0, false
		}
		if c.receive() {
			return time.Since(start), true
		}
	}
}

const transportBlock = 500

func benchTransportLatency(b *testing.B, nm netcode.DeliveryMode, wm webrtc.DeliveryMode) {
	nc, wc, stop := transportPair(b, nm, wm, true, nil)
	defer stop()
	msg := make([]byte, harness.MsgSize)
	timeout := time.NewTimer(time.Hour)
	for range harness.Warmup {
		roundTrip(b, nc, msg, timeout)
		roundTrip(b, wc, msg, timeout)
	}
	var nrec, wrec harness.Recorder
	lost := 0
	var allocs uint64
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(transportBlock, b.N-done)
		b.StopTimer()
		for range n {
			if d, ok := roundTrip(b, nc, msg, timeout); ok {
				nrec.Add(d)
			}
		}
		a0 := harness.HeapAllocs()
		b.StartTimer()
		for range n {
			if d, ok := roundTrip(b, wc, msg, timeout); ok {
				wrec.Add(d)
			} else {
				lost++
			}
		}
		allocs += harness.HeapAllocs() - a0
		done += n
	}
	b.StopTimer()
	b.ReportMetric(harness.Micros(nrec.Pct(0.5)), "netcode-p50-µs")
	b.ReportMetric(harness.Micros(wrec.Pct(0.5)), "webrtc-p50-µs")
	b.ReportMetric(harness.Micros(wrec.Pct(0.99)), "webrtc-p99-µs")
	harness.ReportRatio(b, harness.Ratio(float64(wrec.Pct(0.5)), float64(nrec.Pct(0.5))), "p50-ratio")
	b.ReportMetric(float64(allocs)/float64(2*b.N), "webrtc-allocs/msg")
	if lost > 0 {
		b.ReportMetric(float64(lost), "webrtc-lost")
	}
}

// sendRound sends n messages as fast as c takes them and waits until the
// server counted them all.
func sendRound(b *testing.B, c transportConn, sink *countingSink, idx, n int, msg []byte) time.Duration {
	start := time.Now()
	target := sink.get(idx) + n
	for i := 0; i < n; {
		err := c.send(0, msg)
		switch {
		case err == nil:
			i++
			if i%16 == 0 {
				c.flush()
			}
		case errors.Is(err, netcode.ErrQueueFull) || errors.Is(err, webrtc.ErrQueueFull):
			c.flush()
			time.Sleep(50 * time.Microsecond)
		default:
			b.Fatal(err)
		}
	}
	c.flush()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for sink.get(idx) < target {
		select {
		case <-sink.signal:
		case <-deadline.C:
			b.Fatalf("transport %d: %d of %d messages arrived", idx, sink.get(idx)-(target-n), n)
		}
	}
	return time.Since(start)
}

func benchTransportThroughput(b *testing.B) {
	sink := &countingSink{signal: make(chan struct{}, 1)}
	nc, wc, stop := transportPair(b, netcode.ReliableOrdered, webrtc.ReliableOrdered, false, sink)
	defer stop()
	msg := make([]byte, harness.MsgSize)
	const round = 2000
	sendRound(b, nc, sink, 0, round, msg)
	sendRound(b, wc, sink, 1, round, msg)
	var ntime, wtime time.Duration
	sent := 0
	b.ReportAllocs()
	b.ResetTimer()
	for sent < b.N {
		n := min(round, b.N-sent)
		b.StopTimer()
		ntime += sendRound(b, nc, sink, 0, n, msg)
		b.StartTimer()
		wtime += sendRound(b, wc, sink, 1, n, msg)
		sent += n
	}
	b.StopTimer()
	nrate := float64(sent) / ntime.Seconds()
	wrate := float64(sent) / wtime.Seconds()
	b.ReportMetric(nrate, "netcode-msg/s")
	b.ReportMetric(wrate, "webrtc-msg/s")
	harness.ReportRatio(b, harness.Ratio(wrate, nrate), "msg/s-ratio")
}
