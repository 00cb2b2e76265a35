package lobby

// Attack tests (issue 8) at the session level: hostile advertisements,
// connections that never say hello, offers after lock, identity games.
// Throughout each, two legitimate peers of the session keep chatting.

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// hostileBackend is the in-memory registry plus records a LAN attacker
// injects straight into every browse snapshot, bypassing the TXT
// validation that real records pass through (defence in depth: the session
// must not trust its backend either).
type hostileBackend struct {
	*discovery.Memory
	mu    sync.Mutex
	extra []discovery.Record
}

func (h *hostileBackend) set(recs []discovery.Record) {
	h.mu.Lock()
	h.extra = recs
	h.mu.Unlock()
}

func (h *hostileBackend) Browse(ctx context.Context, service string, interval time.Duration) (<-chan []discovery.Record, error) {
	in, err := h.Memory.Browse(ctx, service, interval)
	if err != nil {
		return nil, err
	}
	out := make(chan []discovery.Record, 1)
	go func() {
		defer close(out)
		var last []discovery.Record
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case recs, ok := <-in:
				if !ok {
					return
				}
				last = recs
			case <-tick.C:
			case <-ctx.Done():
				for range in {
				}
				return
			}
			h.mu.Lock()
			snap := append(append([]discovery.Record(nil), last...), h.extra...)
			h.mu.Unlock()
			select {
			case <-out:
			default:
			}
			out <- snap
		}
	}()
	return out, nil
}

// joinWith is lan.join on a given backend.
func (l *lan) joinWith(b discovery.Backend, name string, mutate ...func(*Config)) *Session {
	l.t.Helper()
	l.n++
	pc, err := l.net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.5.0.%d:7000", l.n)))
	if err != nil {
		l.t.Fatal(err)
	}
	cfg := Config{DisplayName: name, ServiceType: "test-game", PollInterval: 200 * time.Millisecond}
	for _, m := range mutate {
		m(&cfg)
	}
	ep, err := netcode.ListenPacket(pc, engine.EndpointConfig(cfg.Net))
	if err != nil {
		l.t.Fatal(err)
	}
	s, err := join(l.t.Context(), cfg, ep, b)
	if err != nil {
		l.t.Fatal(err)
	}
	log := &eventLog{s: s}
	if err := s.Register(log); err != nil {
		l.t.Fatal(err)
	}
	l.sessions = append(l.sessions, s)
	l.logs[s] = log
	l.sockets[s] = pc
	return s
}

// chatter keeps two admitted peers chatting: check sends one message each
// way and fails unless both arrive within bound (virtual time), while
// pumping every session.
type chatter struct {
	l    *lan
	a, b *Session
	n    int
	max  time.Duration
}

func (c *chatter) check(what string, bound time.Duration) {
	c.l.t.Helper()
	for _, dir := range [][2]*Session{{c.a, c.b}, {c.b, c.a}} {
		from, to := dir[0], dir[1]
		p := from.Peer(to.ID())
		if p == nil {
			c.l.t.Fatalf("%s: %s lost its peer %s", what, from.Name(), to.Name())
		}
		c.n++
		text := fmt.Sprintf("ping %d", c.n)
		if err := from.Send(engine.Msg{"action": "chat", "text": text}, engine.To(p)); err != nil {
			c.l.t.Fatalf("%s: %v", what, err)
		}
		start := time.Now()
		want := from.Name() + ": " + text
		c.l.pumpUntil(10*time.Second, func() bool {
			chats := c.l.logs[to].chats
			return len(chats) > 0 && chats[len(chats)-1] == want
		})
		el := time.Since(start)
		c.max = max(c.max, el)
		if el > bound {
			c.l.t.Errorf("%s: a chat took %v, bound %v", what, el, bound)
		}
	}
}

// pumpChatting pumps for d, checking the chat every 500 ms.
func (c *chatter) pumpChatting(what string, d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		c.check(what, 100*time.Millisecond)
		c.l.pumpFor(500 * time.Millisecond)
	}
}

// highID returns an identity above any real one (0xff...ff with last byte
// i), so that sessions are the ones that dial it.
func highID(i byte) netcode.Fingerprint {
	var f netcode.Fingerprint
	for j := range f {
		f[j] = 0xff
	}
	f[len(f)-1] = i
	return f
}

// dialedID reports whether s dialed (or is dialing) id: a dial in
// progress, a failed one backing off, a retry or a connection.
func dialedID(s *Session, id netcode.Fingerprint) bool {
	for t := range s.failed {
		if t.id == id {
			return true
		}
	}
	return s.pending[id] != nil || s.retry.has(id) || s.connectedTo(id)
}

// hostileCase is a record mutation that the session must not dial.
type hostileCase struct {
	name string
	mut  func(*discovery.Record)
}

// runHostileRecords joins two peers, feeds session a the cases' records
// (each with an identity a would dial) plus extra ones, and checks that a
// dials none of them while the peers keep chatting.
func runHostileRecords(t *testing.T, cases []hostileCase, extra func(a *Session, addr []netip.Addr) []discovery.Record) {
	l := newLAN(t)
	hb := &hostileBackend{Memory: l.mem}
	a := l.joinWith(hb, "a")
	b := l.join("b")
	l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
	ch := &chatter{l: l, a: a, b: b}
	ch.check("before", 100*time.Millisecond)
	addr := []netip.Addr{netip.MustParseAddr("10.5.9.1")}
	var recs []discovery.Record
	var ids []netcode.Fingerprint
	for i, c := range cases {
		id := highID(byte(i))
		r := discovery.Record{Instance: fmt.Sprintf("evil%d", i), Addrs: addr, Port: 7000,
			ID: id.String(), Version: ProtocolVersion, Seats: 3, Name: "evil"}
		c.mut(&r)
		recs = append(recs, r)
		ids = append(ids, id)
	}
	if extra != nil {
		recs = append(recs, extra(a, addr)...)
	}
	before := l.net.Stats().DroppedNoRoute
	hb.set(recs)
	ch.pumpChatting("hostile records", 3*time.Second)
	for i, c := range cases {
		if dialedID(a, ids[i]) {
			t.Errorf("%s: the session dialed it", c.name)
		}
	}
	if dialedID(a, a.ID()) {
		t.Error("the session dialed itself")
	}
	// Nothing listens at any address the records name: a datagram sent to
	// one is a dial, whatever the session's bookkeeping says.
	if n := l.net.Stats().DroppedNoRoute - before; n != 0 {
		t.Errorf("%d datagrams sent to the addresses of hostile records", n)
	}
	if n := len(a.Peers()); n != 1 {
		t.Errorf("%d peers, want b only", n)
	}
	t.Logf("chat round trips: max %v over %d messages", ch.max, ch.n)
}

// Records a hostile backend or LAN neighbour could hand a session: bad
// identities (or its own), other protocol versions, no usable address, no
// seat. The session dials none of them and its peers carry on.
func TestAttackHostileRecordsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runHostileRecords(t, []hostileCase{
			{"other protocol version", func(r *discovery.Record) { r.Version = ProtocolVersion + 1 }},
			{"hosted server version", func(r *discovery.Record) { r.Version = HostedProtocolVersion }},
			{"negative version", func(r *discovery.Record) { r.Version = -1 }},
			{"no address", func(r *discovery.Record) { r.Addrs = nil }},
			{"invalid address", func(r *discovery.Record) { r.Addrs = []netip.Addr{{}} }},
			{"no seats", func(r *discovery.Record) { r.Seats = 0 }},
		}, func(a *Session, addr []netip.Addr) []discovery.Record {
			own := a.record()
			own.Addrs, own.Instance = addr, "evil-own"
			return []discovery.Record{
				{Instance: "evil-bad-id", Addrs: addr, Port: 7000, ID: "not a fingerprint", Version: ProtocolVersion, Seats: 3},
				{Instance: "evil-short-id", Addrs: addr, Port: 7000, ID: strings.Repeat("f", 63), Version: ProtocolVersion, Seats: 3},
				{Instance: "evil-long-id", Addrs: addr, Port: 7000, ID: strings.Repeat("f", 66), Version: ProtocolVersion, Seats: 3},
				{Instance: "evil-empty-id", Addrs: addr, Port: 7000, Version: ProtocolVersion, Seats: 3},
				own,
			}
		})
	})
}

// Port 0, addresses that are not a host (unspecified, broadcast,
// multicast) and a negative seat count: the discovery layer never lets
// such records through, but the session must not dial them either (a
// broadcast or multicast dial would spray cookie requests over the LAN).
func TestAttackUnusableRecordsNotDialed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runHostileRecords(t, []hostileCase{
			{"port 0", func(r *discovery.Record) { r.Port = 0 }},
			{"unspecified address", func(r *discovery.Record) { r.Addrs = []netip.Addr{netip.IPv4Unspecified()} }},
			{"broadcast address", func(r *discovery.Record) { r.Addrs = []netip.Addr{netip.AddrFrom4([4]byte{255, 255, 255, 255})} }},
			{"multicast address", func(r *discovery.Record) { r.Addrs = []netip.Addr{netip.MustParseAddr("224.0.0.251")} }},
			{"negative seats", func(r *discovery.Record) { r.Seats = -3 }},
		}, nil)
	})
}

// Records for identities nobody answers for, at 20 addresses a LAN
// neighbour names: the session dials each, fails, and retries only every
// few seconds, so it cannot be turned into a reflector that hammers
// addresses of the neighbour's choosing.
func TestAttackUnansweredRecordsRetriedSlowly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		hb := &hostileBackend{Memory: l.mem}
		a := l.joinWith(hb, "a")
		b := l.join("b")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		ch := &chatter{l: l, a: a, b: b}
		var recs []discovery.Record
		for i := range byte(20) {
			recs = append(recs, discovery.Record{Instance: fmt.Sprintf("ghost%d", i),
				Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, 5, 9, 10 + i})},
				Port:  7000, ID: highID(i).String(), Version: ProtocolVersion, Seats: 3})
		}
		before := l.net.Stats().DroppedNoRoute
		hb.set(recs)
		const d = 30 * time.Second
		ch.pumpChatting("20 unanswered records", d)
		n := l.net.Stats().DroppedNoRoute - before
		t.Logf("20 records naming 20 silent addresses: %d datagrams sent to them in %v (%.1f per address per second)",
			n, d, float64(n)/20/d.Seconds())
		// Each dial asks for a cookie with backoff (0.2, 0.4, ... 2 s) for
		// the 10 s handshake timeout, then waits 5 s before the next: about
		// 8 requests of 64 bytes per 15 s per address.
		if limit := uint64(20 * 25); n > limit {
			t.Errorf("%d datagrams to the named addresses in %v, bound %d", n, d, limit)
		}
		if n == 0 {
			t.Error("nothing dialed: the test does not exercise the retry")
		}
	})
}

// A LAN neighbour advertises a real peer's identity with its own address
// under an instance name that sorts first. The dial to that address fails
// the pinned-key check (no impersonation), but the session must still
// reach the real peer at its real address.
func TestAttackPoisonedRecordDoesNotBlockPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		certs := certsByIdentity(t, 3)
		low := l.join("low", func(c *Config) { c.Net.Certificate = certs[0] })
		mid := l.join("mid", func(c *Config) { c.Net.Certificate = certs[1] })
		l.pumpUntil(10*time.Second, meshComplete([]*Session{low, mid}, 2))
		ch := &chatter{l: l, a: low, b: mid}
		service, _ := discovery.ServiceName("test-game")
		// The victim: high, dialed by both. Its impostor advertises first.
		evilPC, _ := l.net.Listen(netip.MustParseAddrPort("10.5.0.250:7000"))
		evilEP, _ := netcode.ListenPacket(evilPC, engine.EndpointConfig(netcode.Config{}))
		defer evilEP.Close()
		highFP, _ := netcode.FingerprintOf(certs[2].Certificate[0])
		ad, err := l.mem.Advertise(context.Background(), service, discovery.Record{Instance: "0000", Addrs: []netip.Addr{netip.MustParseAddr("10.5.0.250")},
			Port: 7000, ID: highFP.String(), Version: ProtocolVersion, Seats: 7, Name: "high"})
		if err != nil {
			t.Fatal(err)
		}
		defer ad.Stop()
		l.pumpFor(time.Second)
		high := l.join("high", func(c *Config) { c.Net.Certificate = certs[2] })
		start := time.Now()
		for !meshComplete([]*Session{low, mid, high}, 3)() {
			if time.Since(start) > 40*time.Second {
				t.Fatalf("the real peer never joined: low has %d peers, mid %d, high %d",
					len(low.Peers()), len(mid.Peers()), len(high.Peers()))
			}
			ch.check("a poisoned record", 100*time.Millisecond)
			l.pumpFor(500 * time.Millisecond)
		}
		t.Logf("mesh complete %v after the real peer joined", time.Since(start))
		// The neighbour's address was tried (the test exercised the
		// poisoned record), failed, and the real peer was reached at its
		// own address.
		evil := netip.MustParseAddrPort("10.5.0.250:7000")
		for _, s := range []*Session{low, mid} {
			if s.failed[dialTarget{highFP, evil}].IsZero() {
				t.Errorf("%s never dialed the neighbour's address", s.Name())
			}
			if p := s.Peer(highFP); p == nil || p.Conn().RemoteAddr() != high.Addr() {
				t.Errorf("%s reached high elsewhere than at its own address", s.Name())
			}
			if r := l.logs[s].refused; len(r) != 0 {
				t.Errorf("%s reports refusals: %v", s.Name(), r)
			}
		}
	})
}

// More records a LAN neighbour advertises for a real peer's identity under
// instance labels that sort first, this time as the peer appears: one at
// the address of an endpoint with another key (its dial fails at once, the
// next target is dialed at the next Pump), one at an address where nothing
// answers (its dial waits for the 10 s handshake timeout), three such (the
// dials must take turns, or two silent records that each fail after 10 s
// with a 5 s backoff would alternate ahead of the real one forever), and
// one that says the peer has no seat open, which must not make the peer
// look full while its own record offers seats. Every time the sessions
// reach the real peer at its own address, report no refusal, and their
// peers keep chatting.
func TestAttackPoisonedRecordsAsPeerAppears(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int  // neighbour's records, at 10.5.0.250, .251, ...
		answers bool // an endpoint with another key listens at each
		seats   int
		bound   time.Duration // mesh complete within, after the peer joined
	}{
		{"another key answers", 1, true, 7, 2 * time.Second},
		{"nothing answers", 1, false, 7, 15 * time.Second},
		{"nothing answers thrice", 3, false, 7, 35 * time.Second},
		{"no seats", 1, false, 0, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				certs := certsByIdentity(t, 3)
				low := l.join("low", func(c *Config) { c.Net.Certificate = certs[0] })
				mid := l.join("mid", func(c *Config) { c.Net.Certificate = certs[1] })
				l.pumpUntil(10*time.Second, meshComplete([]*Session{low, mid}, 2))
				ch := &chatter{l: l, a: low, b: mid}
				service, _ := discovery.ServiceName("test-game")
				var evil []netip.AddrPort
				for i := range tc.n {
					evil = append(evil, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 5, 0, 250 + byte(i)}), 7000))
					if tc.answers {
						pc, _ := l.net.Listen(evil[i])
						ep, _ := netcode.ListenPacket(pc, engine.EndpointConfig(netcode.Config{}))
						defer ep.Close()
					}
				}
				highFP, _ := netcode.FingerprintOf(certs[2].Certificate[0])
				high := l.join("high", func(c *Config) { c.Net.Certificate = certs[2] })
				for i, e := range evil {
					ad, err := l.mem.Advertise(context.Background(), service, discovery.Record{Instance: fmt.Sprintf("000%d", i), Addrs: []netip.Addr{e.Addr()},
						Port: e.Port(), ID: highFP.String(), Version: ProtocolVersion, Seats: tc.seats, Name: "high"})
					if err != nil {
						t.Fatal(err)
					}
					defer ad.Stop()
				}
				start := time.Now()
				for !meshComplete([]*Session{low, mid, high}, 3)() {
					if time.Since(start) > 60*time.Second {
						t.Fatalf("the real peer never joined: low has %d peers, mid %d, high %d",
							len(low.Peers()), len(mid.Peers()), len(high.Peers()))
					}
					ch.check("poisoned records", 100*time.Millisecond)
					l.pumpFor(100 * time.Millisecond)
				}
				el := time.Since(start)
				t.Logf("mesh complete %v after the real peer joined (bound %v)", el, tc.bound)
				if el > tc.bound {
					t.Errorf("mesh complete %v after the real peer joined, bound %v", el, tc.bound)
				}
				for _, s := range []*Session{low, mid, high} {
					if r := l.logs[s].refused; len(r) != 0 {
						t.Errorf("%s reports refusals: %v", s.Name(), r)
					}
				}
				for _, s := range []*Session{low, mid} {
					// A record without seats is no dial target; the others
					// were tried first, as they sort first.
					for _, e := range evil {
						if tried := !s.failed[dialTarget{highFP, e}].IsZero(); tried != (tc.seats > 0) {
							t.Errorf("%s: dialed the neighbour's %v: %v, want %v", s.Name(), e, tried, tc.seats > 0)
						}
					}
					if p := s.Peer(highFP); p == nil || p.Conn().RemoteAddr() != high.Addr() {
						t.Errorf("%s reached high elsewhere than at its own address", s.Name())
					}
				}
				ch.check("after the mesh", 100*time.Millisecond)
			})
		})
	}
}

// A peer that completes the handshake but never sends its hello, before and
// after the session locked: it is never admitted, and its connection must
// not be held open forever (each costs the session a connection and its
// buffers; a neighbour could open many).
func TestAttackConnectionWithoutHelloClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a"), l.join("b")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		ch := &chatter{l: l, a: a, b: b}
		silent := func(i int) *netcode.Conn {
			pc, _ := l.net.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 5, 8, byte(i)}), 7000))
			ep, err := netcode.NewEndpoint(pc, engine.EndpointConfig(netcode.Config{}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ep.Close() })
			conn, err := ep.Dial(t.Context(), a.Addr(), netcode.DialOptions{Fingerprint: a.ID()})
			if err != nil {
				t.Fatal(err)
			}
			return conn
		}
		var conns []*netcode.Conn
		for i := range 5 {
			conns = append(conns, silent(i+1))
		}
		a.StopLookingForPeers()
		for i := range 5 {
			conns = append(conns, silent(i+10))
		}
		ch.pumpChatting("silent connections", 30*time.Second)
		open := 0
		for _, c := range conns {
			if c.Err() == nil {
				open++
			}
		}
		t.Logf("%d of %d silent connections still open after 30 s; session endpoint holds %d connections", open, len(conns), a.ep.Stats().Connections)
		if open > 0 {
			t.Errorf("%d connections that never said hello are still open after 30 s", open)
		}
		if len(a.Peers()) != 1 {
			t.Errorf("%d peers, want b only", len(a.Peers()))
		}
	})
}

// Identity games after the handshake: a hello claiming the receiving
// session's own identity, and a second hello from an admitted peer that
// tries to change its name and identity. The first is refused, the second
// ignored.
func TestAttackIdentityGames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		victim, other := l.join("victim"), l.join("other")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{victim, other}, 2))
		ch := &chatter{l: l, a: victim, b: other}
		pc, _ := l.net.Listen(netip.MustParseAddrPort("10.5.9.9:7000"))
		ep, _ := netcode.ListenPacket(pc, engine.EndpointConfig(netcode.Config{}))
		imp := engine.NewServer(ep, &engine.ServerConfig{SkipGreeting: true})
		defer imp.Close()
		conn, err := ep.Dial(t.Context(), victim.Addr(), netcode.DialOptions{Fingerprint: victim.ID()})
		if err != nil {
			t.Fatal(err)
		}
		c := imp.Adopt(conn)
		c.Send(hello{Action: helloAction, Version: ProtocolVersion, ID: victim.ID().String(), Name: "victim"})
		imp.Pump()
		l.pumpUntil(5*time.Second, func() bool { return conn.Err() != nil })
		if !strings.Contains(conn.Err().Error(), "does not match the certificate") {
			t.Errorf("a hello claiming the victim's own identity ended with %v", conn.Err())
		}
		ch.check("an impostor claiming the victim's identity", 100*time.Millisecond)

		// other, admitted, says hello again as someone else.
		p := other.Peer(victim.ID())
		p.Send(hello{Action: helloAction, Version: ProtocolVersion, ID: highID(1).String(), Name: "mallory"})
		l.pumpFor(time.Second)
		vp := victim.Peer(other.ID())
		if vp == nil || vp.Name != "other" {
			t.Fatalf("a second hello changed the peer: %v", vp)
		}
		if victim.Peer(highID(1)) != nil {
			t.Fatal("a second hello added an identity")
		}
		ch.check("a second hello", 100*time.Millisecond)
	})
}
