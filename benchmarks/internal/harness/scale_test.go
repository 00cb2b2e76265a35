package harness

import (
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// TestScaleEngineCountersSurviveClosingPeers runs engine server ticks
// while a client that the server had sent many datagrams to disconnects
// mid-round. The datagrams out over the round must stay a sane count:
// summing the live peers' PacketsOut at both ends of the round (as the
// suites did) loses the closed peer's packets from the second sum, and
// the unsigned difference underflowed to ~1.8e19.
func TestScaleEngineCountersSurviveClosingPeers(t *testing.T) {
	srv, err := engine.Listen(LoopbackAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &scaleEngine{tb: t, srv: srv, state: NewBlob("state", ScaleStateSize)}
	defer e.Close()
	pump := func(cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
			srv.Pump()
			time.Sleep(time.Millisecond)
		}
	}
	var clients [2]*engine.Client
	for i := range clients {
		done := make(chan *engine.Client)
		go func() { done <- ConnectEngine(t, srv.ConnectString(), nil) }()
		var cl *engine.Client
		pump(func() bool {
			select {
			case cl = <-done:
				return true
			default:
				return false
			}
		})
		clients[i] = cl
		defer cl.Close()
	}
	// The peer about to go gets more datagrams first than the round will
	// send to the other (30 states and a few acks).
	gone := srv.Peers()[0]
	pump(func() bool {
		if err := gone.Send(e.state, engine.Unreliable); err != nil {
			t.Fatal(err)
		}
		return gone.Stats().PacketsOut >= 150
	})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		time.Sleep(100 * time.Millisecond) // into the round
		gone.Close()
	}()
	const ticks = 30 // half a second
	c := e.Run(ticks)
	<-closed
	if n := len(srv.Peers()); n != 1 {
		t.Fatalf("%d peers after the round, want 1 (the closed one gone)", n)
	}
	// At most a few datagrams per client and tick (states, acks,
	// keepalives); an underflow is ~1.8e19.
	if limit := uint64(ticks * len(clients) * 10); c.DgramsOut == 0 || c.DgramsOut > limit {
		t.Errorf("datagrams out over %d ticks = %d, want 1..%d", ticks, c.DgramsOut, limit)
	}
}
