package lobby

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// lan is an in-memory LAN: a fake network and a discovery registry. No
// packet and no multicast leaves the process.
type lan struct {
	t        *testing.T
	net      *fakenet.Network
	mem      *discovery.Memory
	n        int
	sessions []*Session
	logs     map[*Session]*eventLog
	sockets  map[*Session]*fakenet.Conn
}

func newLAN(t *testing.T) *lan {
	l := &lan{t: t, net: fakenet.New(), mem: discovery.NewMemory(), logs: map[*Session]*eventLog{}, sockets: map[*Session]*fakenet.Conn{}}
	t.Cleanup(func() {
		for _, s := range l.sessions {
			s.Close()
		}
	})
	return l
}

type eventLog struct {
	s                       *Session
	added, removed, refused []string
	refusals                []error
	reasons                 []error
	hosts                   []netcode.Fingerprint
	hostAtAdd               []netcode.Fingerprint
	chats                   []string
}

func (e *eventLog) PeerAdded(p *Peer) {
	e.added = append(e.added, p.Name)
	e.hostAtAdd = append(e.hostAtAdd, e.s.Host())
}
func (e *eventLog) PeerRemoved(p *Peer, reason error) {
	e.removed = append(e.removed, p.Name)
	e.reasons = append(e.reasons, reason)
}
func (e *eventLog) PeerRefused(p *Peer, reason error) {
	e.refused = append(e.refused, reason.Error())
	e.refusals = append(e.refusals, reason)
}
func (e *eventLog) HostChanged(h netcode.Fingerprint) { e.hosts = append(e.hosts, h) }
func (e *eventLog) Network_chat(p *Peer, m engine.Msg) {
	e.chats = append(e.chats, p.Name+": "+m["text"].(string))
}

func (l *lan) join(name string, mutate ...func(*Config)) *Session {
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
	s, err := join(l.t.Context(), cfg, ep, l.mem)
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

// pumpUntil pumps every session until cond holds, failing after d.
func (l *lan) pumpUntil(d time.Duration, cond func() bool) {
	l.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			l.t.Fatalf("not reached after %v", d)
		}
		for _, s := range l.sessions {
			s.Pump()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *lan) pumpFor(d time.Duration) {
	end := time.Now().Add(d)
	l.pumpUntil(d+time.Second, func() bool { return !time.Now().Before(end) })
}

func meshComplete(ss []*Session, n int) func() bool {
	return func() bool {
		for _, s := range ss {
			if len(s.Peers()) != n-1 {
				return false
			}
		}
		return true
	}
}

func TestEightPeersFullMeshNinthRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		var ss []*Session
		for i := range 8 {
			ss = append(ss, l.join(fmt.Sprintf("p%d", i)))
		}
		start := time.Now()
		l.pumpUntil(10*time.Second, meshComplete(ss, 8))
		t.Logf("8-peer mesh complete after %v (poll interval 200ms)", time.Since(start))
		conns := 0
		for _, s := range ss {
			conns += s.ep.Stats().Connections
		}
		if conns != 2*28 {
			t.Fatalf("%d connection ends, want 56 (28 connections, one per pair)", conns)
		}
		// Everyone agrees on the host: the lowest identity.
		low := ss[0].ID()
		for _, s := range ss {
			if s.ID().Less(low) {
				low = s.ID()
			}
		}
		for _, s := range ss {
			if s.Host() != low {
				t.Fatalf("%s thinks the host is %s, want %s", s.Name(), s.Host(), low)
			}
		}
		ninth := l.join("p8")
		l.pumpFor(3 * time.Second)
		if n := len(ninth.Peers()); n != 0 {
			t.Fatalf("the 9th peer joined %d peers of a full session", n)
		}
		log := l.logs[ninth]
		if len(log.refused) == 0 || !strings.Contains(strings.Join(log.refused, ";"), ReasonFull) {
			t.Fatalf("9th peer's refusals: %v", log.refused)
		}
		var re *RefusedError
		if !errors.Is(log.refusals[0], ErrSessionFull) || !errors.As(log.refusals[0], &re) || re.ID.IsZero() || re.Name == "" {
			t.Fatalf("refusal %v does not say who refused and why", log.refusals[0])
		}
		// Host() inside PeerAdded already counted the new peer.
		for _, s := range ss {
			lg := l.logs[s]
			if last := lg.hostAtAdd[len(lg.hostAtAdd)-1]; last != low {
				t.Fatalf("%s: Host() inside the last PeerAdded was %s, want %s", s.Name(), last, low)
			}
		}
		for _, s := range ss {
			if len(s.Peers()) != 7 {
				t.Fatalf("%s has %d peers after the 9th came", s.Name(), len(s.Peers()))
			}
		}
	})
}

func TestLockRefusesAndHidesThenUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a"), l.join("b")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		a.StopLookingForPeers()
		b.StopLookingForPeers()
		l.pumpFor(time.Second) // let the registry forget them
		c := l.join("c")
		l.pumpFor(3 * time.Second)
		if len(c.Peers()) != 0 || len(a.Peers()) != 1 || len(b.Peers()) != 1 {
			t.Fatalf("lock broken: c %d, a %d, b %d peers", len(c.Peers()), len(a.Peers()), len(b.Peers()))
		}
		for _, r := range c.records {
			if r.ID != c.ID().String() {
				t.Fatalf("locked sessions still advertised: %v", c.records)
			}
		}
		// A newcomer that dials a locked peer anyway is refused.
		conn, err := c.ep.Dial(t.Context(), a.Addr(), netcode.DialOptions{Fingerprint: a.ID()})
		if err != nil {
			t.Fatal(err)
		}
		ch := c.srv.Adopt(conn)
		c.states[ch].outbound = true
		c.sendHello(ch)
		l.pumpUntil(5*time.Second, func() bool { return conn.Err() != nil })
		var ce *netcode.CloseError
		if !errors.As(conn.Err(), &ce) || ce.Reason != ReasonLocked && !strings.Contains(ce.Reason, "direction") {
			t.Fatalf("dial to a locked peer ended with %v", conn.Err())
		}
		a.StartLookingForPeers()
		b.StartLookingForPeers()
		l.pumpUntil(15*time.Second, meshComplete([]*Session{a, b, c}, 3))
	})
}

func TestPeerLeavesRemovedEverywhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		ss := []*Session{l.join("a"), l.join("b"), l.join("c")}
		l.pumpUntil(10*time.Second, meshComplete(ss, 3))
		// The host leaves: the others agree on the next-lowest identity.
		host := ss[0]
		for _, s := range ss {
			if s.IsHost() {
				host = s
			}
		}
		host.Disconnect()
		rest := []*Session{}
		for _, s := range ss {
			if s != host {
				rest = append(rest, s)
			}
		}
		start := time.Now()
		l.pumpUntil(10*time.Second, meshComplete(rest, 2))
		if el := time.Since(start); el > time.Second {
			t.Fatalf("PeerRemoved after %v for a graceful leave", el)
		}
		for _, s := range rest {
			log := l.logs[s]
			if len(log.removed) != 1 || log.removed[0] != host.Name() {
				t.Fatalf("%s removed %v", s.Name(), log.removed)
			}
			if s.Host() == host.ID() || len(log.hosts) == 0 || log.hosts[len(log.hosts)-1] != s.Host() {
				t.Fatalf("%s: host %s, HostChanged %v", s.Name(), s.Host(), log.hosts)
			}
		}
		if rest[0].Host() != rest[1].Host() {
			t.Fatal("the remaining peers disagree on the host")
		}
	})
}

func TestSilentPeerRemovedAfterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a"), l.join("b")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		// b vanishes without a word: its socket stops, nothing is sent.
		l.sockets[b].Close()
		l.sessions = l.sessions[:1]
		defer b.Close()
		start := time.Now()
		l.pumpUntil(15*time.Second, func() bool { return len(a.Peers()) == 0 })
		if el := time.Since(start); el < 9*time.Second || el > 12*time.Second {
			t.Fatalf("silent peer removed after %v, want the 10 s idle timeout", el)
		}
		if !errors.Is(l.logs[a].reasons[0], netcode.ErrTimeout) {
			t.Fatalf("reason %v", l.logs[a].reasons[0])
		}
	})
}

type color struct {
	Color int `msgpack:"color"`
}

// certsByIdentity returns n certificates ordered by their fingerprints.
func certsByIdentity(t *testing.T, n int) []*tls.Certificate {
	var cs []*tls.Certificate
	for range n {
		c, err := netcode.GenerateCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, &c)
	}
	fp := func(c *tls.Certificate) netcode.Fingerprint {
		f, _ := netcode.FingerprintOf(c.Certificate[0])
		return f
	}
	slices.SortFunc(cs, func(a, b *tls.Certificate) int { return compareFP(fp(a), fp(b)) })
	return cs
}

func TestAcceptHookInitialDataAndMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		certs := certsByIdentity(t, 3)
		with := func(cert *tls.Certificate, col int) func(*Config) {
			return func(c *Config) { c.Net.Certificate = cert; c.InitialData = color{col} }
		}
		// The keeper has the highest identity, so both others dial it.
		keeper := l.join("keeper", with(certs[2], 1), func(c *Config) {
			c.Accept = func(o Offer) error {
				var col color
				if err := o.InitialData(&col); err != nil {
					return err
				}
				if o.Name == "bob" {
					return fmt.Errorf("no bobs (color %d)", col.Color)
				}
				return nil
			}
		})
		ann := l.join("ann", with(certs[0], 2))
		bob := l.join("bob", with(certs[1], 3))
		l.pumpUntil(10*time.Second, func() bool {
			return len(keeper.Peers()) == 1 && len(l.logs[bob].refused) > 0 && len(ann.Peers()) == 2
		})
		if keeper.Peers()[0].Name != "ann" || !strings.Contains(l.logs[bob].refused[0], "no bobs (color 3)") {
			t.Fatalf("keeper peers %v, bob refusals %v", keeper.Peers(), l.logs[bob].refused)
		}
		if !errors.Is(l.logs[bob].refusals[0], netcode.ErrRefused) {
			t.Errorf("bob's refusal %v does not match netcode.ErrRefused, as an engine server's refusal does", l.logs[bob].refusals[0])
		}
		var got color
		if err := keeper.InitialData(keeper.Peers()[0], &got); err != nil || got.Color != 2 {
			t.Fatalf("initial data %+v, %v", got, err)
		}
		if err := ann.Send(engine.Msg{"action": "chat", "text": "hi"}, engine.To(ann.Peer(keeper.ID()))); err != nil {
			t.Fatal(err)
		}
		l.pumpUntil(5*time.Second, func() bool { return len(l.logs[keeper].chats) == 1 })
		if l.logs[keeper].chats[0] != "ann: hi" || len(l.logs[bob].chats) != 0 {
			t.Fatalf("keeper chats %v, bob chats %v", l.logs[keeper].chats, l.logs[bob].chats)
		}
	})
}

func TestClaimedIdentityMustMatchCertificate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		victim, other := l.join("victim"), l.join("other")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{victim, other}, 2))
		// An impostor connects with its own key but claims other's identity.
		pc, _ := l.net.Listen(netip.MustParseAddrPort("10.5.9.9:7000"))
		ep, _ := netcode.ListenPacket(pc, engine.EndpointConfig(netcode.Config{}))
		imp := engine.NewServer(ep, &engine.ServerConfig{SkipGreeting: true})
		defer imp.Close()
		conn, err := ep.Dial(t.Context(), victim.Addr(), netcode.DialOptions{Fingerprint: victim.ID()})
		if err != nil {
			t.Fatal(err)
		}
		ch := imp.Adopt(conn)
		ch.Send(hello{Action: helloAction, Version: ProtocolVersion, ID: other.ID().String(), Name: "other"})
		imp.Pump()
		l.pumpUntil(5*time.Second, func() bool { return conn.Err() != nil })
		if !strings.Contains(conn.Err().Error(), "does not match the certificate") {
			t.Fatalf("impostor's connection ended with %v", conn.Err())
		}
		if len(victim.Peers()) != 1 {
			t.Fatal("the impostor was admitted")
		}
	})
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"empty name":          {DisplayName: "", ServiceType: "game"},
		"long name":           {DisplayName: strings.Repeat("x", 64), ServiceType: "game"},
		"bad utf8":            {DisplayName: "\xff", ServiceType: "game"},
		"control char":        {DisplayName: "a\nb", ServiceType: "game"},
		"empty service":       {DisplayName: "a", ServiceType: ""},
		"long service":        {DisplayName: "a", ServiceType: "abcdefghijklmnop"},
		"upper case service":  {DisplayName: "a", ServiceType: "Game"},
		"leading dash":        {DisplayName: "a", ServiceType: "-game"},
		"trailing dash":       {DisplayName: "a", ServiceType: "game-"},
		"max peers 1":         {DisplayName: "a", ServiceType: "game", MaxPeers: 1},
		"max peers 9":         {DisplayName: "a", ServiceType: "game", MaxPeers: 9},
		"huge initial data":   {DisplayName: "a", ServiceType: "game", InitialData: strings.Repeat("x", 5000)},
		"unencodable initial": {DisplayName: "a", ServiceType: "game", InitialData: func() {}},
	} {
		c := cfg
		err := c.validate()
		if err == nil {
			_, err = encodeInitial(&c)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v does not match ErrConfig", name, err)
		}
	}
	ok := Config{DisplayName: "Ann 🚲", ServiceType: "light-cycle"}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

func TestPeerByteStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a"), l.join("b")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		data := make([]byte, 100_000)
		for i := range data {
			data[i] = byte(i * 31)
		}
		ws := a.Stream(a.Peers()[0])
		if n, err := ws.Write(data); n != len(data) || err != nil {
			t.Fatalf("write %d, %v", n, err)
		}
		rs := b.Stream(b.Peers()[0])
		var got []byte
		buf := make([]byte, 4096)
		l.pumpUntil(10*time.Second, func() bool {
			for {
				n, err := rs.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				got = append(got, buf[:n]...)
			}
			return len(got) >= len(data)
		})
		if !bytes.Equal(got, data) {
			t.Fatal("stream bytes differ")
		}
		a.Disconnect()
		l.pumpUntil(5*time.Second, func() bool { _, err := rs.Read(buf); return err == io.EOF })
	})
}

// When a peer of a full session leaves, its last advertisement still says
// 0 seats: that must not read as a refusal.
func TestLeavingPeerOfFullSessionIsNotARefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		two := func(c *Config) { c.MaxPeers = 2 }
		a, b := l.join("a", two), l.join("b", two)
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		b.Disconnect()
		l.pumpFor(3 * time.Second)
		if r := l.logs[a].refused; len(r) != 0 {
			t.Fatalf("a reports refusals after b left: %v", r)
		}
		if len(a.Peers()) != 0 {
			t.Fatal("b not removed")
		}
	})
}

func TestWakeOnDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		certs := certsByIdentity(t, 2)
		// a has the lower identity, so a must dial: only a discovery
		// result can wake it.
		a := l.join("a", func(c *Config) { c.Net.Certificate = certs[0] })
		b := l.join("b", func(c *Config) { c.Net.Certificate = certs[1] })
		// Only PumpWait drives a: discovery and connections must wake it.
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					b.Pump()
				}
			}
		}()
		start := time.Now()
		for len(a.Peers()) == 0 && time.Since(start) < 10*time.Second {
			a.PumpWait(t.Context(), time.Hour)
		}
		close(stop)
		<-done
		if len(a.Peers()) != 1 {
			t.Fatal("PumpWait never woke for discovery and the connection")
		}
	})
}
