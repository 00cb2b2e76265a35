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
// outside the timed loop. Metrics: conn/s
// (connections per second, one at a time), p50-µs and p99-µs of the
// handshake (Dial until it returns), and p50/pion and conn/s/pion, the
// ratios to raw pion in the same mode in the same run.
func BenchmarkHandshake(b *testing.B) {
	for _, mode := range []string{"cert", "psk"} {
		b.Run("raw-pion-"+mode, func(b *testing.B) {
			r := handshakes(b, "pion", mode, b.N)
			setBaseline("hs-pion-"+mode, r)
			r.report(b, r)
		})
		b.Run("netcode-"+mode, func(b *testing.B) {
			base := baseline("hs-pion-"+mode, func() hsResult { return handshakes(b, "pion", mode, 300) })
			handshakes(b, "netcode", mode, b.N).report(b, base)
		})
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
	b.ReportMetric(us(r.p50), "p50-µs")
	b.ReportMetric(us(r.p99), "p99-µs")
	reportRatio(b, ratio(float64(r.p50), float64(base.p50)), "p50/pion")
	reportRatio(b, ratio(r.rate(), base.rate()), "conn/s/pion")
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
	ln, err := dtls.ListenWithOptions("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, so...)
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
	c, err := dtls.DialWithOptions("udp4", addr, co...)
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

// handshakes makes n connections one after the other.
func handshakes(b *testing.B, transport, mode string, n int) hsResult {
	var rec rttRecorder
	rec.samples = make([]time.Duration, 0, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var dial func() (func(), error)
	switch transport {
	case "pion":
		srv, fp := newPionServer(b, mode, false)
		defer srv.close()
		addr := srv.ln.Addr().(*net.UDPAddr)
		dial = func() (func(), error) {
			c, err := dialPion(ctx, addr, mode, fp)
			if err != nil {
				return nil, err
			}
			return func() { c.Close() }, nil
		}
	case "netcode":
		ep, err := netcode.Listen("127.0.0.1:0", netcodeConfig(b, mode, true))
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		defer wg.Wait()
		defer ep.Close() // before wg.Wait: it ends Accept
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
		dial = func() (func(), error) {
			c, err := netcode.Dial(ctx, addr, cfg, opts)
			if err != nil {
				return nil, err
			}
			return func() { c.Close() }, nil
		}
	default:
		b.Fatalf("unknown transport %q", transport)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range n {
		t := time.Now()
		closeConn, err := dial()
		if err != nil {
			b.Fatal(fmt.Errorf("%s %s handshake: %w", transport, mode, err))
		}
		rec.add(time.Since(t))
		closeConn()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	return hsResult{n: n, elapsed: elapsed, p50: rec.pct(0.5), p99: rec.pct(0.99)}
}
