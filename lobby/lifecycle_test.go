package lobby

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
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

// trackingBackend is the in-memory registry that counts the
// advertisements running (advertised and not yet stopped).
type trackingBackend struct {
	*discovery.Memory
	live atomic.Int32
}

func (b *trackingBackend) Advertise(ctx context.Context, service string, r discovery.Record) (discovery.Advertisement, error) {
	ad, err := b.Memory.Advertise(ctx, service, r)
	if err != nil {
		return nil, err
	}
	b.live.Add(1)
	return &trackedAd{Advertisement: ad, b: b}, nil
}

type trackedAd struct {
	discovery.Advertisement
	b    *trackingBackend
	once sync.Once
}

func (a *trackedAd) Stop() error {
	a.once.Do(func() { a.b.live.Add(-1) })
	return a.Advertisement.Stop()
}

// checkClosed fails unless nothing s started still runs: its socket is
// unbound (the address can be taken again) and b has no advertisement of
// it running.
func checkClosed(t *testing.T, l *lan, s *Session, b *trackingBackend) {
	t.Helper()
	if n := b.live.Load(); n != 0 {
		t.Errorf("%d advertisements still running after Close returned", n)
	}
	pc, err := l.net.Listen(s.Addr())
	if err != nil {
		t.Errorf("socket still bound after Close returned: %v", err)
		return
	}
	pc.Close()
}

// TestCloseFromAnotherGoroutine: Close runs on another goroutine while the
// session's own goroutine pumps (PumpWait(ctx, 0), with a peer chatting to
// it), as engine.Server allows: it unblocks the PumpWait, is idempotent,
// and when it returns nothing the session started still runs. Run it
// under -race, repeatedly.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		tb := &trackingBackend{Memory: l.mem}
		a := l.joinWith(tb, "a")
		b := l.join("b")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		stop := make(chan struct{})
		pumping := make(chan struct{})
		go func() { // a's game loop
			defer close(pumping)
			for {
				select {
				case <-stop:
					return
				default:
				}
				a.PumpWait(t.Context(), 0)
			}
		}()
		chatting := make(chan struct{})
		go func() { // b's game loop: chats to a until a is gone
			defer close(chatting)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				_ = b.Send(engine.Msg{"action": "chat", "text": fmt.Sprint(i)})
				b.Pump()
			}
		}()
		time.Sleep(time.Second)
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkClosed(t, l, a, tb)
		if err := a.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		close(stop)
		select {
		case <-pumping:
		case <-time.After(time.Minute):
			t.Fatal("a's PumpWait(ctx, 0) still blocked a minute after Close")
		}
		<-chatting
		if len(l.logs[a].chats) == 0 {
			t.Error("a's loop pumped no chat before Close: the test did not run Close beside a busy Pump")
		}
		l.pumpUntil(15*time.Second, func() bool { return len(b.Peers()) == 0 })
	})
}

// TestCloseUnblocksPumpWait: a PumpWait(ctx, 0) in progress with nothing
// to do returns when another goroutine calls Close, and every later
// PumpWait returns at once.
func TestCloseUnblocksPumpWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		tb := &trackingBackend{Memory: l.mem}
		a := l.joinWith(tb, "a")
		settle(l, a)
		done := pumpWaitIn(a, t.Context(), 0)
		synctest.Wait()
		if returned(done) {
			t.Fatal("PumpWait returned with nothing to do")
		}
		closed := make(chan error)
		go func() { closed <- a.Close() }()
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !returned(done) {
			t.Fatal("PumpWait in progress not unblocked by Close")
		}
		checkClosed(t, l, a, tb)
		start := time.Now()
		a.PumpWait(t.Context(), 0)
		if el := time.Since(start); el != 0 {
			t.Fatalf("PumpWait after Close slept %v", el)
		}
	})
}

// bubbleGoroutines counts the goroutines of the caller's synctest bubble
// (other tests' goroutines may still be ending) and returns their stacks.
func bubbleGoroutines() (int, string) {
	buf := make([]byte, 1<<10)
	self := string(buf[:runtime.Stack(buf, false)])
	i := strings.Index(self, "synctest bubble ")
	if i < 0 {
		panic("not in a synctest bubble")
	}
	tag := self[i:]
	tag = tag[:strings.IndexByte(tag, ']')] + "]"
	buf = make([]byte, 1<<20)
	var mine []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if head, _, _ := strings.Cut(g, "\n"); strings.Contains(head, tag) {
			mine = append(mine, g)
		}
	}
	return len(mine), strings.Join(mine, "\n\n")
}

// TestCloseLeavesNothingRunning: once Close returns, every goroutine the
// session started has ended (counted inside a synctest bubble, where time
// stands still while the goroutines settle), with a peer connected and
// with Close on another goroutine.
func TestCloseLeavesNothingRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		synctest.Wait()
		before, _ := bubbleGoroutines()
		tb := &trackingBackend{Memory: l.mem}
		a := l.joinWith(tb, "a")
		l.pumpFor(time.Second)
		closed := make(chan error)
		go func() { closed <- a.Close() }()
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if after, stacks := bubbleGoroutines(); after != before {
			t.Fatalf("%d goroutines in the bubble before Join, %d after Close returned:\n%s", before, after, stacks)
		}
		checkClosed(t, l, a, tb)
	})
}

// lossyConn drops every third datagram it sends while lossy is set: a
// lossy link with no delay (a delayed datagram would die with the socket),
// which never drops two of the three copies of a close in a row.
type lossyConn struct {
	*fakenet.Conn
	lossy atomic.Bool
	sent  atomic.Int64
}

func (c *lossyConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if c.lossy.Load() && c.sent.Add(1)%3 == 0 {
		return len(b), nil
	}
	return c.Conn.WriteToUDPAddrPort(b, addr)
}

// joinOn joins the LAN on the socket pc, advertising through b.
func (l *lan) joinOn(pc netcode.PacketConn, b discovery.Backend, name string) *Session {
	l.t.Helper()
	cfg := Config{DisplayName: name, ServiceType: "test-game", PollInterval: 200 * time.Millisecond}
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
	return s
}

// TestShutdownDeliversAndSaysWhy: Shutdown, called right after a burst of
// reliable messages on a lossy link, returns once the peer acknowledged
// them all, and the peer's PeerRemoved reason carries Shutdown's reason
// (not a close that discarded data, as Close would give).
func TestShutdownDeliversAndSaysWhy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		tb := &trackingBackend{Memory: l.mem}
		fc, err := l.net.Listen(netip.MustParseAddrPort("10.5.7.1:7000"))
		if err != nil {
			t.Fatal(err)
		}
		pc := &lossyConn{Conn: fc}
		a := l.joinOn(pc, tb, "a")
		b := l.join("b")
		l.pumpUntil(20*time.Second, meshComplete([]*Session{a, b}, 2))
		stop := make(chan struct{})
		bDone := make(chan struct{})
		lb := l.logs[b]
		go func() { // b's game loop, until a is removed
			defer close(bDone)
			for len(lb.removed) == 0 {
				select {
				case <-stop:
					return
				default:
				}
				b.PumpWait(t.Context(), 10*time.Millisecond)
			}
		}()
		pc.lossy.Store(true)
		const n = 300
		for i := range n {
			if err := a.Send(engine.Msg{"action": "chat", "text": fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx, "game over"); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		checkClosed(t, l, a, tb)
		select {
		case <-bDone:
		case <-time.After(10 * time.Second):
			close(stop)
			<-bDone
		}
		if got := len(lb.chats); got != n {
			t.Errorf("b got %d of the %d messages a sent before Shutdown", got, n)
		}
		if len(lb.reasons) != 1 {
			t.Fatalf("b's removals: %v", lb.removed)
		}
		if r := lb.reasons[0]; r == nil || !strings.Contains(r.Error(), "game over") || errors.Is(r, netcode.ErrUnsentData) {
			t.Errorf("b's PeerRemoved reason %v, want Shutdown's reason \"game over\" and no data discarded", r)
		}
	})
}

// TestShutdownCtxEnds: when ctx ends before the peer acknowledged
// everything (here: the link drops every datagram), Shutdown returns ctx's
// error, and the session is closed all the same.
func TestShutdownCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		tb := &trackingBackend{Memory: l.mem}
		fc, err := l.net.Listen(netip.MustParseAddrPort("10.5.7.1:7000"))
		if err != nil {
			t.Fatal(err)
		}
		pc := &blackholeConn{Conn: fc}
		a := l.joinOn(pc, tb, "a")
		b := l.join("b")
		l.pumpUntil(20*time.Second, meshComplete([]*Session{a, b}, 2))
		pc.drop.Store(true)
		if err := a.Send(engine.Msg{"action": "chat", "text": "lost"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if err := a.Shutdown(ctx, "game over"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
		}
		if el := time.Since(start); el != time.Second {
			t.Errorf("Shutdown returned after %v, want when ctx ended (1s)", el)
		}
		checkClosed(t, l, a, tb)
	})
}

// blackholeConn drops every datagram it sends while drop is set.
type blackholeConn struct {
	*fakenet.Conn
	drop atomic.Bool
}

func (c *blackholeConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if c.drop.Load() {
		return len(b), nil
	}
	return c.Conn.WriteToUDPAddrPort(b, addr)
}
