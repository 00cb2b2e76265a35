package netcode

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// testCA makes a CA and a server certificate it signed for name.
func testCA(t *testing.T, name string) (*x509.CertPool, *tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, &tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

func TestCAVerifiedMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool, cert := testCA(t, "game.example")
		p := newFakePair(t, &Config{Certificate: cert}, &Config{RootCAs: pool})
		go p.srv.Accept(t.Context())
		c, err := p.cli.Dial(t.Context(), srvAddr, DialOptions{ServerName: "game.example"})
		if err != nil {
			t.Fatalf("CA-verified dial: %v", err)
		}
		c.Close()
		// The same chain under another name must fail.
		if _, err := p.cli.Dial(t.Context(), srvAddr, DialOptions{ServerName: "other.example"}); !errors.Is(err, ErrHandshake) {
			t.Fatalf("wrong server name: %v", err)
		}
		// A self-signed server is refused in CA mode.
		q := newFakePairAt(t, netip.MustParseAddrPort("10.1.0.5:1"), netip.MustParseAddrPort("10.1.0.6:1"), nil, &Config{RootCAs: pool})
		go q.srv.Accept(t.Context())
		if _, err := q.cli.Dial(t.Context(), q.srvAddr, DialOptions{ServerName: "game.example"}); !errors.Is(err, ErrHandshake) {
			t.Fatalf("self-signed server accepted in CA mode: %v", err)
		}
	})
}

// MaxHandshakes bounds handshakes in flight: beyond it new ones are dropped
// (counted) while the handshakes in flight are young, and a newcomer takes
// the slot of one that stalled for stallAge, long before the handshake
// timeout.
func TestHandshakeCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{MaxHandshakes: 2, HandshakeTimeout: 3 * time.Second}, nil)
		stall := func(i int) {
			pc, _ := p.net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.1.2.%d:5000", i)))
			ep, err := NewEndpoint(&tap{PacketConn: pc, dropFrom: 2}, &Config{HandshakeTimeout: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ep.Close() })
			go ep.Dial(context.Background(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()})
		}
		stall(1)
		stall(2)
		time.Sleep(100 * time.Millisecond)
		if st := p.srv.Stats(); st.HandshakesInFlight != 2 {
			t.Fatalf("in flight %d, want 2", st.HandshakesInFlight)
		}
		// A third is dropped while both slots are taken by young handshakes...
		ctx, cancel := context.WithTimeout(context.Background(), stallAge/2)
		defer cancel()
		if _, err := p.cli.Dial(ctx, srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()}); err == nil {
			t.Fatal("a handshake beyond MaxHandshakes completed")
		}
		if p.srv.Stats().DropHandshakeLimit == 0 {
			t.Fatal("drops at the cap not counted")
		}
		// ...and gets in, by evicting one, once they stalled for stallAge:
		// well before their 3 s handshake timeout.
		time.Sleep(stallAge)
		go p.srv.Accept(t.Context())
		start := time.Now()
		if _, err := p.cli.Dial(t.Context(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()}); err != nil {
			t.Fatalf("dial after the stalled handshakes stalled: %v", err)
		}
		if el := time.Since(start); el > 500*time.Millisecond {
			t.Fatalf("dial took %v with only stalled handshakes in the way", el)
		}
		if st := p.srv.Stats(); st.HandshakesEvicted != 1 {
			t.Fatalf("%d handshakes evicted, want 1: %+v", st.HandshakesEvicted, st)
		}
	})
}
