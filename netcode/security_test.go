package netcode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// exchange checks that a message still goes from cli to srv.
func exchange(t *testing.T, cli, srv *Conn, text string) {
	t.Helper()
	if err := cli.Send(0, []byte(text)); err != nil {
		t.Fatal(err)
	}
	cli.Flush()
	var got string
	receiveUntil(t, srv, 5*time.Second, func(m Message) { got = string(m.Data) }, func() bool { return got == text })
}

// protectedCaptures returns the client's captured pumpnet packets.
func protectedCaptures(p *fakePair) [][]byte {
	var out [][]byte
	for _, b := range p.cliTap.captured() {
		if len(b) > 0 && wire.IsPumpnet(b[0]) {
			out = append(out, b)
		}
	}
	return out
}

func TestReplayedDatagramDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		p.cliTap.record = true
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "first")
		caps := protectedCaptures(p)
		if len(caps) == 0 {
			t.Fatal("nothing captured")
		}
		before := srv.Stats()
		for _, b := range caps {
			p.net.Inject(cliAddr, srvAddr, b)
		}
		time.Sleep(100 * time.Millisecond)
		after := srv.Stats()
		if got := after.DropReplay - before.DropReplay; got != uint64(len(caps)) {
			t.Fatalf("replayed %d datagrams, %d counted as replays", len(caps), got)
		}
		if m, ok := srv.Receive(); ok {
			t.Fatalf("replay delivered %q again", m.Data)
		}
		exchange(t, cli, srv, "still alive")
	})
}

func TestTamperedDatagramDroppedConnectionSurvives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		p.cliTap.record = true
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "first")
		caps := protectedCaptures(p)
		b := append([]byte(nil), caps[len(caps)-1]...)
		// A packet number far ahead (so the replay check passes) and one
		// flipped ciphertext bit: authentication must fail.
		b[9] ^= 0x40
		b[len(b)-20] ^= 1
		before := srv.Stats()
		for range 5 {
			p.net.Inject(cliAddr, srvAddr, b)
			b[9]++
		}
		time.Sleep(100 * time.Millisecond)
		if got := srv.Stats().AuthFailures - before.AuthFailures; got != 5 {
			t.Fatalf("%d auth failures counted, want 5", got)
		}
		exchange(t, cli, srv, "still alive")
	})
}

func TestAuthFailureLimitCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{MaxAuthFailures: 10}, nil)
		p.cliTap.record = true
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "x")
		b := append([]byte(nil), protectedCaptures(p)[0]...)
		b[9] ^= 0x40
		for i := range 20 {
			b[12] = byte(i)
			b[len(b)-1] ^= 0xff
			p.net.Inject(cliAddr, srvAddr, b)
		}
		select {
		case <-srv.Done():
		case <-time.After(time.Second):
			t.Fatal("connection survived more auth failures than MaxAuthFailures")
		}
		var ce *CloseError
		if !errors.As(srv.Err(), &ce) || ce.Code != CodeAuthLimit {
			t.Fatalf("Err = %v", srv.Err())
		}
	})
}

func TestWrongFingerprintFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		var wrong Fingerprint
		rand.Read(wrong[:])
		_, err := p.cli.Dial(context.Background(), srvAddr, DialOptions{Fingerprint: wrong})
		if !errors.Is(err, ErrFingerprintMismatch) || !errors.Is(err, ErrHandshake) {
			t.Fatalf("Dial with a wrong fingerprint = %v", err)
		}
		if !strings.Contains(err.Error(), wrong.String()) {
			t.Fatalf("error does not name the expected fingerprint: %v", err)
		}
		// The likely cause (a server restarted with a new key) is said.
		if !strings.Contains(err.Error(), "Config.KeyFile") || !strings.Contains(err.Error(), "new connect string") {
			t.Fatalf("error does not suggest the cause: %v", err)
		}
	})
}

func TestNoVerificationModeRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		if _, err := p.cli.Dial(context.Background(), srvAddr, DialOptions{}); !errors.Is(err, ErrHandshake) {
			t.Fatalf("Dial without any verification = %v", err)
		}
		c, err := p.cli.Dial(context.Background(), srvAddr, DialOptions{InsecureAcceptAnyServer: true})
		if err != nil {
			t.Fatalf("explicitly insecure dial: %v", err)
		}
		if c.PeerFingerprint() != p.srv.Fingerprint() {
			t.Fatal("peer fingerprint not reported")
		}
	})
}

func pskConfig(key string) *Config {
	return &Config{
		PSK:         func([]byte) ([]byte, error) { return []byte(key), nil },
		PSKIdentity: []byte("player"),
	}
}

func TestPSK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, pskConfig("correct horse"), pskConfig("correct horse"))
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "psk works")
	})
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, pskConfig("correct horse"), pskConfig("battery staple"))
		_, err := p.cli.Dial(context.Background(), srvAddr, DialOptions{})
		if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "pre-shared keys") {
			t.Fatalf("wrong PSK: %v", err)
		}
		t.Logf("wrong PSK error: %v", err)
	})
}

func TestChaCha20Suite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{Suite: ChaCha20Poly1305}
		p := newFakePair(t, cfg, cfg)
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "chacha")
	})
}

// A client that sends its ClientHello and then goes silent must not delay
// a second client.
func TestStalledHandshakeDoesNotDelayOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		// The stalled client: its cookie request and first DTLS flight get
		// through, nothing after.
		n := p.net
		spc, _ := n.Listen(netip.MustParseAddrPort("10.1.0.9:5000"))
		stalledTap := &tap{PacketConn: spc, dropFrom: 2}
		stalled, err := NewEndpoint(stalledTap, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer stalled.Close()
		go stalled.Dial(context.Background(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()})
		time.Sleep(100 * time.Millisecond)
		if st := p.srv.Stats(); st.HandshakesInFlight != 1 {
			t.Fatalf("stalled handshake not in flight: %+v", st)
		}
		start := time.Now()
		srv, cli := p.connect(t)
		if el := time.Since(start); el > 100*time.Millisecond {
			t.Fatalf("second client took %v with a stalled handshake in flight", el)
		}
		if st := p.srv.Stats(); st.HandshakesInFlight != 1 {
			t.Fatalf("the stalled handshake should still be pending: %+v", st)
		}
		exchange(t, cli, srv, "unaffected")
		// The stalled one ends at the handshake timeout.
		time.Sleep(11 * time.Second)
		if st := p.srv.Stats(); st.HandshakesInFlight != 0 || st.HandshakesFailed != 1 {
			t.Fatalf("stalled handshake not cleaned up: %+v", st)
		}
	})
}

// Spoofed ClientHellos and cookie requests from 1,000 addresses create no
// handshake state; a legitimate client still connects.
func TestSpoofedHellosCreateNoState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		p.cliTap.record = true
		// Learn what a real wrapped ClientHello looks like.
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "x")
		var hello []byte
		for _, b := range p.cliTap.captured() {
			if b[0] == typeCookieDTLS {
				hello = b
				break
			}
		}
		if hello == nil {
			t.Fatal("no COOKIE_DTLS captured")
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapBefore := ms.HeapAlloc
		before := p.srv.Stats()
		bareHello := func() []byte { _, d, _ := parseCookieDTLS(hello); return d }()
		for i := range 1000 {
			if i%100 == 0 {
				time.Sleep(time.Millisecond) // let the reader drain the socket queue
			}
			from := netip.MustParseAddrPort(fmt.Sprintf("10.2.%d.%d:%d", i/250, i%250+1, 1000+i))
			p.net.Inject(from, srvAddr, hello)                    // someone else's cookie
			p.net.Inject(from, srvAddr, bareHello)                // no cookie at all
			p.net.Inject(from, srvAddr, appendCookieRequest(nil)) // stateless reply only
		}
		time.Sleep(100 * time.Millisecond)
		st := p.srv.Stats()
		if st.HandshakesInFlight != 0 || st.HandshakesStarted != before.HandshakesStarted {
			t.Fatalf("spoofed hellos created handshake state: %+v", st)
		}
		if st.DropBadCookie-before.DropBadCookie != 1000 || st.DropStrayDTLS-before.DropStrayDTLS != 1000 {
			t.Fatalf("drops not counted: %+v", st)
		}
		if st.CookiesSent-before.CookiesSent != 1000 {
			t.Fatalf("cookie replies: %d", st.CookiesSent-before.CookiesSent)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if grown := int64(ms.HeapAlloc) - int64(heapBefore); grown > 1<<20 {
			t.Fatalf("heap grew %d bytes for 3,000 spoofed datagrams", grown)
		}
		// A new legitimate client still connects.
		n2, _ := p.net.Listen(netip.MustParseAddrPort("10.1.0.3:4000"))
		other, _ := NewEndpoint(n2, nil)
		defer other.Close()
		go p.srv.Accept(context.Background())
		if _, err := other.Dial(context.Background(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()}); err != nil {
			t.Fatalf("legitimate client after the flood: %v", err)
		}
	})
}

// One address may not fail handshakes without limit: after
// MaxFailedHandshakesPerIP failures in a minute it starts no more (the
// completed handshake it made first does not count).
func TestPerAddressAttemptLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{MaxFailedHandshakesPerIP: 3}, nil)
		p.cliTap.record = true
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "x")
		var hello []byte
		for _, b := range p.cliTap.captured() {
			if b[0] == typeCookieDTLS {
				hello = b
				break
			}
		}
		before := p.srv.Stats()
		// Replays of a valid wrapped ClientHello from the client's own
		// address: each would start a handshake once the previous ended.
		for range 5 {
			p.net.Inject(cliAddr, srvAddr, hello)
			time.Sleep(11 * time.Second) // let each attempt time out
		}
		st := p.srv.Stats()
		if started := st.HandshakesStarted - before.HandshakesStarted; started != 3 {
			t.Fatalf("%d more handshakes started from one address, want 3 (limit 3 failures per minute): %+v", started, st)
		}
		if st.DropAddrLimit == before.DropAddrLimit {
			t.Fatal("address limit drops not counted")
		}
	})
}
