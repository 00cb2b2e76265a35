package lobby

// Tests of defect 7 (issue 12): sends to peers that are not in the
// session, failed joins, bounded memories, rate-limited refusal events.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// TestSendToPeerNotInSession: nil, a zero Peer, another session's peer and
// a removed peer are errors matching ErrNotPeer, not panics; the members
// named beside them still get the message.
func TestSendToPeerNotInSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b, c := l.join("a"), l.join("b"), l.join("c")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b, c}, 3))
		ab, ac := a.Peer(b.ID()), a.Peer(c.ID())
		c.Disconnect()
		l.pumpUntil(10*time.Second, func() bool { return len(a.Peers()) == 1 })
		strangers := map[string]*Peer{
			"nil":                    nil,
			"zero Peer":              {},
			"another session's peer": b.Peer(a.ID()),
			"removed peer":           ac,
		}
		sent := 0
		for name, p := range strangers {
			for _, send := range []func() error{
				func() error { return a.Send(engine.Msg{"action": "chat", "text": name}, engine.To(ab, p)) },
				func() error {
					return a.Send(engine.Msg{"action": "chat", "text": name}, engine.Unreliable, engine.To(p, ab))
				},
			} {
				var err error
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("send to %s panicked: %v", name, r)
						}
					}()
					err = send()
				}()
				if !errors.Is(err, ErrNotPeer) {
					t.Errorf("send to %s: %v, want ErrNotPeer", name, err)
				}
				sent++
			}
		}
		l.pumpUntil(10*time.Second, func() bool { return len(l.logs[b].chats) == sent })
	})
}

// refusingBackend is the in-memory registry whose Advertise or Browse
// fails.
type refusingBackend struct {
	*discovery.Memory
	browse bool
}

func (r refusingBackend) Advertise(_ context.Context, service string, rec discovery.Record) (discovery.Advertisement, error) {
	return nil, errors.New("advertise refused")
}

func (r refusingBackend) Browse(ctx context.Context, service string, interval time.Duration) (<-chan []discovery.Record, error) {
	if r.browse {
		return nil, errors.New("browse refused")
	}
	return r.Memory.Browse(ctx, service, interval)
}

// TestFailedJoinLeavesNoGoroutine: a join that fails (discovery refuses to
// advertise or to browse) stops every goroutine it started. synctest fails
// the test if any goroutine of the bubble is left blocked at its end.
func TestFailedJoinLeavesNoGoroutine(t *testing.T) {
	for _, browse := range []bool{false, true} {
		t.Run(fmt.Sprintf("browse fails %v", browse), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				pc, err := l.net.Listen(netip.MustParseAddrPort("10.5.1.1:7000"))
				if err != nil {
					t.Fatal(err)
				}
				cfg := Config{DisplayName: "a", ServiceType: "test-game"}
				ep, err := netcode.ListenPacket(pc, engine.EndpointConfig(cfg.Net))
				if err != nil {
					t.Fatal(err)
				}
				s, err := join(t.Context(), cfg, ep, refusingBackend{l.mem, browse})
				if err == nil {
					s.Close()
					t.Fatal("join succeeded")
				}
				ep.Close() // as Join does
				synctest.Wait()
			})
		})
	}
}

// lingeringBackend's browse loop outlives its context by 300 ms, as an
// mDNS query in flight does; ended reports whether it has finished. It
// refuses to advertise if refuse is set.
type lingeringBackend struct {
	*discovery.Memory
	refuse bool
	ended  atomic.Bool
}

func (b *lingeringBackend) Advertise(ctx context.Context, service string, rec discovery.Record) (discovery.Advertisement, error) {
	if b.refuse {
		return nil, errors.New("advertise refused")
	}
	return b.Memory.Advertise(ctx, service, rec)
}

func (b *lingeringBackend) Browse(ctx context.Context, service string, interval time.Duration) (<-chan []discovery.Record, error) {
	out := make(chan []discovery.Record)
	go func() {
		defer close(out)
		<-ctx.Done()
		time.Sleep(300 * time.Millisecond) // the query in flight
		b.ended.Store(true)
	}()
	return out, nil
}

// TestCloseWaitsForDiscovery: Close, and a Join that fails, return only
// once the discovery backend's browse loop has ended.
func TestCloseWaitsForDiscovery(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("join fails %v", refuse), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				pc, _ := l.net.Listen(netip.MustParseAddrPort("10.5.1.1:7000"))
				cfg := Config{DisplayName: "a", ServiceType: "test-game"}
				ep, _ := netcode.ListenPacket(pc, engine.EndpointConfig(cfg.Net))
				defer ep.Close()
				b := &lingeringBackend{Memory: l.mem, refuse: refuse}
				s, err := join(t.Context(), cfg, ep, b)
				if (err != nil) != refuse {
					t.Fatalf("join: %v", err)
				}
				if s != nil {
					s.Close()
				}
				if !b.ended.Load() {
					t.Fatal("returned while the browse loop still runs")
				}
			})
		})
	}
}

// lowerCerts returns n certificates whose identities are below id.
func lowerCerts(t *testing.T, n int, id netcode.Fingerprint) []*tls.Certificate {
	var out []*tls.Certificate
	for len(out) < n {
		c, err := netcode.GenerateCertificate()
		if err != nil {
			t.Fatal(err)
		}
		if fp, _ := netcode.FingerprintOf(c.Certificate[0]); fp.Less(id) {
			out = append(out, &c)
		}
	}
	return out
}

// TestRotatingIdentitiesBounded: peers with ever new identities join and
// leave a session, and records of ever new full sessions pass by; the
// session's memories of them stay at their bound, and refusal events from
// records are rate-limited.
func TestRotatingIdentitiesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		hb := &hostileBackend{Memory: l.mem}
		certs := certsByIdentity(t, 8)
		victim := l.joinWith(hb, "victim", func(c *Config) { c.Net.Certificate = certs[7] })
		const n = 2*maxRemembered + 10
		// Identities that join (each admitted, then gone).
		for i, cert := range lowerCerts(t, n, victim.ID()) {
			pc, err := l.net.Listen(netip.AddrPortFrom(netip.MustParseAddr("10.5.8.1"), uint16(1000+i)))
			if err != nil {
				t.Fatal(err)
			}
			ep, _ := netcode.ListenPacket(pc, engine.EndpointConfig(netcode.Config{Certificate: cert}))
			srv := engine.NewServer(ep, &engine.ServerConfig{SkipGreeting: true})
			conn, err := ep.Dial(t.Context(), victim.Addr(), netcode.DialOptions{Fingerprint: victim.ID()})
			if err != nil {
				t.Fatal(err)
			}
			ch := srv.Adopt(conn)
			ch.Send(hello{Action: helloAction, Version: ProtocolVersion, ID: ep.Fingerprint().String(), Name: "rotor"})
			srv.Pump()
			l.pumpUntil(5*time.Second, func() bool { srv.Pump(); return len(victim.Peers()) == 1 })
			srv.Close()
			l.pumpUntil(5*time.Second, func() bool { srv.Pump(); return len(victim.Peers()) == 0 })
			if r, k := victim.retry.len(), victim.known.len(); r > maxRemembered || k > maxRemembered {
				t.Fatalf("after %d identities: %d retries, %d known, bound %d", i+1, r, k, maxRemembered)
			}
		}
		if k := victim.known.len(); k != maxRemembered {
			t.Fatalf("%d known identities after %d joined, want the bound %d", k, n, maxRemembered)
		}
		// Records of full sessions, 20 new identities every 500 ms for 10 s.
		before := len(l.logs[victim].refused)
		start := time.Now()
		for round := range 20 {
			var recs []discovery.Record
			for j := range 20 {
				id := highID(byte(round*20 + j))
				id[0] = byte(round) // below 0xff..: distinct per round
				recs = append(recs, discovery.Record{Instance: fmt.Sprintf("full%d-%d", round, j),
					Addrs: []netip.Addr{netip.MustParseAddr("10.5.9.1")}, Port: 7000,
					ID: id.String(), Version: ProtocolVersion, Seats: 0, Name: "full"})
			}
			hb.set(recs)
			l.pumpFor(500 * time.Millisecond)
			if f := victim.full.len(); f > maxRemembered {
				t.Fatalf("round %d: %d full sessions remembered, bound %d", round, f, maxRemembered)
			}
		}
		el := time.Since(start)
		got := len(l.logs[victim].refused) - before
		limit := refusalBurst + int(el/refusalEvery) + 1
		t.Logf("%d refusal events from 400 full identities over %v (limit %d), %d dropped", got, el, limit, victim.refusals.dropped)
		if got > limit || got < refusalBurst {
			t.Fatalf("%d refusal events over %v, want %d..%d", got, el, refusalBurst, limit)
		}
	})
}
