package engine

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/floodtest"
	"github.com/pumpnet/pumpnet/netcode"
)

// Issue 12, seed behaviour (peerpy's offer handler): the accept hook sees
// each arriving client (address, proven key, open peers) inside Pump and
// may refuse it with a reason. The refused client gets "disconnected" with
// an error matching netcode.ErrRefused that carries the server's reason,
// and no greeting; the server's game never sees it (no OnConnect, no
// "connected", no "disconnected", none of its messages), and admitted
// clients carry on.
func TestAcceptHookRefusesWithReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var arrivals []Arrival
		w.srv.OnAccept(func(a Arrival) error {
			arrivals = append(arrivals, a)
			if a.Addr.Addr() == netip.MustParseAddr("10.3.1.2") {
				return errors.New("banned: cheater")
			}
			return nil
		})
		var connects, srvConnected, srvDisconnected int
		var chats []string
		w.srv.OnConnect(func(*Peer) { connects++ })
		w.srv.Handle("connected", func(*Peer, Msg) { srvConnected++ })
		w.srv.Handle("disconnected", func(*Peer, Msg) { srvDisconnected++ })
		w.srv.Handle("chat", func(_ *Peer, m Msg) { chats = append(chats, m["text"].(string)) })

		good := w.client()
		var rg, rb recorder
		good.Register(&rg)
		if err := good.Send(Msg{"action": "chat", "text": "good"}); err != nil {
			t.Fatal(err)
		}
		w.pumpUntil(30*time.Second, func() bool { return rg.has("connected") && len(chats) == 1 })
		bad := w.client()
		bad.Register(&rb)
		if err := bad.Send(Msg{"action": "chat", "text": "bad"}); err != nil {
			t.Fatal(err)
		}
		w.pumpUntil(30*time.Second, func() bool { return rb.has("disconnected") })
		// More time: nothing else may arrive from the refused client.
		end := time.Now().Add(2 * time.Second)
		w.pumpUntil(5*time.Second, func() bool { return time.Now().After(end) })

		if len(arrivals) != 2 || arrivals[0].Peers != 0 || arrivals[1].Peers != 1 {
			t.Fatalf("arrivals %+v, want two, the second seeing the first already in", arrivals)
		}
		for _, a := range arrivals {
			if a.Fingerprint.IsZero() || !a.Addr.IsValid() {
				t.Errorf("arrival %+v lacks address or fingerprint", a)
			}
		}
		if fp := good.Conn().(*netcode.Conn).Endpoint().Fingerprint(); arrivals[0].Fingerprint != fp {
			t.Errorf("the first arrival's key is %v, the client's %v", arrivals[0].Fingerprint, fp)
		}
		if connects != 1 || srvConnected != 1 || srvDisconnected != 0 || len(w.srv.Peers()) != 1 || strings.Join(chats, ",") != "good" {
			t.Fatalf("server: OnConnect %d, connected %d, disconnected %d, peers %d, chats %v; want 1, 1, 0, 1, [good]",
				connects, srvConnected, srvDisconnected, len(w.srv.Peers()), chats)
		}
		if strings.Join(rb.events, " ") != "socketConnect disconnected" {
			t.Errorf("refused client events %v, want socketConnect then disconnected", rb.events)
		}
		err := rb.disc[0].Err
		var ce *netcode.CloseError
		if !errors.Is(err, netcode.ErrRefused) || !errors.As(err, &ce) || ce.Code != netcode.CodeRefused || ce.Reason != "banned: cheater" {
			t.Fatalf("refused client's disconnected error %v, want netcode.ErrRefused with reason %q", err, "banned: cheater")
		}
		if !strings.Contains(rb.disc[0].Reason, "banned: cheater") {
			t.Errorf("refused client's disconnected reason %q lacks the server's reason", rb.disc[0].Reason)
		}
		if rg.has("disconnected") {
			t.Errorf("the admitted client was disconnected: %v", rg.disc)
		}
	})
}

// A hook that panics refuses the client ("accept hook failed") and is
// reported as an "error" event holding a *PanicError; an error with no
// text refuses with "refused"; a long reason is cut to 256 bytes of valid
// UTF-8.
func TestAcceptHookPanicEmptyAndLongReasons(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	for _, tc := range []struct {
		name string
		hook func(Arrival) error
		want string
	}{
		{"panic", func(Arrival) error { panic("boom") }, "accept hook failed"},
		{"empty", func(Arrival) error { return errors.New("") }, "refused"},
		{"long", func(Arrival) error { return errors.New(long) }, long[:256]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.srv.OnAccept(tc.hook)
				var panics []error
				w.srv.Handle("error", func(p *Peer, err error) {
					var pe *PanicError
					if p == nil && errors.As(err, &pe) {
						panics = append(panics, err)
					}
				})
				c := w.client()
				var r recorder
				c.Register(&r)
				w.pumpUntil(30*time.Second, func() bool { return r.has("disconnected") })
				var ce *netcode.CloseError
				if !errors.As(r.disc[0].Err, &ce) || ce.Code != netcode.CodeRefused || ce.Reason != tc.want {
					t.Fatalf("client disconnected with %v, want CodeRefused and reason %q", r.disc[0].Err, tc.want)
				}
				if (tc.name == "panic") != (len(panics) == 1) {
					t.Fatalf("%d panic error events", len(panics))
				}
				if len(w.srv.Peers()) != 0 {
					t.Fatalf("server keeps %d peers", len(w.srv.Peers()))
				}
			})
		})
	}
}

// A flood of refused connections costs the server a bounded amount and
// does not keep a good client out: 32 attackers on 127.0.0.1 connect over
// and over (each a full handshake, then refused by the hook), while a
// client from another address (127.0.0.x) is admitted within the bound.
// Afterwards the server holds one peer, the good client; the refused ones
// left nothing behind (goroutines back to where they were).
func TestAcceptHookFloodOfRefusedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and real time: skipped with -short")
	}
	before := runtime.NumGoroutine()
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	floodCert, err := clientIdentity()
	if err != nil {
		t.Fatal(err)
	}
	// The good client's endpoint, on another loopback address.
	ip := floodtest.LoopbackIPs(t, 2)[1]
	ep, err := netcode.Listen(netip.AddrPortFrom(ip, 0).String(), EndpointConfig(netcode.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	goodFP := ep.Fingerprint()
	var refusedByHook, connects atomic.Int64
	srv.OnAccept(func(a Arrival) error {
		if a.Fingerprint != goodFP {
			refusedByHook.Add(1)
			return errors.New("not on the guest list")
		}
		return nil
	})
	srv.OnConnect(func(*Peer) { connects.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		for ctx.Err() == nil {
			srv.PumpWait(ctx, 50*time.Millisecond)
		}
	}()

	// The flood: attackers dial again as soon as they are refused.
	const attackers = 32
	var refused, otherEnds atomic.Int64
	var wg sync.WaitGroup
	floodCtx, stopFlood := context.WithCancel(context.Background())
	for range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for floodCtx.Err() == nil {
				c, err := netcode.Dial(floodCtx, srv.Addr().String(), EndpointConfig(netcode.Config{Certificate: &floodCert}),
					netcode.DialOptions{Fingerprint: srv.Fingerprint()})
				if err != nil {
					// The refusal may overtake the end of the handshake.
					if errors.Is(err, netcode.ErrRefused) {
						refused.Add(1)
					}
					continue
				}
				select {
				case <-c.Done():
					if errors.Is(c.Err(), netcode.ErrRefused) {
						refused.Add(1)
					} else {
						otherEnds.Add(1)
					}
				case <-floodCtx.Done():
				}
				c.Close()
			}
		}()
	}
	// Let the flood build up: a second at least.
	floodStart := time.Now()
	for deadline := floodStart.Add(30 * time.Second); refused.Load() < 2*attackers || time.Since(floodStart) < time.Second; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d refusals in 30 s", refused.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}

	start := time.Now()
	cl, err := Connect(FormatTarget(srv.Addr(), srv.Fingerprint()), &ClientConfig{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	var greeted bool
	var failure error
	cl.Handle("connected", func(Msg) { greeted = true })
	cl.Handle("disconnected", func(d Disconnected) { failure = d.Err })
	limit := 2 * time.Second
	if raceEnabled {
		limit = 5 * time.Second
	}
	for !greeted && failure == nil && time.Since(start) < 3*limit {
		cl.PumpWait(ctx, 20*time.Millisecond)
	}
	el := time.Since(start)
	midFlood := refused.Load()
	floodFor := time.Since(floodStart)
	stopFlood()
	wg.Wait()
	t.Logf("good client greeted=%v after %v (err %v); %d attacker connections refused in %v (%.0f/s; hook ran %d times), %d ended otherwise; server endpoint %+v",
		greeted, el.Round(time.Millisecond), failure, midFlood, floodFor.Round(time.Millisecond), float64(midFlood)/floodFor.Seconds(),
		refusedByHook.Load(), otherEnds.Load(), srv.Endpoint().Stats())
	if !greeted {
		t.Fatalf("good client not greeted during the flood of refused clients: %v", failure)
	}
	if el > limit {
		t.Errorf("good client greeted after %v, want under %v", el, limit)
	}
	if midFlood < 2*attackers {
		t.Errorf("only %d refusals during the test", midFlood)
	}
	cl.Close()
	ep.Close()
	cancel()
	<-srvDone
	if n := connects.Load(); n != 1 {
		t.Errorf("OnConnect ran %d times, want 1 (the good client)", n)
	}
	if n := len(srv.Peers()); n > 1 {
		t.Errorf("the server holds %d peers, want at most the good client", n)
	}
	srv.Close()
	srv.Pump()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines after the flood, %d before", n, before)
	}
}
