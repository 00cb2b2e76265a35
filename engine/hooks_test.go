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

// Issue 12, defect 9: game code the engine calls outside message handlers
// (OnConnect, OnDisconnect, the Gate, request callbacks) runs with the same
// panic recovery: a *PanicError as an "error" event, and only the channel
// concerned closed. Before, the panic escaped from Pump.

func panicsOf(t *testing.T, errs []error, hook string) *PanicError {
	t.Helper()
	for _, err := range errs {
		var pe *PanicError
		if errors.As(err, &pe) && pe.Handler == hook {
			return pe
		}
	}
	t.Fatalf("no PanicError from %s in %v", hook, errs)
	return nil
}

func TestOnConnectPanicClosesOnlyThatChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		n := 0
		w.srv.OnConnect(func(p *Peer) {
			n++
			if n == 2 {
				panic("bad player")
			}
		})
		var errs []error
		w.srv.Handle("error", func(_ *Peer, err error) { errs = append(errs, err) })
		var events []string
		w.srv.Handle("", func(_ *Peer, m Msg) { events = append(events, m.Action()) })
		good := w.client()
		var rg recorder
		good.Register(&rg)
		w.pumpUntil(10*time.Second, func() bool { return rg.has("connected") })
		bad := w.client()
		var rb recorder
		bad.Register(&rb)
		w.pumpUntil(10*time.Second, func() bool { return rb.has("disconnected") && len(w.srv.Peers()) == 1 })
		pe := panicsOf(t, errs, "OnConnect")
		if pe.Value != "bad player" {
			t.Fatalf("panic value %v", pe.Value)
		}
		if rb.disc[0].Reason != "server handler failed" {
			t.Fatalf("bad client: %+v", rb.disc[0])
		}
		// The failed channel got no "connected" event, but its
		// "disconnected" came.
		want := []string{"connected", "error", "disconnected"}
		if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
			t.Fatalf("server events %v, want %v", events, want)
		}
		if rg.has("disconnected") || !good.Connected() {
			t.Fatal("the good client was affected")
		}
	})
}

func TestOnDisconnectPanicIsReportedAndDisconnectedStillComes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.srv.OnDisconnect(func(*Peer, error) { panic("cleanup bug") })
		var errs []error
		w.srv.Handle("error", func(_ *Peer, err error) { errs = append(errs, err) })
		disc := 0
		w.srv.Handle("disconnected", func(*Peer, Msg) { disc++ })
		a, b := w.client(), w.client()
		w.pumpUntil(10*time.Second, func() bool { return a.Connected() && b.Connected() && len(w.srv.Peers()) == 2 })
		a.Close()
		w.pumpUntil(10*time.Second, func() bool { return disc == 1 })
		panicsOf(t, errs, "OnDisconnect")
		// The server still works for the other client.
		got := false
		w.srv.Handle("chat", func(*Peer, Msg) { got = true })
		b.Send(Msg{"action": "chat"})
		w.pumpUntil(10*time.Second, func() bool { return got })
	})
}

func TestGatePanicClosesOnlyThatChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newWorld(t).net
		pc, _ := n.Listen(netip.MustParseAddrPort("10.3.0.7:31425"))
		ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(ep, &ServerConfig{Gate: func(p *Peer, payload []byte) bool {
			if p.Name == "bad" {
				panic("gate bug")
			}
			return true
		}})
		defer srv.Close()
		w := &world{t: t, net: n, srv: srv, next: 100}
		var errs []error
		srv.Handle("error", func(_ *Peer, err error) { errs = append(errs, err) })
		srv.OnConnect(func(p *Peer) {
			if len(srv.Peers()) == 2 {
				p.Name = "bad"
			}
		})
		got := 0
		srv.Handle("chat", func(*Peer, Msg) { got++ })
		target := FormatTarget(ep.AddrPort(), srv.Fingerprint())
		good := w.client(target)
		w.pumpUntil(10*time.Second, func() bool { return good.Connected() && len(srv.Peers()) == 1 })
		bad := w.client(target)
		var rb recorder
		bad.Register(&rb)
		w.pumpUntil(10*time.Second, func() bool { return bad.Connected() && len(srv.Peers()) == 2 })
		bad.Send(Msg{"action": "chat"})
		w.pumpUntil(10*time.Second, func() bool { return rb.has("disconnected") })
		pe := panicsOf(t, errs, "Gate")
		if pe.Action != "chat" {
			t.Fatalf("gate panic reported for action %q", pe.Action)
		}
		good.Send(Msg{"action": "chat"})
		w.pumpUntil(10*time.Second, func() bool { return got == 1 })
		for _, c := range w.clients {
			c.Close()
		}
	})
}

func TestRequestCallbackPanicIsRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.srv.Handle("ask", func(p *Peer, m Msg) { p.Reply(Msg{"action": "answer"}) })
		var chs []*Peer
		w.srv.OnConnect(func(p *Peer) { chs = append(chs, p) })
		var srvErrs []error
		w.srv.Handle("error", func(_ *Peer, err error) { srvErrs = append(srvErrs, err) })
		c, other := w.client(), w.client()
		var rc recorder
		c.Register(&rc)
		other.Handle("ask", func(cl *Client, m Msg) { cl.Reply(Msg{"action": "answer"}) })
		w.pumpUntil(10*time.Second, func() bool { return c.Connected() && other.Connected() && len(chs) == 2 })
		// A client's callback panics: an error event, the client closes.
		c.Request(context.Background(), Msg{"action": "ask"}, func(Msg, error) { panic("client callback bug") }, Timeout(time.Second))
		w.pumpUntil(10*time.Second, func() bool { return rc.has("disconnected") })
		var pe *PanicError
		if len(rc.errs) == 0 || !errors.As(rc.errs[0], &pe) || pe.Handler != "Request callback" || pe.Action != "ask" {
			t.Fatalf("client errors %v", rc.errs)
		}
		// A server's callback panics (here on a timeout): only that
		// channel closes.
		w.pumpUntil(10*time.Second, func() bool { return len(w.srv.Peers()) == 1 })
		target := w.srv.Peers()[0] // the other client's
		var ro recorder
		other.Register(&ro)
		target.Request(context.Background(), Msg{"action": "ask"}, func(Msg, error) { panic("server callback bug") }, Timeout(time.Second))
		w.pumpUntil(10*time.Second, func() bool { return len(w.srv.Peers()) == 0 && ro.has("disconnected") })
		panicsOf(t, srvErrs, "Request callback")
		if ro.disc[0].Reason != "server handler failed" {
			t.Fatalf("other client: %+v", ro.disc[0])
		}
	})
}
