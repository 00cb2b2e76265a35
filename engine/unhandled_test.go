package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestUnhandledActionReportedOnce: a message nobody handles (a typo such
// as "mvoe") is told once per action as an "error" event matching
// ErrUnhandled, on both sides, and the connection stays; a catch-all
// Network handler takes everything, so nothing is reported; the number of
// actions reported is bounded. Before, such messages vanished silently.
func TestUnhandledActionReportedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var srvErrs []error
		moves := 0
		if err := w.srv.Handle("error", func(_ *Peer, err error) { srvErrs = append(srvErrs, err) }); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.Handle("move", func(*Peer, Msg) { moves++ }); err != nil {
			t.Fatal(err)
		}
		var greeted *Peer
		w.srv.OnConnect(func(p *Peer) { greeted = p })
		c := w.client()
		rec := &recorder{}
		if err := c.Register(rec); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"mvoe", "move", "mvoe", "jump", "mvoe"} {
			if err := c.Send(Msg{"action": a}); err != nil {
				t.Fatal(err)
			}
		}
		w.pumpUntil(5*time.Second, func() bool { return moves == 1 && len(srvErrs) >= 2 })
		pumpFor(w, 200*time.Millisecond)
		if len(srvErrs) != 2 {
			t.Fatalf("server errors %v, want one for mvoe and one for jump", srvErrs)
		}
		for i, a := range []string{`"mvoe"`, `"jump"`} {
			if !errors.Is(srvErrs[i], ErrUnhandled) || !strings.Contains(srvErrs[i].Error(), a) {
				t.Errorf("server error %d: %v, want ErrUnhandled naming %s", i, srvErrs[i], a)
			}
		}

		// The client side: no report for the greeting it has a handler
		// for, one for an action it lacks.
		if err := greeted.Send(Msg{"action": "news"}); err != nil {
			t.Fatal(err)
		}
		if err := greeted.Send(Msg{"action": "news"}); err != nil {
			t.Fatal(err)
		}
		w.pumpUntil(5*time.Second, func() bool { return len(rec.errs) >= 1 })
		pumpFor(w, 200*time.Millisecond)
		if len(rec.errs) != 1 || !errors.Is(rec.errs[0], ErrUnhandled) || !strings.Contains(rec.errs[0].Error(), `"news"`) {
			t.Fatalf("client errors %v, want one ErrUnhandled for news", rec.errs)
		}
		if c.conn == nil || c.conn.Err() != nil {
			t.Fatal("an unhandled action closed the connection")
		}

		// Made-up actions without end: at most maxUnhandledReports + 1
		// events.
		srvErrs = nil
		for i := range 3 * maxUnhandledReports {
			if err := c.Send(Msg{"action": fmt.Sprintf("x%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		pumpFor(w, time.Second)
		if len(srvErrs) != maxUnhandledReports-2+1 {
			t.Fatalf("%d reports for %d made-up actions, want %d (the bound, then one saying so)", len(srvErrs), 3*maxUnhandledReports, maxUnhandledReports-2+1)
		}
		if last := srvErrs[len(srvErrs)-1]; !strings.Contains(last.Error(), "further ones are not reported") {
			t.Fatalf("last report %v, want it to say the rest are not reported", last)
		}
	})
}

// TestCatchAllSilencesUnhandledReports: with a catch-all Network handler
// every message is handled, so nothing is reported.
func TestCatchAllSilencesUnhandledReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var errs []error
		got := 0
		if err := w.srv.Handle("error", func(_ *Peer, err error) { errs = append(errs, err) }); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.Handle("", func(*Peer, Msg) { got++ }); err != nil {
			t.Fatal(err)
		}
		c := w.client()
		for _, a := range []string{"mvoe", "jump"} {
			if err := c.Send(Msg{"action": a}); err != nil {
				t.Fatal(err)
			}
		}
		w.pumpUntil(5*time.Second, func() bool { return got >= 2 })
		if len(errs) != 0 {
			t.Fatalf("errors %v with a catch-all registered", errs)
		}
	})
}

// pumpFor pumps the server and every client for d of (virtual) time.
func pumpFor(w *world, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Millisecond) {
		w.srv.Pump()
		for _, c := range w.clients {
			c.Pump()
		}
	}
}

// TestHandlersAddUp: as documented on HandleFunc, a second handler for an
// action runs after the first instead of replacing it.
func TestHandlersAddUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var order []string
		type move struct {
			Action string
			X      int
		}
		if err := HandleFunc(w.srv, "move", func(_ *Peer, m move) { order = append(order, fmt.Sprint("first ", m.X)) }); err != nil {
			t.Fatal(err)
		}
		if err := HandleFunc(w.srv, "move", func(_ *Peer, m move) { order = append(order, fmt.Sprint("second ", m.X)) }); err != nil {
			t.Fatal(err)
		}
		c := w.client()
		if err := c.Send(move{Action: "move", X: 7}); err != nil {
			t.Fatal(err)
		}
		w.pumpUntil(5*time.Second, func() bool { return len(order) >= 2 })
		if strings.Join(order, ", ") != "first 7, second 7" {
			t.Fatalf("handlers ran %v, want first then second", order)
		}
	})
}
