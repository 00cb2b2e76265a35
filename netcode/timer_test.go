package netcode

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestPingPongRarelyResetsTimer: a connection in a ping-pong does not reset
// its runtime timer for each packet. Every packet moves the loss and ack
// deadlines forward; resetting the timer each time woke the scheduler's
// network poller on the round trip's critical path (the ping-pong
// regression of the outbound-queue merge: 1.5x the context switches). The
// timer is moved when the deadline moved by timerSlack or more.
func TestPingPongRarelyResetsTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		srv, cli := p.connect(t)
		synctest.Wait()
		const rounds = 500
		msg := make([]byte, 32)
		cli.mu.Lock()
		resets0, fires0 := cli.stats.timerResets, cli.stats.timerFires
		cli.mu.Unlock()
		srv.mu.Lock()
		srvResets0 := srv.stats.timerResets
		srv.mu.Unlock()
		for i := range rounds {
			if err := cli.Send(0, msg); err != nil {
				t.Fatal(err)
			}
			cli.Flush()
			synctest.Wait()
			if _, ok := srv.Receive(); !ok {
				t.Fatalf("round %d: the ping did not arrive", i)
			}
			if err := srv.Send(0, msg); err != nil {
				t.Fatal(err)
			}
			srv.Flush()
			synctest.Wait()
			if _, ok := cli.Receive(); !ok {
				t.Fatalf("round %d: the pong did not arrive", i)
			}
			time.Sleep(20 * time.Microsecond) // a LAN round trip
		}
		cli.mu.Lock()
		resets, fires := cli.stats.timerResets-resets0, cli.stats.timerFires-fires0
		cli.mu.Unlock()
		srv.mu.Lock()
		srvResets := srv.stats.timerResets - srvResets0
		srv.mu.Unlock()
		t.Logf("%d round trips: client %d timer resets and %d fires, server %d resets", rounds, resets, fires, srvResets)
		// Each side handles two packets per round trip (one sent, one
		// received) and queues a message: 3+ resets per round trip before.
		if resets > rounds/10 || srvResets > rounds/10 {
			t.Errorf("client %d and server %d timer resets for %d round trips, want at most %d", resets, srvResets, rounds, rounds/10)
		}
	})
}
