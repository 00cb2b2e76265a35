package benchmarks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/netcode"
)

// BenchmarkHandshake measures connection setup over loopback, one at a
// time, both ends in this process. One op is one connection: a fresh
// client socket, the handshake, then both ends close.
//
//   - raw-pion-cert / raw-pion-psk: pion/dtls v3 alone, configured as
//     netcode configures it: ECDSA P-256 certificates on both sides
//     (client certificate required), the server's key pinned by
//     fingerprint, extended master secret required, the same cipher
//     suites; or ECDHE-PSK. pion's own HelloVerifyRequest cookie round
//     trip stands for netcode's cookie exchange.
//   - netcode-cert / netcode-psk: netcode.Dial to a netcode endpoint
//     (cookie exchange, the DTLS handshake through pion, key export,
//     KEYS_READY both ways: Dial returns when the connection is
//     established).
//
// On both, the client closes each connection (a server that closed at
// once could make the client's handshake fail). Identities are made once,
// outside the timed loop. The baseline is interleaved: every block of 10
// timed connections follows 10 untimed raw pion connections in the same
// mode (raw-pion is paired with itself: a check of the method). Metrics:
// conn/s (connections per second, one at a time, closing included),
// p50-µs and p99-µs of the handshake (Dial until it returns), and
// p50/pion and conn/s/pion, the ratios to the interleaved raw pion
// connections.
func BenchmarkHandshake(b *testing.B) {
	for _, mode := range []string{"cert", "psk"} {
		for _, tr := range []string{"raw-pion", "netcode"} {
			b.Run(tr+"-"+mode, func(b *testing.B) {
				base, stopBase := newDialer(b, "raw-pion", mode)
				defer stopBase()
				dial, stop := newDialer(b, tr, mode)
				defer stop()
				r, rb := handshakes(b, dial, base)
				r.report(b, rb)
			})
		}
	}
}

type hsResult struct {
	n       int
	elapsed time.Duration
	p50     time.Duration
	p99     time.Duration
}

func (r hsResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

func (r hsResult) report(b *testing.B, base hsResult) {
	b.ReportMetric(r.rate(), "conn/s")
	b.ReportMetric(harness.Micros(r.p50), "p50-µs")
	b.ReportMetric(harness.Micros(r.p99), "p99-µs")
	harness.ReportRatio(b, harness.Ratio(float64(r.p50), float64(base.p50)), "p50/pion")
	harness.ReportRatio(b, harness.Ratio(r.rate(), base.rate()), "conn/s/pion")
}

var benchPSK = []byte("pumpnet benchmark pre-shared key")

// identities are made once per process.
var identities = sync.OnceValues(func() ([2]tls.Certificate, error) {
	var ids [2]tls.Certificate
	for i := range ids {
		c, err := netcode.GenerateCertificate()
		if err != nil {
			return ids, err
		}
		ids[i] = c
	}
	return ids, nil
})

// pionOptions returns pion's options as netcode uses them (handshake.go).
func pionOptions(mode string, server bool, cert tls.Certificate, pin netcode.Fingerprint) []dtls.Option {
	opts := []dtls.Option{dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret)}
	if mode == "psk" {
		return append(opts,
			dtls.WithPSK(func([]byte) ([]byte, error) { return benchPSK, nil }),
			dtls.WithPSKIdentityHint([]byte("bench")),
			dtls.WithCipherSuites(dtls.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, dtls.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256))
	}
	opts = append(opts,
		dtls.WithCertificates(cert),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256))
	if !server {
		opts = append(opts, dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no certificate")
			}
			fp, err := netcode.FingerprintOf(raw[0])
			if err != nil {
				return err
			}
			if fp != pin {
				return errors.New("fingerprint mismatch")
			}
			return nil
		}))
	}
	return opts
}

// pionServer is a raw pion/dtls listener that completes every handshake,
// then either keeps the connection (keep) or reads from it until the
// client closes it.
type pionServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	done  int
}

func newPionServer(tb testing.TB, mode string, keep bool) (*pionServer, netcode.Fingerprint) {
	ids, err := identities()
	if err != nil {
		tb.Fatal(err)
	}
	fp, err := netcode.FingerprintOf(ids[0].Certificate[0])
	if err != nil {
		tb.Fatal(err)
	}
	var so []dtls.ServerOption
	for _, o := range pionOptions(mode, true, ids[0], fp) {
		so = append(so, o)
	}
	if mode == "cert" {
		so = append(so, dtls.WithClientAuth(dtls.RequireAnyClientCert))
	}
	ln, err := dtls.ListenWithOptions(harness.LoopbackNet(), harness.LoopbackUDPAddr(), so...)
	if err != nil {
		tb.Fatal(err)
	}
	s := &pionServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := c.(*dtls.Conn).HandshakeContext(ctx)
				s.mu.Lock()
				if err == nil {
					s.done++
				}
				if err == nil && keep {
					s.conns = append(s.conns, c)
					s.mu.Unlock()
					return
				}
				s.mu.Unlock()
				if err == nil {
					// Read until the client closes: closing first could
					// race the client's last handshake flight.
					buf := make([]byte, 1500)
					for err == nil {
						_, err = c.Read(buf)
					}
				}
				c.Close()
			}()
		}
	}()
	return s, fp
}

func (s *pionServer) established() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

func (s *pionServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// dialPion makes one raw pion connection.
func dialPion(ctx context.Context, addr *net.UDPAddr, mode string, fp netcode.Fingerprint) (*dtls.Conn, error) {
	ids, err := identities()
	if err != nil {
		return nil, err
	}
	var co []dtls.ClientOption
	for _, o := range pionOptions(mode, false, ids[1], fp) {
		co = append(co, o)
	}
	c, err := dtls.DialWithOptions(harness.LoopbackNet(), addr, co...)
	if err != nil {
		return nil, err
	}
	if err := c.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// netcodeConfig is the netcode configuration of a handshake benchmark
// (client side: the identity is made once).
func netcodeConfig(tb testing.TB, mode string, server bool) *netcode.Config {
	ids, err := identities()
	if err != nil {
		tb.Fatal(err)
	}
	if mode == "psk" {
		return &netcode.Config{PSK: func([]byte) ([]byte, error) { return benchPSK, nil }, PSKIdentity: []byte("bench")}
	}
	if server {
		return &netcode.Config{Certificate: &ids[0]}
	}
	return &netcode.Config{Certificate: &ids[1]}
}

// dialer makes one connection and returns its closer.
type dialer func() (closeConn func(), err error)

// newDialer starts a server of the given transport and mode and returns
// what dials it.
func newDialer(b *testing.B, transport, mode string) (dialer, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	switch transport {
	case "raw-pion":
		srv, fp := newPionServer(b, mode, false)
		addr := srv.ln.Addr().(*net.UDPAddr)
		return func() (func(), error) {
			c, err := dialPion(ctx, addr, mode, fp)
			if err != nil {
				return nil, err
			}
			return func() { c.Close() }, nil
		}, func() { cancel(); srv.close() }
	case "netcode":
		ep, err := netcode.Listen(harness.LoopbackAddr(), netcodeConfig(b, mode, true))
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The client closes each connection; the server's side ends
			// when its CLOSE arrives.
			for {
				if _, err := ep.Accept(ctx); err != nil {
					return
				}
			}
		}()
		cfg := netcodeConfig(b, mode, false)
		opts := netcode.DialOptions{Fingerprint: ep.Fingerprint()}
		addr := ep.AddrPort().String()
		return func() (func(), error) {
			c, err := netcode.Dial(ctx, addr, cfg, opts)
			if err != nil {
				return nil, err
			}
			return func() { c.Close() }, nil
		}, func() { cancel(); ep.Close(); wg.Wait() }
	}
	b.Fatalf("unknown transport %q", transport)
	return nil, nil
}

// hsBlock is how many connections handshakes makes in a row before it
// switches between the baseline and the measured dialer.
const hsBlock = 10

// handshakes makes b.N connections with dial (timed) in blocks of
// hsBlock, each block after as many with base (untimed).
func handshakes(b *testing.B, dial, base dialer) (r, rb hsResult) {
	var rec, recBase harness.Recorder
	rec.Samples = make([]time.Duration, 0, b.N)
	one := func(d dialer, rec *harness.Recorder) {
		t := time.Now()
		closeConn, err := d()
		if err != nil {
			b.Fatal(fmt.Errorf("handshake: %w", err))
		}
		rec.Add(time.Since(t))
		closeConn()
	}
	var elapsed, elapsedBase time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		t := time.Now()
		for range hsBlock {
			one(base, &recBase)
		}
		elapsedBase += time.Since(t)
		b.StartTimer()
		n := min(hsBlock, b.N-done)
		t = time.Now()
		for range n {
			one(dial, &rec)
		}
		elapsed += time.Since(t)
		done += n
	}
	b.StopTimer()
	r = hsResult{n: b.N, elapsed: elapsed, p50: rec.Pct(0.5), p99: rec.Pct(0.99)}
	rb = hsResult{n: len(recBase.Samples), elapsed: elapsedBase, p50: recBase.Pct(0.5), p99: recBase.Pct(0.99)}
	return r, rb
}
