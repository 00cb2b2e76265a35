package netcode

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// TestLoopbackAllModes runs two real endpoints on 127.0.0.1, and on ::1,
// and exchanges messages on all four delivery modes, then checks that
// closing leaves no goroutine behind.
func TestLoopbackAllModes(t *testing.T) { forEachLoopback(t, loopbackAllModes) }

func loopbackAllModes(t *testing.T, ip netip.Addr) {
	before := runtime.NumGoroutine()
	modes := []DeliveryMode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced}
	cfg := &Config{Channels: modes}
	srv, err := Listen(netip.AddrPortFrom(ip, 0).String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := srv.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	cli, err := Dial(ctx, srv.AddrPort().String(), cfg, DialOptions{Fingerprint: srv.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if sc == nil {
		t.FailNow()
	}
	if sc.PeerFingerprint() != cli.Endpoint().Fingerprint() {
		t.Fatal("server does not see the client's fingerprint")
	}
	const per = 100
	for i := range per {
		for ch := range modes {
			if err := cli.Send(uint8(ch), seqMsg(uint64(i), 64+ch*300)); err != nil {
				t.Fatal(err)
			}
		}
		if i%10 == 9 {
			cli.Flush()
			time.Sleep(time.Millisecond)
		}
	}
	cli.Flush()
	// Echo everything back on the same channel.
	counts := map[uint8]int{}
	receiveUntil(t, sc, 5*time.Second, func(m Message) {
		msgSeq(t, m.Data)
		counts[m.Channel]++
		if err := sc.Send(m.Channel, m.Data); err != nil {
			t.Fatal(err)
		}
	}, func() bool {
		return counts[0] == per && counts[1] == per && counts[2] >= per*9/10 && counts[3] >= per*9/10
	})
	sc.Flush()
	back := map[uint8]int{}
	receiveUntil(t, cli, 5*time.Second, func(m Message) {
		msgSeq(t, m.Data)
		back[m.Channel]++
	}, func() bool { return back[0] == per && back[1] == per })
	t.Logf("server got %v, client got back %v; client stats %+v", counts, back, cli.Stats())

	cli.Close()
	srv.Close()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
