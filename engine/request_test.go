package engine

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

type square struct {
	Action string
	N      int
}

func TestRequestContextAndTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		// The server holds every "hold" request without answering.
		w.srv.Handle("hold", func(p *Peer, m Msg) {})
		w.pumpUntil(10*time.Second, func() bool { return c.Connected() })
		results := map[string]error{}
		at := map[string]time.Duration{}
		start := time.Now()
		ask := func(name string, ctx context.Context, opts ...SendOption) {
			err := c.Request(ctx, Msg{"action": "hold"}, func(_ Msg, err error) {
				results[name], at[name] = err, time.Since(start)
			}, opts...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		cancelled, cancel := context.WithCancel(context.Background())
		ask("cancelled", cancelled)
		deadline, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel2()
		ask("ctx deadline", deadline)
		ask("timeout option", context.Background(), Timeout(2*time.Second))
		ask("option sooner than ctx", deadline, Timeout(time.Second))
		ask("ctx sooner than option", deadline, Timeout(time.Hour))
		ask("default", context.Background())
		w.pumpUntil(500*time.Millisecond, func() bool { return time.Since(start) > 400*time.Millisecond })
		cancel()
		w.pumpUntil(DefaultRequestTimeout+5*time.Second, func() bool { return len(results) == 6 })

		if !errors.Is(results["cancelled"], context.Canceled) || at["cancelled"] > 600*time.Millisecond {
			t.Errorf("cancelled: %v after %v, want context.Canceled at once", results["cancelled"], at["cancelled"])
		}
		for name, want := range map[string]time.Duration{
			"ctx deadline": 3 * time.Second, "timeout option": 2 * time.Second,
			"option sooner than ctx": time.Second, "ctx sooner than option": 3 * time.Second,
			"default": DefaultRequestTimeout,
		} {
			if !errors.Is(results[name], ErrRequestTimeout) {
				t.Errorf("%s: %v, want ErrRequestTimeout", name, results[name])
			}
			if at[name] < want || at[name] > want+100*time.Millisecond {
				t.Errorf("%s: failed after %v, want %v", name, at[name], want)
			}
		}
		for _, name := range []string{"ctx deadline", "ctx sooner than option"} {
			if !errors.Is(results[name], context.DeadlineExceeded) {
				t.Errorf("%s: %v, want it to match context.DeadlineExceeded too", name, results[name])
			}
		}
		if errors.Is(results["timeout option"], context.DeadlineExceeded) {
			t.Errorf("timeout option: %v matches context.DeadlineExceeded, but ctx had no deadline", results["timeout option"])
		}
		// A ctx already done is refused at once.
		if err := c.Request(cancelled, Msg{"action": "hold"}, func(Msg, error) {}); !errors.Is(err, context.Canceled) {
			t.Errorf("Request with a cancelled ctx: %v", err)
		}
	})
}

func TestRequestFuncTyped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		HandleFunc(w.srv, "square", func(p *Peer, m square) {
			p.Reply(square{Action: "squared", N: m.N * m.N})
		})
		w.srv.Handle("odd", func(p *Peer, m Msg) { p.Reply(Msg{"action": "odd", "N": "not a number"}) })
		var got square
		var gotErr, oddErr error
		done := 0
		err := RequestFunc(context.Background(), c, square{Action: "square", N: 12}, func(r square, err error) {
			got, gotErr = r, err
			done++
		}, Timeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		RequestFunc(context.Background(), c, Msg{"action": "odd"}, func(r square, err error) {
			oddErr = err
			done++
		})
		w.pumpUntil(10*time.Second, func() bool { return done == 2 })
		if gotErr != nil || got.N != 144 || got.Action != "squared" {
			t.Errorf("typed reply %+v, %v", got, gotErr)
		}
		if oddErr == nil {
			t.Errorf("a reply that does not decode into the type gave no error")
		}
	})
}

// A client that is also the client of a second server forwards the first
// server's requests there (a relay): the answer, and a failure with its
// code, reach the first server.
func TestClientForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		pc, err := w.net.Listen(netip.MustParseAddrPort("10.3.0.2:31425"))
		if err != nil {
			t.Fatal(err)
		}
		ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		upstream := NewServer(ep, nil)
		defer upstream.Close()
		HandleFunc(upstream, "square", func(p *Peer, m square) { p.Reply(square{Action: "squared", N: m.N * m.N}) })

		relay := w.client()
		toUpstream := w.client(FormatTarget(ep.AddrPort(), upstream.Fingerprint()))
		forward := func(c *Client, m Msg) {
			if err := c.Forward(context.Background(), toUpstream, Timeout(time.Second)); err != nil {
				t.Errorf("forward: %v", err)
			}
		}
		relay.Handle("square", forward)
		relay.Handle("nobody", forward)
		var peer *Peer
		w.srv.OnConnect(func(p *Peer) { peer = p }) // the relay: the server's only client
		for peer == nil || !toUpstream.Connected() {
			w.srv.Pump()
			upstream.Pump()
			relay.Pump()
			toUpstream.Pump()
			time.Sleep(time.Millisecond)
		}
		var reply Msg
		var replyErr, failErr error
		peer.Request(context.Background(), Msg{"action": "square", "N": 9}, func(r Msg, err error) { reply, replyErr = r, err })
		peer.Request(context.Background(), Msg{"action": "nobody"}, func(_ Msg, err error) { failErr = err })
		for (reply == nil && replyErr == nil) || failErr == nil {
			w.srv.Pump()
			upstream.Pump()
			relay.Pump()
			toUpstream.Pump()
			time.Sleep(time.Millisecond)
		}
		if replyErr != nil || reply["N"] != int64(81) {
			t.Errorf("forwarded reply %v, %v", reply, replyErr)
		}
		if !errors.Is(failErr, ErrRemote) || !errors.Is(failErr, ErrNoHandler) {
			t.Errorf("forwarded failure %v, want ErrRemote and ErrNoHandler", failErr)
		}
	})
}

// A game that sleeps in PumpWait(ctx, 0) (no limit) still gets its
// request callbacks when the request times out or its ctx is cancelled:
// nothing else need wake it.
func TestPumpWaitWakesForRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		w.srv.Handle("hold", func(*Peer, Msg) {}) // never answers
		w.pumpUntil(10*time.Second, func() bool { return c.Connected() })
		stop := make(chan struct{})
		srvDone := make(chan struct{})
		go func() { // the server's own loop
			defer close(srvDone)
			for {
				select {
				case <-stop:
					return
				default:
				}
				w.srv.PumpWait(t.Context(), 50*time.Millisecond)
			}
		}()
		cancelled, cancel := context.WithCancel(context.Background())
		got := map[string]time.Duration{}
		start := time.Now()
		c.Request(context.Background(), Msg{"action": "hold"}, func(_ Msg, err error) {
			if errors.Is(err, ErrRequestTimeout) {
				got["timeout"] = time.Since(start)
			}
		}, Timeout(2*time.Second))
		c.Request(cancelled, Msg{"action": "hold"}, func(_ Msg, err error) {
			if errors.Is(err, context.Canceled) {
				got["cancel"] = time.Since(start)
			}
		}, Timeout(time.Hour))
		ctx, stopPump := context.WithCancel(context.Background())
		pumped := make(chan struct{})
		go func() { // the client's loop: no limit, as the docs allow
			defer close(pumped)
			for ctx.Err() == nil {
				c.PumpWait(ctx, 0)
			}
		}()
		time.Sleep(500 * time.Millisecond)
		cancel()
		time.Sleep(3 * time.Second)
		stopPump()
		<-pumped
		close(stop)
		<-srvDone
		if d, ok := got["cancel"]; !ok || d > 600*time.Millisecond {
			t.Errorf("cancelled request's callback: ran %v after %v, want at the cancel (500ms)", ok, d)
		}
		if d, ok := got["timeout"]; !ok || d > 2100*time.Millisecond {
			t.Errorf("timed-out request's callback: ran %v after %v, want at 2s", ok, d)
		}
	})
}
