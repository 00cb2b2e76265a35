package netcode

// Attack tests (issue 8). Each one runs an attack while a legitimate client
// of the same server keeps exchanging messages (a probe: a message every
// 20 ms, echoed by the server), and asserts that the probe's round trips
// stay within a bound of what they were before the attack.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// probe measures round trips of a legitimate client while an attack runs:
// the client sends a timestamped message every interval on channel 0, the
// server echoes it.
type probe struct {
	t        *testing.T
	cli, srv *Conn
	stop     chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	rtts  []time.Duration
	sent  int
	mark  int // index of rtts where the current phase starts
	sentM int
	fail  error
}

func startProbe(t *testing.T, cli, srv *Conn, every time.Duration) *probe {
	p := &probe{t: t, cli: cli, srv: srv, stop: make(chan struct{})}
	p.wg.Add(2)
	go func() { // the server's game loop: echo
		defer p.wg.Done()
		for {
			select {
			case <-p.stop:
				return
			case <-srv.Wake():
			}
			for m, ok := srv.Receive(); ok; m, ok = srv.Receive() {
				if err := srv.Send(m.Channel, m.Data); err != nil {
					p.setFail(fmt.Errorf("server echo: %w", err))
				}
			}
			srv.Flush()
		}
	}()
	go func() { // the client's game loop
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				b := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
				if err := cli.Send(0, b); err != nil {
					p.setFail(fmt.Errorf("client send: %w", err))
				}
				cli.Flush()
				p.mu.Lock()
				p.sent++
				p.mu.Unlock()
			case <-cli.Wake():
			}
			now := time.Now()
			for m, ok := cli.Receive(); ok; m, ok = cli.Receive() {
				if len(m.Data) != 8 {
					continue
				}
				rtt := now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(m.Data))))
				p.mu.Lock()
				p.rtts = append(p.rtts, rtt)
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *probe) setFail(err error) {
	p.mu.Lock()
	if p.fail == nil {
		p.fail = err
	}
	p.mu.Unlock()
}

// probePhase summarises the round trips of one phase.
type probePhase struct {
	sent, got      int
	p50, p99, maxD time.Duration
}

func (s probePhase) String() string {
	return fmt.Sprintf("%d/%d answered, p50 %v, p99 %v, max %v", s.got, s.sent, s.p50, s.p99, s.maxD)
}

// phase returns the round trips since the previous call and starts a new
// phase.
func (p *probe) phase() probePhase {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := slices.Clone(p.rtts[p.mark:])
	s := probePhase{sent: p.sent - p.sentM, got: len(r)}
	p.mark, p.sentM = len(p.rtts), p.sent
	slices.Sort(r)
	if len(r) > 0 {
		s.p50, s.p99, s.maxD = r[len(r)/2], r[min(len(r)-1, len(r)*99/100)], r[len(r)-1]
	}
	return s
}

// stopProbe stops the loops and returns the last phase.
func (p *probe) stopProbe() probePhase {
	time.Sleep(200 * time.Millisecond) // answers to the last probes
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	err := p.fail
	p.mu.Unlock()
	if err != nil {
		p.t.Errorf("legitimate client: %v", err)
	}
	return p.phase()
}

// checkProbe fails the test unless the legitimate client's round trips
// during an attack stayed within extra of the baseline's maximum, and
// nearly every probe (all but 2, which may be in flight at a phase
// boundary) was answered.
func checkProbe(t *testing.T, what string, base, attack probePhase, extra time.Duration) {
	t.Helper()
	checkProbeP99(t, what, base, attack, extra, extra)
}

// checkProbeP99 is checkProbe with separate bounds on the 99th percentile
// and on the maximum (real-time tests, where the attacker, the server and
// the client share the machine's cores).
func checkProbeP99(t *testing.T, what string, base, attack probePhase, p99Extra, maxExtra time.Duration) {
	t.Helper()
	t.Logf("legitimate client before: %v; during %s: %v", base, what, attack)
	if attack.sent == 0 || attack.got+2 < attack.sent {
		t.Errorf("legitimate client starved during %s: %v", what, attack)
	}
	if attack.p99 > base.p99+p99Extra {
		t.Errorf("legitimate client's round trips during %s: p99 %v, bound %v (baseline p99 %v + %v)",
			what, attack.p99, base.p99+p99Extra, base.p99, p99Extra)
	}
	if attack.maxD > base.maxD+maxExtra {
		t.Errorf("legitimate client's round trips during %s: max %v, bound %v (baseline max %v + %v)",
			what, attack.maxD, base.maxD+maxExtra, base.maxD, maxExtra)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// sealRaw sends payload from c as one authenticated packet, bypassing c's
// channel layer (the pattern of TestFragmentBombBounded): the packet is
// recorded as sent so that the peer's acknowledgements of it are legitimate.
func sealRaw(t *testing.T, c *Conn, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := make([]byte, wire.HeaderLen+len(payload)+wire.TagLen)
	copy(buf[wire.HeaderLen:], payload)
	pkt, pn, err := c.sealer.Seal(buf, c.remoteCID, buf[wire.HeaderLen:wire.HeaderLen+len(payload)])
	if err != nil {
		t.Errorf("seal: %v", err)
		return
	}
	_ = c.sent.Sent(pn, time.Now(), len(pkt), true, nil)
	_ = c.ep.writeTo(pkt, c.raddr)
}

// capturedHello returns a COOKIE_DTLS datagram carrying a real ClientHello
// from the pair's recorded client traffic.
func capturedHello(t *testing.T, p *fakePair) []byte {
	t.Helper()
	for _, b := range p.cliTap.captured() {
		if b[0] == typeCookieDTLS {
			return b
		}
	}
	t.Fatal("no COOKIE_DTLS captured")
	return nil
}

// 10,000 spoofed source addresses each send a ClientHello wrapped in
// someone else's cookie, a bare ClientHello and a cookie request: no
// handshake state, no per-address state, bounded memory, a 25-byte reply
// per 64-byte request. Then 1,000 addresses that do receive (an attacker
// with a botnet, or on path) complete the cookie exchange and start real
// handshakes: the handshake slots cap at MaxHandshakes, each expires after
// HandshakeTimeout, and a new client connects once they have. Throughout,
// a connected client keeps exchanging messages.
func TestAttackSpoofedHelloFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		p.cliTap.record = true
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "x")
		hello := capturedHello(t, p)
		_, bare, err := parseCookieDTLS(hello)
		if err != nil {
			t.Fatal(err)
		}
		pr := startProbe(t, cli, srv, 20*time.Millisecond)
		time.Sleep(time.Second)
		base := pr.phase()

		spoof := func(first, n int) {
			for i := first; i < first+n; i++ {
				if i%200 == 0 {
					time.Sleep(time.Millisecond) // the reader drains the socket queue
				}
				from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i>>16), byte(i >> 8), byte(i)}), uint16(1024+i))
				p.net.Inject(from, srvAddr, hello)
				p.net.Inject(from, srvAddr, bare)
				p.net.Inject(from, srvAddr, appendCookieRequest(nil))
			}
			time.Sleep(100 * time.Millisecond)
		}
		// A first round fills the in-memory network's buffer free list, so
		// that the heap comparison sees the server, not the test network.
		spoof(20000, 1000)
		heapBefore := heapAfterGC()
		before := p.srv.Stats()
		const spoofed = 10000
		spoof(0, spoofed)
		st := p.srv.Stats()
		if st.HandshakesInFlight != 0 || st.HandshakesStarted != before.HandshakesStarted {
			t.Fatalf("spoofed hellos created handshake state: %+v", st)
		}
		if d := st.DropBadCookie - before.DropBadCookie; d != spoofed {
			t.Errorf("%d bad-cookie drops, want %d", d, spoofed)
		}
		if d := st.DropStrayDTLS - before.DropStrayDTLS; d != spoofed {
			t.Errorf("%d stray-DTLS drops, want %d", d, spoofed)
		}
		if d := st.CookiesSent - before.CookiesSent; d != spoofed {
			t.Errorf("%d cookie replies, want %d", d, spoofed)
		}
		p.srv.mu.Lock()
		attempts := len(p.srv.sources)
		p.srv.mu.Unlock()
		if attempts > 1 {
			t.Errorf("spoofed hellos created per-address state for %d addresses", attempts)
		}
		heapAfter := heapAfterGC()
		grown := int64(heapAfter) - int64(heapBefore)
		t.Logf("30,000 spoofed datagrams from 10,000 addresses: heap %+d bytes, 10,000 replies of %d bytes to requests of %d",
			grown, cookieReplyLen, cookieRequestLen)
		if grown > 1<<20 {
			t.Errorf("heap grew %d bytes for 30,000 spoofed datagrams", grown)
		}
		checkProbe(t, "10,000 spoofed hellos", base, pr.phase(), 50*time.Millisecond)

		// Addresses that can receive: 1,000 real cookie exchanges.
		const bots = 1000
		var socks []*fakenet.Conn
		for i := range bots {
			c, err := p.net.ListenQueue(netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i)}), 4000), 64)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			socks = append(socks, c)
		}
		buf := make([]byte, 2048)
		for i, c := range socks {
			c.WriteToUDPAddrPort(appendCookieRequest(nil), srvAddr)
			if i%100 == 99 {
				time.Sleep(time.Millisecond)
			}
		}
		time.Sleep(10 * time.Millisecond)
		before = p.srv.Stats()
		maxInFlight := 0
		for i, c := range socks {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal(err)
			}
			ck, err := parseCookieReply(buf[:n])
			if err != nil {
				t.Fatalf("bot %d: %v", i, err)
			}
			c.WriteToUDPAddrPort(appendCookieDTLS(nil, ck, bare, 1200), srvAddr)
			if i%50 == 49 {
				time.Sleep(time.Millisecond)
				maxInFlight = max(maxInFlight, p.srv.Stats().HandshakesInFlight)
			}
		}
		time.Sleep(100 * time.Millisecond)
		st = p.srv.Stats()
		maxInFlight = max(maxInFlight, st.HandshakesInFlight)
		t.Logf("1,000 validated hellos: %d handshakes started, at most %d in flight, %d refused by the cap",
			st.HandshakesStarted-before.HandshakesStarted, maxInFlight, st.DropHandshakeLimit-before.DropHandshakeLimit)
		if maxInFlight > 128 || st.HandshakesStarted-before.HandshakesStarted > 128 {
			t.Errorf("handshake slots exceeded: %d in flight, %d started, cap 128", maxInFlight, st.HandshakesStarted-before.HandshakesStarted)
		}
		if st.DropHandshakeLimit-before.DropHandshakeLimit < bots-128 {
			t.Errorf("only %d hellos refused by the cap", st.DropHandshakeLimit-before.DropHandshakeLimit)
		}
		checkProbe(t, "1,000 validated hellos", base, pr.phase(), 50*time.Millisecond)
		// The bots never answer: every slot frees at the handshake timeout.
		time.Sleep(11 * time.Second)
		if st := p.srv.Stats(); st.HandshakesInFlight != 0 {
			t.Fatalf("%d handshakes still in flight after the timeout", st.HandshakesInFlight)
		}
		checkProbe(t, "the bots' handshake timeouts", base, pr.stopProbe(), 50*time.Millisecond)
		opc, _ := p.net.Listen(netip.MustParseAddrPort("10.1.0.3:4000"))
		other, _ := NewEndpoint(opc, nil)
		defer other.Close()
		s2, c2 := (&fakePair{net: p.net, srv: p.srv, cli: other}).connect(t)
		exchange(t, c2, s2, "new client after the flood")
	})
}

// A flood from one real address on 127.0.0.1, through real sockets: the
// attacker gets a valid cookie (it is a real address) and sends ClientHellos
// with it, cookie requests, garbage, truncated headers and packets for
// unknown connections. The per-source-IP limits hold (MaxHandshakesPerIP in
// flight, MaxFailedHandshakesPerIP per minute), memory stays bounded, and a connected
// client's round trips stay within 50 ms (p99) and 250 ms (max) of what
// they were (100 ms and 1 s under the race detector).
func TestAttackRealSocketFloodOneAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and real time: skipped with -short")
	}
	lo := func() *net.UDPConn {
		uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return uc
	}
	// Short handshakes and few attempts per address, so that the attacker
	// runs into the per-address limit within the test.
	srvEP, err := ListenPacket(lo(), &Config{HandshakeTimeout: 500 * time.Millisecond, MaxHandshakesPerIP: 1, MaxFailedHandshakesPerIP: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer srvEP.Close()
	// A legitimate client, recorded to learn what a ClientHello looks like.
	tp := &tap{PacketConn: lo(), record: true}
	cliEP, err := NewEndpoint(tp, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cliEP.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acc := make(chan *Conn, 1)
	go func() { c, _ := srvEP.Accept(ctx); acc <- c }()
	cli, err := cliEP.Dial(ctx, srvEP.AddrPort(), DialOptions{Fingerprint: srvEP.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	srv := <-acc
	if srv == nil {
		t.Fatal("accept failed")
	}
	var bare []byte
	for _, b := range tp.captured() {
		if b[0] == typeCookieDTLS {
			_, bare, _ = parseCookieDTLS(b)
			break
		}
	}
	tp.mu.Lock()
	tp.record = false
	tp.mu.Unlock()

	pr := startProbe(t, cli, srv, 20*time.Millisecond)
	time.Sleep(time.Second)
	base := pr.phase()

	// The attacker: one socket, its own valid cookie.
	atk := lo()
	defer atk.Close()
	if _, err := atk.WriteToUDPAddrPort(appendCookieRequest(nil), srvEP.AddrPort()); err != nil {
		t.Fatal(err)
	}
	atk.SetReadDeadline(time.Now().Add(5 * time.Second))
	rb := make([]byte, 2048)
	n, _, err := atk.ReadFromUDPAddrPort(rb)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := parseCookieReply(rb[:n])
	if err != nil {
		t.Fatal(err)
	}
	// Drain what the server sends the attacker (its handshake flights), so
	// the attacker's socket buffer is not what limits anything.
	go func() {
		atk.SetReadDeadline(time.Time{})
		for {
			if _, _, err := atk.ReadFromUDPAddrPort(rb); err != nil {
				return
			}
		}
	}()
	srvCID := srv.localCID
	rng := rand.New(rand.NewPCG(3, 4))
	var kinds [][]byte
	kinds = append(kinds, appendCookieDTLS(nil, ck, bare, 1200), appendCookieRequest(nil))
	for range 8 {
		g := make([]byte, 1+rng.IntN(1400))
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		kinds = append(kinds, g)
	}
	kinds = append(kinds, []byte{0x80, 1, 2, 3}) // truncated header
	unknown := make([]byte, 200)
	unknown[0] = 0x80
	kinds = append(kinds, unknown) // unknown connection ID
	forged := make([]byte, 200)
	forged[0] = 0x80
	copy(forged[1:], srvCID[:])
	binary.BigEndian.PutUint32(forged[9:], 1<<30)
	kinds = append(kinds, forged) // the client's connection ID, garbage ciphertext

	heapBefore := heapAfterGC()
	before := srvEP.Stats()
	const rate = 5000 // datagrams per second
	const dur = 3 * time.Second
	sent, maxInFlight := 0, 0
	start := time.Now()
	for time.Since(start) < dur {
		for range rate / 100 {
			atk.WriteToUDPAddrPort(kinds[sent%len(kinds)], srvEP.AddrPort())
			sent++
		}
		maxInFlight = max(maxInFlight, srvEP.Stats().HandshakesInFlight)
		time.Sleep(10 * time.Millisecond)
	}
	attack := pr.phase()
	time.Sleep(100 * time.Millisecond)
	st := srvEP.Stats()
	grown := int64(heapAfterGC()) - int64(heapBefore)
	t.Logf("flood: %d datagrams in %v from one address; server saw %d, started %d handshakes (at most %d in flight), address-limit drops %d, backlog drops %d, bad cookies %d, no-conn drops %d, unknown %d; client conn auth failures %d; heap %+d bytes",
		sent, dur, st.DatagramsIn-before.DatagramsIn, st.HandshakesStarted-before.HandshakesStarted, maxInFlight,
		st.DropAddrLimit-before.DropAddrLimit, st.DropHandshakeBacklog-before.DropHandshakeBacklog,
		st.DropBadCookie-before.DropBadCookie, st.DropNoConn-before.DropNoConn, st.DropUnknown-before.DropUnknown,
		srv.Stats().AuthFailures, grown)
	if started := st.HandshakesStarted - before.HandshakesStarted; started > 3 {
		t.Errorf("one address started %d handshakes, limit 3 per minute", started)
	}
	if maxInFlight > 1 {
		t.Errorf("one address had %d handshakes in flight, limit 1", maxInFlight)
	}
	if st.DropAddrLimit == before.DropAddrLimit {
		t.Error("the per-address attempt limit was never exercised")
	}
	if grown > 4<<20 {
		t.Errorf("heap grew %d bytes during the flood", grown)
	}
	if err := srv.Err(); err != nil {
		t.Fatalf("the legitimate connection ended: %v", err)
	}
	p99Extra, maxExtra := 50*time.Millisecond, 250*time.Millisecond
	if raceEnabled {
		p99Extra, maxExtra = 100*time.Millisecond, time.Second
	}
	checkProbeP99(t, "a 5,000 datagram/s flood from one address", base, attack, p99Extra, maxExtra)
	pr.stopProbe()
}

// Garbage of every kind, to the server and (spoofed from the server's
// address) to the client: empty and random datagrams with every first byte,
// truncated headers, the live connection IDs with garbage ciphertext,
// unknown connection IDs, replays of every captured packet, unsolicited
// cookies. Each is counted where PROTOCOL.md says, nothing is delivered,
// memory stays bounded and the connection carries on.
func TestAttackGarbageDatagrams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		p.cliTap.record = true
		srv, cli := p.connect(t)
		exchange(t, cli, srv, "x")
		caps := protectedCaptures(p)
		p.cliTap.mu.Lock()
		p.cliTap.record = false
		p.cliTap.mu.Unlock()
		pr := startProbe(t, cli, srv, 20*time.Millisecond)
		time.Sleep(time.Second)
		base := pr.phase()
		heapBefore := heapAfterGC()
		sBefore, cBefore := p.srv.Stats(), p.cli.Stats()
		ssBefore, csBefore := srv.Stats(), cli.Stats()
		rng := rand.New(rand.NewPCG(5, 6))
		other := netip.MustParseAddrPort("10.1.0.66:6666")
		injectBoth := func(b []byte) {
			p.net.Inject(other, srvAddr, b)
			p.net.Inject(srvAddr, cliAddr, b)
		}
		var want struct{ unknown, noConn, authSrv, authCli, stray int }
		cliCID := cli.localCID
		// Empty, and random bytes behind every first byte.
		injectBoth(nil)
		want.unknown++
		for first := range 256 {
			b := make([]byte, 30+rng.IntN(1200))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			b[0] = byte(first)
			if len(b) == cookieRequestLen {
				b = b[:len(b)-1]
			}
			switch {
			case wire.IsPumpnet(b[0]):
				want.noConn++ // a random connection ID matches nothing
			case wire.IsDTLS(b[0]):
				want.stray++
			case b[0] == typeCookieDTLS:
				// a bad cookie at both
			default:
				want.unknown++ // includes unsolicited cookies and cookie requests of the wrong size
			}
			injectBoth(b)
			if first%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		// Truncated headers: every length below the minimum packet.
		for n := 1; n < wire.MinPacketLen; n++ {
			b := make([]byte, n)
			b[0] = 0x80
			if n > 9 {
				copy(b[1:], srv.localCID[:])
			}
			p.net.Inject(other, srvAddr, b)
		}
		time.Sleep(time.Millisecond)
		// Live connection IDs, packet numbers ahead, garbage ciphertext.
		const forgeries = 500
		for i := range forgeries {
			for _, c := range []struct {
				cid      wire.ConnID
				from, to netip.AddrPort
			}{{srv.localCID, cliAddr, srvAddr}, {cliCID, srvAddr, cliAddr}} {
				b := make([]byte, 60+rng.IntN(1000))
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				b[0] = 0x80 | b[0]&0x40
				copy(b[1:], c.cid[:])
				binary.BigEndian.PutUint32(b[9:], uint32(1<<20+i))
				p.net.Inject(c.from, c.to, b)
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		want.authSrv, want.authCli = forgeries, forgeries
		time.Sleep(time.Millisecond)
		// Replays of every packet the client sent so far.
		for i, b := range caps {
			p.net.Inject(cliAddr, srvAddr, b)
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		time.Sleep(100 * time.Millisecond)

		ss, cs := p.srv.Stats(), p.cli.Stats()
		sc, cc := srv.Stats(), cli.Stats()
		t.Logf("server endpoint drops: unknown %d, no conn %d, bad cookie %d, stray DTLS %d; server conn: auth %d, replay %d; client endpoint: unknown %d, no conn %d, stray %d; client conn: auth %d",
			ss.DropUnknown-sBefore.DropUnknown, ss.DropNoConn-sBefore.DropNoConn, ss.DropBadCookie-sBefore.DropBadCookie,
			ss.DropStrayDTLS-sBefore.DropStrayDTLS, sc.AuthFailures-ssBefore.AuthFailures, sc.DropReplay-ssBefore.DropReplay,
			cs.DropUnknown-cBefore.DropUnknown, cs.DropNoConn-cBefore.DropNoConn, cs.DropStrayDTLS-cBefore.DropStrayDTLS,
			cc.AuthFailures-csBefore.AuthFailures)
		check := func(what string, got uint64, want int) {
			t.Helper()
			if got != uint64(want) {
				t.Errorf("%s: %d, want %d", what, got, want)
			}
		}
		check("server DropNoConn", ss.DropNoConn-sBefore.DropNoConn, want.noConn)
		check("client DropNoConn", cs.DropNoConn-cBefore.DropNoConn, want.noConn)
		check("server DropStrayDTLS", ss.DropStrayDTLS-sBefore.DropStrayDTLS, want.stray)
		check("client DropStrayDTLS", cs.DropStrayDTLS-cBefore.DropStrayDTLS, want.stray)
		check("server DropBadCookie", ss.DropBadCookie-sBefore.DropBadCookie, 1)
		check("client DropBadCookie", cs.DropBadCookie-cBefore.DropBadCookie, 1)
		check("server DropUnknown", ss.DropUnknown-sBefore.DropUnknown, want.unknown+wire.MinPacketLen-1)
		check("client DropUnknown", cs.DropUnknown-cBefore.DropUnknown, want.unknown)
		check("server conn AuthFailures", sc.AuthFailures-ssBefore.AuthFailures, want.authSrv)
		check("client conn AuthFailures", cc.AuthFailures-csBefore.AuthFailures, want.authCli)
		check("server conn DropReplay", sc.DropReplay-ssBefore.DropReplay, len(caps))
		if grown := int64(heapAfterGC()) - int64(heapBefore); grown > 1<<20 {
			t.Errorf("heap grew %d bytes", grown)
		}
		if srv.Err() != nil || cli.Err() != nil {
			t.Fatalf("the connection ended: %v / %v", srv.Err(), cli.Err())
		}
		checkProbe(t, "garbage datagrams", base, pr.stopProbe(), 50*time.Millisecond)
		exchange(t, cli, srv, "still alive")
	})
}

// maliciousCase is an authenticated packet payload that breaks the
// protocol, and the close code the server must answer it with.
type maliciousCase struct {
	name    string
	payload func(c *Conn) []byte
	code    CloseCode
}

func fill(n int) []byte { return bytes.Repeat([]byte{0xa5}, n) }

var maliciousCases = []maliciousCase{
	{"ack for packets never sent", func(*Conn) []byte {
		return wire.AppendAck(nil, &wire.AckFrame{Largest: 1 << 40})
	}, CodeProtocolViolation},
	{"ack with a mask, beyond the largest sent", func(*Conn) []byte {
		// the server has sent this client far fewer than 10,000 packets
		return wire.AppendAck(nil, &wire.AckFrame{Largest: 10000, MaskLen: 32, Mask: [32]byte{0xff, 0xff}})
	}, CodeProtocolViolation},
	{"fragment count above the parser's bound", func(*Conn) []byte {
		return wire.AppendFragment(nil, 0, 0, 0, wire.MaxFragmentCount+1, fill(300))
	}, CodeProtocolViolation},
	{"fragment count beyond MaxMessageSize", func(*Conn) []byte {
		return wire.AppendFragment(nil, 0, 0, 0, wire.MaxFragmentCount, fill(300))
	}, CodeProtocolViolation},
	{"fragment total beyond MaxMessageSize", func(*Conn) []byte {
		return wire.AppendFragment(nil, 0, 0, 0, 100, fill(1000)) // 100 x 1000 > 64 KiB
	}, CodeProtocolViolation},
	{"unreliable fragment total beyond MaxMessageSize", func(*Conn) []byte {
		return wire.AppendFragment(nil, 1, 0, 0, 100, fill(1000))
	}, CodeProtocolViolation},
	{"fragment count 1", func(*Conn) []byte {
		b := wire.AppendFragment(nil, 0, 0, 0, 2, fill(300))
		b[4] = 1 // channel, seq, index are one byte each: byte 4 is the count
		return b
	}, CodeProtocolViolation},
	{"fragment index beyond count", func(*Conn) []byte {
		b := wire.AppendFragment(nil, 0, 0, 0, 2, fill(300))
		b[3] = 5
		return b
	}, CodeProtocolViolation},
	{"short non-last fragment", func(*Conn) []byte {
		return wire.AppendFragment(nil, 0, 0, 0, 3, fill(10))
	}, CodeProtocolViolation},
	{"empty fragment", func(*Conn) []byte {
		return wire.AppendFragment(nil, 0, 0, 2, 3, nil)
	}, CodeProtocolViolation},
	{"fragments of unequal sizes", func(*Conn) []byte {
		b := wire.AppendFragment(nil, 0, 0, 0, 4, fill(800))
		return wire.AppendFragment(b, 0, 0, 1, 4, fill(300))
	}, CodeProtocolViolation},
	{"fragment count changes within a message", func(*Conn) []byte {
		b := wire.AppendFragment(nil, 0, 0, 0, 4, fill(300))
		return wire.AppendFragment(b, 0, 0, 1, 5, fill(300))
	}, CodeProtocolViolation},
	{"whole message for a fragmented one", func(*Conn) []byte {
		b := wire.AppendFragment(nil, 0, 1, 0, 4, fill(300))
		return wire.AppendMessage(b, 0, 1, fill(10))
	}, CodeProtocolViolation},
	{"message on an undefined channel", func(*Conn) []byte {
		return wire.AppendMessage(nil, 9, 0, fill(10))
	}, CodeProtocolViolation},
	{"reliable sequence beyond the window", func(*Conn) []byte {
		return wire.AppendMessage(nil, 0, 5000, fill(10))
	}, CodeProtocolViolation},
	{"unknown frame type", func(*Conn) []byte {
		return []byte{byte(wire.FramePing), 0x2a, 0, 0}
	}, CodeProtocolViolation},
	{"message longer than the packet", func(*Conn) []byte {
		b := wire.AppendMessage(nil, 0, 0, fill(10))
		return b[:len(b)-3]
	}, CodeProtocolViolation},
	{"varint overflow", func(*Conn) []byte {
		return append([]byte{byte(wire.FrameMessage), 0}, bytes.Repeat([]byte{0xff}, 11)...)
	}, CodeProtocolViolation},
	{"close reason over 256 bytes", func(*Conn) []byte {
		b := []byte{byte(wire.FrameClose), 0}
		b = binary.AppendUvarint(b, 300)
		return append(b, fill(300)...)
	}, CodeProtocolViolation},
	{"keys-ready with other channel parameters", func(*Conn) []byte {
		return wire.AppendKeysReady(nil, []byte{0, 1, 3, 8, 8})
	}, CodeConfigMismatch},
}

// Authenticated peers that break the protocol in each way
// PROTOCOL.md §5 and the channel layer forbid are disconnected with a
// reason, one after the other, while a legitimate client of the same server
// carries on.
func TestAttackMaliciousPeerFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{Channels: []DeliveryMode{ReliableOrdered, Unreliable}, MaxMessageSize: 64 << 10, RecvBufferBytes: 256 << 10}
		p := newFakePair(t, cfg, cfg)
		srv, cli := p.connect(t)
		pr := startProbe(t, cli, srv, 20*time.Millisecond)
		time.Sleep(time.Second)
		base := pr.phase()
		for i, tc := range maliciousCases {
			opc, err := p.net.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 5, byte(i + 1)}), 5000))
			if err != nil {
				t.Fatal(err)
			}
			mep, err := NewEndpoint(opc, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer mep.Close()
			ms, mc := (&fakePair{net: p.net, srv: p.srv, cli: mep}).connect(t)
			sealRaw(t, mc, tc.payload(mc))
			select {
			case <-ms.Done():
			case <-time.After(2 * time.Second):
				t.Errorf("%s: the server kept the connection", tc.name)
				continue
			}
			var ce *CloseError
			if !errors.As(ms.Err(), &ce) || ce.Code != tc.code || ce.Remote || ce.Reason == "" {
				t.Errorf("%s: server side ended with %v, want a local close with code %v and a reason", tc.name, ms.Err(), tc.code)
				continue
			}
			// The offender is told why.
			select {
			case <-mc.Done():
			case <-time.After(time.Second):
				t.Errorf("%s: the offender was not told", tc.name)
				continue
			}
			if !errors.As(mc.Err(), &ce) || ce.Code != tc.code || !ce.Remote {
				t.Errorf("%s: offender saw %v", tc.name, mc.Err())
			}
			t.Logf("%s: %v", tc.name, ms.Err())
		}
		if n := p.srv.Stats().Connections; n != 1 {
			t.Errorf("%d connections left on the server, want the legitimate one", n)
		}
		checkProbe(t, "malicious peers", base, pr.stopProbe(), 50*time.Millisecond)
	})
}

// A peer that floods reliable messages. Through its own Send it is held
// back by congestion control and, when the server's game does not read its
// messages, by flow control: the server's receive buffer stays within
// RecvBufferBytes, the peer's queue within SendQueueBytes (ErrQueueFull).
// Sealing packets itself to ignore both, it can only fill its own
// connection's buffer: the excess is refused, not stored. Either way a
// legitimate client of the same server is unaffected.
func TestAttackReliableFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		modes := []DeliveryMode{ReliableOrdered, ReliableUnordered}
		const recvBuf, sendQueue = 512 << 10, 1 << 20
		cfg := &Config{Channels: modes, MaxMessageSize: 64 << 10, RecvBufferBytes: recvBuf, SendQueueBytes: sendQueue}
		p := newFakePair(t, cfg, cfg)
		srv, cli := p.connect(t)
		pr := startProbe(t, cli, srv, 20*time.Millisecond)
		time.Sleep(time.Second)
		base := pr.phase()
		heapBefore := heapAfterGC()

		opc, _ := p.net.Listen(netip.MustParseAddrPort("10.1.6.1:5000"))
		mep, err := NewEndpoint(opc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer mep.Close()
		ms, mc := (&fakePair{net: p.net, srv: p.srv, cli: mep}).connect(t)

		// 1. Send as fast as the queue takes; the server's game never reads
		// this peer.
		msg := fill(1000)
		queueFull, sent := 0, 0
		maxHeld := 0
		for i := range 5000 {
			for ch := range uint8(2) {
				if err := mc.Send(ch, msg); errors.Is(err, ErrQueueFull) {
					queueFull++
				} else if err != nil {
					t.Fatal(err)
				} else {
					sent++
				}
			}
			mc.Flush()
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
				ms.mu.Lock()
				maxHeld = max(maxHeld, ms.receiver.BufferedBytes())
				ms.mu.Unlock()
			}
		}
		time.Sleep(time.Second)
		mst := mc.Stats()
		sst := ms.Stats()
		t.Logf("flood through Send: %d queued, %d ErrQueueFull, %d bytes queued at the peer; server holds at most %d bytes (bound %d), refused %d packets",
			sent, queueFull, mst.QueuedReliableBytes, maxHeld, recvBuf, sst.RefusedPackets)
		if queueFull == 0 || mst.QueuedReliableBytes > sendQueue {
			t.Errorf("the flooding peer's queue is not bounded: %d full, %d bytes queued", queueFull, mst.QueuedReliableBytes)
		}
		if maxHeld > recvBuf || maxHeld == 0 {
			t.Errorf("server held %d bytes for the peer, bound %d", maxHeld, recvBuf)
		}
		if sst.RefusedPackets == 0 {
			t.Error("flow control never refused a packet")
		}
		checkProbe(t, "a reliable flood through Send", base, pr.phase(), 50*time.Millisecond)

		// 2. Sealed by hand, from a second connection: every sequence number
		// of the window, on both channels, over and over, ignoring
		// acknowledgements and refusals.
		opc2, _ := p.net.Listen(netip.MustParseAddrPort("10.1.6.2:5000"))
		mep2, err := NewEndpoint(opc2, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer mep2.Close()
		ms, mc = (&fakePair{net: p.net, srv: p.srv, cli: mep2}).connect(t)
		maxHeld = 0
		frag := fill(1100)
		for range 20 {
			for seq := range uint64(1024) {
				for ch := range uint8(2) {
					sealRaw(t, mc, wire.AppendMessage(nil, ch, seq, frag))
				}
				if seq%64 == 0 {
					time.Sleep(time.Millisecond)
					ms.mu.Lock()
					maxHeld = max(maxHeld, ms.receiver.BufferedBytes())
					ms.mu.Unlock()
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
		t.Logf("sealed flood: server holds at most %d bytes (bound %d), refused %d packets, connection %v",
			maxHeld, recvBuf, ms.Stats().RefusedPackets, ms.Err())
		if maxHeld > recvBuf {
			t.Errorf("server held %d bytes for the peer, bound %d", maxHeld, recvBuf)
		}
		// Both flooders' receive buffers at the server, the first one's own
		// send queue (the attacker runs in this process too), and slack.
		if grown, bound := int64(heapAfterGC())-int64(heapBefore), int64(2*recvBuf+sendQueue+1<<20); grown > bound {
			t.Errorf("heap grew %d bytes, bound %d", grown, bound)
		}
		checkProbe(t, "a sealed reliable flood", base, pr.stopProbe(), 50*time.Millisecond)
		exchange(t, cli, srv, "unaffected")
	})
}
