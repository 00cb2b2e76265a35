package benchmarks

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/pumpnet/pumpnet/netcode"
)

// msgSize is the payload of every ping-pong message.
const msgSize = 64

// rttRecorder collects round-trip samples and reports percentiles.
type rttRecorder struct{ samples []time.Duration }

func (r *rttRecorder) add(d time.Duration) { r.samples = append(r.samples, d) }

func (r *rttRecorder) pct(p float64) time.Duration {
	if len(r.samples) == 0 {
		return 0
	}
	s := slices.Clone(r.samples)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// report attaches p50/p99 and, when base > 0, the p50 ratio to the baseline.
func (r *rttRecorder) report(b *testing.B, base time.Duration) {
	p50 := r.pct(0.50)
	b.ReportMetric(us(p50), "p50-µs")
	b.ReportMetric(us(r.pct(0.99)), "p99-µs")
	if base > 0 {
		b.ReportMetric(float64(p50)/float64(base), "p50/udp")
	}
}

// udpEcho starts a raw UDP echo server on 127.0.0.1 and returns its address
// and a stop function.
func udpEcho(tb testing.TB) (netip.AddrPort, func()) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
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

// rawUDPRTT measures n round trips of a raw UDP ping-pong: the floor.
func rawUDPRTT(tb testing.TB, n int, rec *rttRecorder) {
	addr, stop := udpEcho(tb)
	defer stop()
	cl, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	msg := make([]byte, msgSize)
	buf := make([]byte, 2048)
	for range n {
		start := time.Now()
		if _, err := cl.WriteToUDPAddrPort(msg, addr); err != nil {
			tb.Fatal(err)
		}
		if _, _, err := cl.ReadFromUDPAddrPort(buf); err != nil {
			tb.Fatal(err)
		}
		rec.add(time.Since(start))
	}
}

var (
	baseOnce sync.Once
	baseP50  time.Duration
)

// udpBaseline is the raw UDP p50, measured once per benchmark process so
// that every ratio in one run shares the same floor.
func udpBaseline(b *testing.B) time.Duration {
	baseOnce.Do(func() {
		var rec rttRecorder
		rawUDPRTT(b, 20000, &rec)
		baseP50 = rec.pct(0.5)
	})
	return baseP50
}

// BenchmarkPingPong_latency measures the round trip of a 64-byte message
// over loopback: raw UDP (the floor), raw pion/dtls v3 records, and pumpnet
// netcode with a reliable and an unreliable channel. Run it with
//
//	go test -run XXX -bench latency ./benchmarks
func BenchmarkPingPong_latency(b *testing.B) {
	b.Run("raw-udp", func(b *testing.B) {
		var rec rttRecorder
		b.ReportAllocs()
		b.ResetTimer()
		rawUDPRTT(b, b.N, &rec)
		rec.report(b, udpBaseline(b))
	})
	b.Run("raw-dtls", func(b *testing.B) { benchRawDTLS(b) })
	b.Run("netcode-reliable", func(b *testing.B) { benchNetcode(b, netcode.ReliableOrdered) })
	b.Run("netcode-unreliable", func(b *testing.B) { benchNetcode(b, netcode.Unreliable) })
}

func benchRawDTLS(b *testing.B) {
	base := udpBaseline(b)
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
	ln, err := dtls.ListenWithOptions("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, so...)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
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
	cl, err := dtls.DialWithOptions("udp4", ln.Addr().(*net.UDPAddr), co...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.HandshakeContext(ctx); err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, msgSize)
	buf := make([]byte, 2048)
	var rec rttRecorder
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := cl.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Read(buf); err != nil {
			b.Fatal(err)
		}
		rec.add(time.Since(start))
	}
	b.StopTimer()
	rec.report(b, base)
	cl.Close()
	ln.Close()
	wg.Wait()
}

func benchNetcode(b *testing.B, mode netcode.DeliveryMode) {
	base := udpBaseline(b)
	cfg := &netcode.Config{Channels: []netcode.DeliveryMode{mode}}
	srv, err := netcode.Listen("127.0.0.1:0", cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
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
	msg := make([]byte, msgSize)
	var rec rttRecorder
	rec.samples = make([]time.Duration, 0, b.N)
	lost := 0
	timeout := time.NewTimer(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := cl.Send(0, msg); err != nil {
			b.Fatal(err)
		}
		cl.Flush()
		timeout.Reset(time.Second)
		got := false
		for !got {
			select {
			case <-cl.Wake():
			case <-timeout.C:
				lost++ // unreliable: a lost ping is not resent
				got = true
				continue
			}
			if _, ok := cl.Receive(); ok {
				got = true
				rec.add(time.Since(start))
			}
		}
	}
	b.StopTimer()
	rec.report(b, base)
	if lost > 0 {
		b.ReportMetric(float64(lost), "lost")
	}
	cl.Close()
	srv.Close()
	wg.Wait()
}
