package lobby

import (
	"crypto/tls"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// engineEvents records the engine's connection events a game sees on a
// session: its own OnConnect/OnDisconnect set on Server(), and
// "connected"/"disconnected" handlers registered through Register.
type engineEvents struct {
	onConnect, onDisconnect []string
	connected, disconnected []string
}

func who(p *Peer) string { return p.Fingerprint().String()[:8] }

func (e *engineEvents) Network_connected(p *Peer, _ engine.Msg) {
	e.connected = append(e.connected, who(p))
}
func (e *engineEvents) Network_disconnected(p *Peer, _ engine.Msg) {
	e.disconnected = append(e.disconnected, who(p))
}

func short(s *Session) string { return s.ID().String()[:8] }

// TestEngineEventsForAdmittedPeersOnly: on a session, the engine's
// connection events (a game's OnConnect/OnDisconnect set on Server(), its
// "connected"/"disconnected" handlers) fire for admitted peers only, once
// each; and setting OnConnect/OnDisconnect on Server() replaces nothing of
// the session's own hooks: a peer of a full session, one of a locked
// session and a connection that never says hello are still refused and
// never reported, and the admitted peer still comes and goes as
// PeerAdded/PeerRemoved.
func TestEngineEventsForAdmittedPeersOnly(t *testing.T) {
	t.Run("handlers", func(t *testing.T) { testEngineEvents(t, false) })
	t.Run("handlers and Server().OnConnect", func(t *testing.T) { testEngineEvents(t, true) })
}

func testEngineEvents(t *testing.T, setHooks bool) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		certs := certsByIdentity(t, 4)
		with := func(i int) func(*Config) {
			return func(cfg *Config) { cfg.Net.Certificate = certs[i] }
		}
		// keeper has the highest identity: the others dial it.
		keeper := l.join("keeper", with(3), func(c *Config) { c.MaxPeers = 2 })
		ev := &engineEvents{}
		if setHooks {
			keeper.Server().OnConnect(func(p *Peer) { ev.onConnect = append(ev.onConnect, who(p)) })
			keeper.Server().OnDisconnect(func(p *Peer, _ error) { ev.onDisconnect = append(ev.onDisconnect, who(p)) })
		}
		if err := keeper.Register(ev); err != nil {
			t.Fatal(err)
		}
		var named []string // the names the game's OnConnect saw (set from the hello)
		if err := keeper.Handle("connected", func(p *Peer, _ engine.Connected) { named = append(named, p.Name) }); err != nil {
			t.Fatal(err)
		}

		ann := l.join("ann", with(1))
		l.pumpUntil(10*time.Second, meshComplete([]*Session{keeper, ann}, 2))
		refused := func(conn *netcode.Conn, reason string) {
			t.Helper()
			l.pumpUntil(2*helloTimeout, func() bool { return conn.Err() != nil })
			var ce *netcode.CloseError
			if !errors.As(conn.Err(), &ce) || !strings.Contains(ce.Reason, reason) {
				t.Errorf("offer closed with %v, want %q", conn.Err(), reason)
			}
		}
		// The session is full: an offer is refused.
		lower := lowerCerts(t, 2, keeper.ID())
		refused(offer(t, l, keeper, lower[0], "10.5.7.1:7000", true), ReasonFull)
		// A connection that never says hello is closed after helloTimeout.
		silent := offer(t, l, keeper, nil, "10.5.7.2:7000", false)
		keeper.StopLookingForPeers()
		ann.Disconnect()
		l.pumpUntil(10*time.Second, func() bool { return len(keeper.Peers()) == 0 })
		// Locked: an offer is refused.
		refused(offer(t, l, keeper, lower[1], "10.5.7.3:7000", true), ReasonLocked)
		refused(silent, "no hello")
		l.pumpFor(time.Second) // the keeper's Pump delivers every disconnect

		want := []string{short(ann)}
		seen := map[string][]string{"connected": ev.connected, "disconnected": ev.disconnected}
		if setHooks {
			seen["OnConnect"], seen["OnDisconnect"] = ev.onConnect, ev.onDisconnect
		}
		for name, got := range seen {
			if !slices.Equal(got, want) {
				t.Errorf("keeper's %s fired for %v, want only ann %v", name, got, want)
			}
		}
		if !slices.Equal(named, []string{"ann"}) {
			t.Errorf("the game's connected handler saw names %q, want the hello's [ann]", named)
		}
		lk := l.logs[keeper]
		if !slices.Equal(lk.added, []string{"ann"}) || !slices.Equal(lk.removed, []string{"ann"}) {
			t.Errorf("keeper's PeerAdded %v, PeerRemoved %v, want ann once each", lk.added, lk.removed)
		}
	})
}

// offer connects to s from addr with cert (nil: a new one) and, if hello,
// sends the session's hello, as a peer of the session would; it returns
// the connection, which s may refuse.
func offer(t *testing.T, l *lan, s *Session, cert *tls.Certificate, addr string, hello_ bool) *netcode.Conn {
	t.Helper()
	pc, err := l.net.Listen(netip.MustParseAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	var nc netcode.Config
	nc.Certificate = cert
	ep, err := netcode.ListenPacket(pc, engine.EndpointConfig(nc))
	if err != nil {
		t.Fatal(err)
	}
	srv := engine.NewServer(ep, &engine.ServerConfig{SkipGreeting: true})
	t.Cleanup(func() { srv.Close() })
	conn, err := ep.Dial(t.Context(), s.Addr(), netcode.DialOptions{Fingerprint: s.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if hello_ {
		p := srv.Adopt(conn)
		if err := p.Send(hello{Action: helloAction, Version: ProtocolVersion, ID: ep.Fingerprint().String(), Name: "offer"}); err != nil {
			t.Fatal(err)
		}
		srv.Pump()
	}
	return conn
}

// TestGameOnConnectPanicAdmitsNobody: a panic in the game's OnConnect (set
// on Server()) while the session admits a peer is recovered and reported
// as an "error" event; that peer is closed and never added, and the
// session carries on with the others.
func TestGameOnConnectPanicAdmitsNobody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		certs := certsByIdentity(t, 3)
		with := func(i int) func(*Config) { return func(cfg *Config) { cfg.Net.Certificate = certs[i] } }
		keeper := l.join("keeper", with(2))
		keeper.Server().OnConnect(func(p *Peer) {
			if p.Name == "dan" {
				panic("no dans")
			}
		})
		var errs []error
		if err := keeper.Handle("error", func(_ *Peer, err error) { errs = append(errs, err) }); err != nil {
			t.Fatal(err)
		}
		ann := l.join("ann", with(1))
		dan := l.join("dan", with(0))
		l.pumpUntil(10*time.Second, func() bool {
			return keeper.Peer(ann.ID()) != nil && len(l.logs[dan].removed)+len(l.logs[dan].refused) > 0
		})
		l.pumpFor(time.Second)
		if keeper.Peer(dan.ID()) != nil || slices.Contains(l.logs[keeper].added, "dan") {
			t.Fatalf("dan was added although the game's OnConnect panicked: %v", l.logs[keeper].added)
		}
		var pe *engine.PanicError
		if len(errs) == 0 || !errors.As(errs[0], &pe) || pe.Value != "no dans" {
			t.Fatalf("error events %v, want the OnConnect panic", errs)
		}
	})
}
