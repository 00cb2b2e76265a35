package netcode

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// fakeHello returns the bare DTLS ClientHello a real client sends, from a
// connection made on the pair's in-memory network.
func fakeHello(t *testing.T, p *fakePair) []byte {
	t.Helper()
	p.cliTap.record = true
	srv, cli := p.connect(t)
	exchange(t, cli, srv, "x")
	_, bare, err := parseCookieDTLS(capturedHello(t, p))
	if err != nil {
		t.Fatal(err)
	}
	return bare
}

func TestIsClientHello(t *testing.T) {
	var hello []byte
	synctest.Test(t, func(t *testing.T) { hello = fakeHello(t, newFakePair(t, nil, nil)) })
	if !isClientHello(hello) {
		t.Fatalf("a real ClientHello was refused: % x", hello)
	}
	for n := range len(hello) {
		if isClientHello(hello[:n]) {
			t.Fatalf("a ClientHello truncated to %d of %d bytes passed", n, len(hello))
		}
	}
	mutate := func(name string, f func(b []byte)) {
		b := append([]byte(nil), hello...)
		f(b)
		if isClientHello(b) {
			t.Errorf("%s passed", name)
		}
	}
	mutate("content type 23", func(b []byte) { b[0] = 23 })
	mutate("epoch 1", func(b []byte) { b[4] = 1 })
	mutate("record version 3.3", func(b []byte) { b[1], b[2] = 3, 3 })
	mutate("ServerHello", func(b []byte) { b[13] = 2 })
	mutate("a fragment", func(b []byte) { b[13+11]-- })
	mutate("fragment offset 1", func(b []byte) { b[13+8] = 1 })
	mutate("session_id of 33 bytes", func(b []byte) { b[13+12+2+32] = 33 })
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		g := make([]byte, rng.IntN(1200))
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		if len(g) > 0 {
			g[0] = dtlsContentHandshake
		}
		if isClientHello(g) {
			t.Fatalf("random bytes passed: % x", g)
		}
		isClientSecondFlight(g) // must not panic
	}
	if isClientSecondFlight(hello) {
		t.Error("a ClientHello counted as the client's second flight")
	}
}

func FuzzIsClientHello(f *testing.F) {
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		isClientHello(b)
		isClientSecondFlight(b)
	})
}

func TestSourceOf(t *testing.T) {
	same := [][2]string{
		{"192.0.2.1", "::ffff:192.0.2.1"},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
	}
	for _, c := range same {
		if a, b := sourceOf(netip.MustParseAddr(c[0])), sourceOf(netip.MustParseAddr(c[1])); a != b {
			t.Errorf("%s and %s are different sources (%v, %v)", c[0], c[1], a, b)
		}
	}
	diff := [][2]string{
		{"192.0.2.1", "192.0.2.2"},
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
	}
	for _, c := range diff {
		if a, b := sourceOf(netip.MustParseAddr(c[0])), sourceOf(netip.MustParseAddr(c[1])); a == b {
			t.Errorf("%s and %s are the same source %v", c[0], c[1], a)
		}
	}
}

// cookieFrom does the cookie exchange from addr on the pair's network and
// returns a COOKIE_DTLS carrying dtls, as an attacker at a real address
// would.
func cookieFrom(t *testing.T, p *fakePair, addr netip.AddrPort, dtls []byte) []byte {
	t.Helper()
	c, err := p.net.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(appendCookieRequest(nil), srvAddr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := parseCookieReply(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return appendCookieDTLS(nil, ck, dtls, 1200)
}

// Per-source limits apply to the IP (IPv6: the /64), not to IP:port: many
// ports of one host, or many addresses of one /64, share
// MaxHandshakesPerIP. Garbage after a valid cookie takes no slot at all.
func TestPerSourceIPLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{MaxHandshakesPerIP: 2}, nil)
		hello := fakeHello(t, p)
		before := p.srv.Stats()
		var dgrams [][2]any
		for i := range 5 {
			v4 := netip.AddrPortFrom(netip.MustParseAddr("10.9.0.1"), uint16(6000+i))
			v6 := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:7:7::"+string(rune('1'+i))), 6000)
			dgrams = append(dgrams, [2]any{v4, cookieFrom(t, p, v4, hello)}, [2]any{v6, cookieFrom(t, p, v6, hello)})
		}
		junk := netip.MustParseAddrPort("10.9.0.2:6000")
		garbage := append([]byte{dtlsContentHandshake}, make([]byte, 300)...)
		dgrams = append(dgrams, [2]any{junk, cookieFrom(t, p, junk, garbage)})
		for _, d := range dgrams {
			p.net.Inject(d[0].(netip.AddrPort), srvAddr, d[1].([]byte))
		}
		time.Sleep(100 * time.Millisecond)
		st := p.srv.Stats()
		if n := st.HandshakesStarted - before.HandshakesStarted; n != 4 {
			t.Errorf("%d handshakes started, want 2 for the IPv4 host and 2 for the IPv6 /64", n)
		}
		if n := st.DropAddrLimit - before.DropAddrLimit; n != 6 {
			t.Errorf("%d per-IP drops, want 6", n)
		}
		if n := st.DropNotHello - before.DropNotHello; n != 1 {
			t.Errorf("%d not-a-ClientHello drops, want 1", n)
		}
		// Another host is not affected.
		n2, _ := p.net.Listen(netip.MustParseAddrPort("10.9.0.3:6000"))
		other, _ := NewEndpoint(n2, nil)
		defer other.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		go p.srv.Accept(ctx)
		if _, err := other.Dial(ctx, srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()}); err != nil {
			t.Fatalf("a client on another IP: %v", err)
		}
	})
}
