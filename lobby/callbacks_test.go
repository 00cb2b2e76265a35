package lobby

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// panicky panics in every lobby event; errs collects the "error" events
// the session reports.
type panicky struct {
	errs []error
}

func (p *panicky) PeerAdded(*Peer)                    { panic("PeerAdded exploded") }
func (p *panicky) PeerRemoved(*Peer, error)           { panic("PeerRemoved exploded") }
func (p *panicky) PeerRefused(*Peer, error)           { panic("PeerRefused exploded") }
func (p *panicky) HostChanged(netcode.Fingerprint)    { panic("HostChanged exploded") }
func (p *panicky) Network_error(_ *Peer, err error)   { p.errs = append(p.errs, err) }
func (p *panicky) Network_ping(_ *Peer, _ engine.Msg) {}

func (p *panicky) panicked(event string) bool {
	for _, err := range p.errs {
		if errors.Is(err, engine.ErrPanic) && strings.Contains(err.Error(), event+" exploded") {
			return true
		}
	}
	return false
}

// TestCallbackPanicsRecovered: a panic in a lobby event (PeerAdded,
// PeerRemoved, PeerRefused, HostChanged) or in the Accept hook is
// recovered and reported as an "error" event; the session carries on: the
// other listeners get their events, peers join and chat, and a panicking
// Accept hook refuses the peer.
func TestCallbackPanicsRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		certs := certsByIdentity(t, 4)
		with := func(c *tls.Certificate) func(*Config) { return func(cfg *Config) { cfg.Net.Certificate = c } }
		// keeper has the highest identity: everyone dials it and its
		// Accept hook decides.
		keeper := l.join("keeper", with(certs[3]), func(c *Config) {
			c.Accept = func(o Offer) error {
				if o.Name == "dan" {
					panic("Accept exploded")
				}
				return nil
			}
		})
		bad := &panicky{}
		if err := keeper.Register(bad); err != nil {
			t.Fatal(err)
		}
		// keeper's own log is registered first, bad second: register
		// another log after bad to see that later listeners still run.
		after := &eventLog{s: keeper}
		if err := keeper.Register(after); err != nil {
			t.Fatal(err)
		}
		ann := l.join("ann", with(certs[1]))
		bob := l.join("bob", with(certs[2]))
		l.pumpUntil(10*time.Second, meshComplete([]*Session{keeper, ann, bob}, 3))
		dan := l.join("dan", with(certs[0]))
		l.pumpUntil(10*time.Second, func() bool { return strings.Contains(strings.Join(l.logs[dan].refused, ";"), "keeper") })
		if len(keeper.Peers()) != 2 || keeper.Peer(dan.ID()) != nil {
			t.Fatalf("keeper's peers: %v", keeper.Peers())
		}
		if r := strings.Join(l.logs[dan].refused, ";"); !strings.Contains(r, "accept hook failed") {
			t.Fatalf("dan's refusals: %s", r)
		}
		// The lowest identity leaves: PeerRemoved and HostChanged.
		ann.Disconnect()
		l.pumpUntil(10*time.Second, func() bool { return len(keeper.Peers()) == 1 })
		// A full session on the LAN: PeerRefused(nil, ...).
		keeper.Disconnect()
		l.pumpUntil(10*time.Second, func() bool { return bob.Peer(keeper.ID()) == nil })
		for _, ev := range []string{"PeerAdded", "PeerRemoved", "HostChanged", "Accept"} {
			if !bad.panicked(ev) {
				t.Errorf("no error event for the panic in %s; errors: %v", ev, bad.errs)
			}
		}
		var pe interface{ Unwrap() []error }
		if !errors.As(bad.errs[0], &pe) {
			t.Errorf("%T does not unwrap", bad.errs[0])
		}
		if len(after.added) != 2 || len(after.removed) != 2 || len(after.hosts) == 0 {
			t.Errorf("the listener after the panicking one: added %v, removed %v, hosts %v", after.added, after.removed, after.hosts)
		}
		// The panic in PeerRefused(nil, ...): full sessions seen on the LAN
		// by a newcomer.
		if bad.panicked("PeerRefused") {
			t.Fatal("PeerRefused before any refusal")
		}
		two := func(c *Config) { c.MaxPeers = 2 }
		x, y := l.join("x", two), l.join("y", two)
		l.pumpUntil(10*time.Second, func() bool { return x.seatsOpen() == 0 && y.seatsOpen() == 0 })
		z := l.join("z")
		if err := z.Register(bad); err != nil {
			t.Fatal(err)
		}
		l.pumpUntil(10*time.Second, func() bool { return bad.panicked("PeerRefused") })
	})
}
