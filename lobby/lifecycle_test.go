package lobby

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// pumpWaitIn runs s.PumpWait(ctx, d) on its own goroutine; the channel
// closes when it returns.
func pumpWaitIn(s *Session, ctx context.Context, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.PumpWait(ctx, d)
	}()
	return done
}

// settle pumps until the first discovery snapshot was taken (nothing new
// comes after it on a quiet LAN) and takes any wake-up left over, so that
// the next PumpWait has nothing to do.
func settle(l *lan, s *Session) {
	l.pumpFor(time.Second)
	s.PumpWait(l.t.Context(), time.Millisecond)
}

func returned(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// TestPumpWaitZeroMeansNoLimit: PumpWait(ctx, 0) (or a negative timeout)
// waits until there is work or ctx ends, as engine.Server.PumpWait does,
// instead of returning at once.
func TestPumpWaitZeroMeansNoLimit(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run("cancel "+d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				a := l.join("a")
				settle(l, a)
				ctx, cancel := context.WithCancel(t.Context())
				done := pumpWaitIn(a, ctx, d)
				time.Sleep(time.Minute) // fake time: every poll of the registry ran
				synctest.Wait()
				if returned(done) {
					t.Fatalf("PumpWait(ctx, %v) returned with nothing to do and ctx alive", d)
				}
				cancel()
				synctest.Wait()
				if !returned(done) {
					t.Fatal("PumpWait did not return when ctx was cancelled")
				}
			})
		})
	}
	t.Run("work arrives", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := newLAN(t)
			a := l.join("a")
			settle(l, a)
			done := pumpWaitIn(a, t.Context(), 0)
			time.Sleep(time.Minute)
			synctest.Wait()
			if returned(done) {
				t.Fatal("PumpWait(ctx, 0) returned with nothing to do")
			}
			l.join("b") // a's browse sees it: work for a
			start := time.Now()
			<-done
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("PumpWait returned %v after a peer appeared", el)
			}
		})
	})
}

// TestPumpWaitZeroRunsSessionTimers: a session driven only by
// PumpWait(ctx, 0) still closes a connection that sends no hello once
// helloTimeout passes: the session's own timers count as work.
func TestPumpWaitZeroRunsSessionTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a := l.join("a")
		settle(l, a)
		pc, err := l.net.Listen(netip.MustParseAddrPort("10.5.7.1:7000"))
		if err != nil {
			t.Fatal(err)
		}
		ep, err := netcode.ListenPacket(pc, engine.EndpointConfig(netcode.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 3*helloTimeout)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				a.PumpWait(ctx, 0)
			}
		}()
		conn, err := ep.Dial(t.Context(), a.Addr(), netcode.DialOptions{Fingerprint: a.ID()})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for conn.Err() == nil && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		el := time.Since(start)
		cancel()
		<-done
		var ce *netcode.CloseError
		if !errors.As(conn.Err(), &ce) || !strings.Contains(ce.Reason, "no hello") {
			t.Fatalf("after %v: connection error %v, want the session's \"no hello\" close", el, conn.Err())
		}
		if el > helloTimeout+2*time.Second {
			t.Fatalf("silent connection closed after %v, want about %v", el, helloTimeout)
		}
	})
}
