package engine

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode"
)

// TestSessionServerAdmission: on a NewSessionServer, new peers are pending:
// the session's hooks see them, the game's OnConnect, OnDisconnect,
// "connected" and "disconnected" handlers and Peers do not, until the
// Admission admits them; the game replacing its hooks leaves the
// session's in place.
func TestSessionServerAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		pc, err := n.Listen(srvAP)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		var arrived, ended []*Peer
		srv, adm := NewSessionServer(ep, &ServerConfig{SkipGreeting: true}, SessionHooks{
			Connect:    func(p *Peer) { arrived = append(arrived, p) },
			Disconnect: func(p *Peer, _ error) { ended = append(ended, p) },
		})
		w := &world{t: t, net: n, srv: srv}
		t.Cleanup(func() {
			for _, c := range w.clients {
				c.Close()
			}
			srv.Close()
		})
		var game []string
		srv.OnConnect(func(*Peer) { game = append(game, "OnConnect") })
		srv.OnDisconnect(func(*Peer, error) { game = append(game, "OnDisconnect") })
		if err := srv.Handle("connected", func(*Peer, Msg) { game = append(game, "connected") }); err != nil {
			t.Fatal(err)
		}
		if err := srv.Handle("disconnected", func(*Peer, Msg) { game = append(game, "disconnected") }); err != nil {
			t.Fatal(err)
		}
		w.client()
		w.client()
		w.pumpUntil(10*time.Second, func() bool { return len(arrived) == 2 })
		if len(game) != 0 || len(srv.Peers()) != 0 {
			t.Fatalf("pending peers reached the game: events %v, Peers %d", game, len(srv.Peers()))
		}
		member, stranger := arrived[0], arrived[1]
		if err := adm.Admit(member); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(game, []string{"OnConnect", "connected"}) || !slices.Equal(srv.Peers(), []*Peer{member}) {
			t.Fatalf("after Admit: events %v, Peers %v", game, srv.Peers())
		}
		for _, p := range []*Peer{member, nil} {
			if err := adm.Admit(p); !errors.Is(err, ErrNotPending) {
				t.Fatalf("Admit(%v) again: %v, want ErrNotPending", p, err)
			}
		}
		// The pending one ends: the session hears of it, the game does not.
		stranger.Close()
		w.pumpUntil(10*time.Second, func() bool { return len(ended) == 1 })
		if err := adm.Admit(stranger); !errors.Is(err, ErrNotPending) {
			t.Fatalf("Admit of an ended peer: %v", err)
		}
		if ended[0] != stranger || len(game) != 2 {
			t.Fatalf("a pending peer's end: session saw %v, game events %v", ended, game)
		}
		// The game replaces its hooks: the session's stay.
		srv.OnConnect(nil)
		srv.OnDisconnect(nil)
		member.Close()
		w.pumpUntil(10*time.Second, func() bool { return len(ended) == 2 })
		if !slices.Equal(game, []string{"OnConnect", "connected", "disconnected"}) {
			t.Fatalf("game events %v", game)
		}
		w.client()
		w.pumpUntil(10*time.Second, func() bool { return len(arrived) == 3 })
	})
}
