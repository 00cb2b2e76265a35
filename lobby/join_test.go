package lobby

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// slowBackend is the in-memory registry whose Advertise takes its time:
// it waits for ctx to end or for delay to pass (then advertises). It
// notes the ctx values Browse and Advertise saw.
type slowBackend struct {
	*trackingBackend
	delay time.Duration

	mu             sync.Mutex
	browseCtx      context.Context
	advertiseValue any
}

type ctxKey struct{}

func (b *slowBackend) Advertise(ctx context.Context, service string, r discovery.Record) (discovery.Advertisement, error) {
	b.mu.Lock()
	b.advertiseValue = ctx.Value(ctxKey{})
	b.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(b.delay):
	}
	return b.trackingBackend.Advertise(ctx, service, r)
}

func (b *slowBackend) Browse(ctx context.Context, service string, interval time.Duration) (<-chan []discovery.Record, error) {
	b.mu.Lock()
	b.browseCtx = ctx
	b.mu.Unlock()
	return b.trackingBackend.Browse(ctx, service, interval)
}

// joinIn runs join on a fresh socket of l with backend b; the socket is
// closed again if join fails (as Join does).
func joinIn(ctx context.Context, l *lan, b discovery.Backend, addr string) (*Session, error) {
	pc, err := l.net.Listen(netip.MustParseAddrPort(addr))
	if err != nil {
		l.t.Fatal(err)
	}
	cfg := Config{DisplayName: "a", ServiceType: "test-game"}
	ep, err := netcode.ListenPacket(pc, engine.EndpointConfig(cfg.Net))
	if err != nil {
		l.t.Fatal(err)
	}
	s, err := join(ctx, cfg, ep, b)
	if err != nil {
		ep.Close()
		return nil, err
	}
	l.sessions = append(l.sessions, s)
	return s, nil
}

// TestJoinHonoursContext: a ctx that is already done, or that ends while
// Join sets up discovery (a slow backend), makes Join return promptly with
// an error matching ctx.Err(), leaving nothing running: no goroutine of
// the bubble, no advertisement, the socket closed.
func TestJoinHonoursContext(t *testing.T) {
	cases := []struct {
		name string
		ctx  func(context.Context) (context.Context, context.CancelFunc)
		want error
		took time.Duration
	}{
		{"cancelled before", func(p context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(p)
			cancel()
			return ctx, cancel
		}, context.Canceled, 0},
		{"cancelled during", func(p context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(p)
			time.AfterFunc(time.Second, cancel)
			return ctx, cancel
		}, context.Canceled, time.Second},
		{"deadline during", func(p context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(p, 2*time.Second)
		}, context.DeadlineExceeded, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				b := &slowBackend{trackingBackend: &trackingBackend{Memory: l.mem}, delay: time.Minute}
				synctest.Wait()
				before, _ := bubbleGoroutines()
				ctx, cancel := tc.ctx(t.Context())
				defer cancel()
				start := time.Now()
				s, err := joinIn(ctx, l, b, "10.5.1.1:7000")
				if s != nil {
					t.Fatalf("Join succeeded after %v although ctx ended after %v", time.Since(start), tc.took)
				}
				if el := time.Since(start); el != tc.took {
					t.Errorf("Join returned after %v, want %v (when ctx ended)", el, tc.took)
				}
				if !errors.Is(err, tc.want) || !errors.Is(err, ctx.Err()) {
					t.Errorf("Join's error %v does not match ctx.Err() %v", err, ctx.Err())
				}
				synctest.Wait()
				if after, stacks := bubbleGoroutines(); after != before {
					t.Errorf("%d goroutines in the bubble before Join, %d after it failed:\n%s", before, after, stacks)
				}
				if n := b.live.Load(); n != 0 {
					t.Errorf("%d advertisements running after Join failed", n)
				}
				if pc, err := l.net.Listen(netip.MustParseAddrPort("10.5.1.1:7000")); err != nil {
					t.Errorf("socket still bound: %v", err)
				} else {
					pc.Close()
				}
			})
		})
	}
}

// TestJoinContextValuesOutliveIt: Join's ctx values reach the discovery
// backend, for Advertise and for the browse loop, and the session outlives
// that ctx: cancelling it after Join returned stops nothing (a peer that
// comes later still joins).
func TestJoinContextValuesOutliveIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		b := &slowBackend{trackingBackend: &trackingBackend{Memory: l.mem}, delay: time.Millisecond}
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "game-7"))
		a, err := joinIn(ctx, l, b, "10.5.1.1:7000")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		b.mu.Lock()
		bv, av, bctx := b.browseCtx.Value(ctxKey{}), b.advertiseValue, b.browseCtx
		b.mu.Unlock()
		if bv != "game-7" || av != "game-7" {
			t.Errorf("ctx value seen by Browse %v, by Advertise %v, want game-7", bv, av)
		}
		if bctx.Err() != nil {
			t.Fatal("cancelling Join's ctx after it returned cancelled the browse loop")
		}
		time.Sleep(time.Second)
		peer := l.join("b")
		l.pumpUntil(10*time.Second, func() bool { a.Pump(); return len(a.Peers()) == 1 && len(peer.Peers()) == 1 })
	})
}

// TestJoinRealCancelled: the exported Join with a ctx that is already done
// returns its error before opening anything (loopback only: were it to
// advertise, it would be on lo).
func TestJoinRealCancelled(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface named lo: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := Join(ctx, Config{DisplayName: "a", ServiceType: "test-game", ListenAddr: "127.0.0.1:0", Interface: lo})
	if s != nil {
		s.Close()
		t.Fatal("Join succeeded with a cancelled ctx")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Join's error %v, want one matching context.Canceled", err)
	}
}
