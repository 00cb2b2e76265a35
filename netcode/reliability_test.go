package netcode

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

// lossyPair connects a pair over a clean link, then makes the client's link
// (both directions) lossy: 20% loss, 2% duplication, reordering, jitter.
func lossyPair(t *testing.T, modes []DeliveryMode, dir linkcond.Direction) (srv, cli *Conn) {
	cfg := &Config{Channels: modes, Link: &LinkConditions{Seed: 7}}
	p := newFakePair(t, &Config{Channels: modes}, cfg)
	srv, cli = p.connect(t)
	if err := p.conditioner(t).SetConfig(linkcond.Config{Send: dir, Receive: dir}); err != nil {
		t.Fatal(err)
	}
	return srv, cli
}

func TestReliableOrderedThroughLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cli := lossyPair(t, nil, lossy)
		const n = 10000
		go sendAll(t, cli, 0, n, 64)
		next := uint64(0)
		receiveUntil(t, srv, 10*time.Minute, func(m Message) {
			if s := msgSeq(t, m.Data); s != next {
				t.Fatalf("got message %d, want %d (duplicate or out of order)", s, next)
			}
			next++
		}, func() bool { return next == n })
		// Nothing more may arrive: no duplicates after the last one.
		time.Sleep(5 * time.Second)
		if m, ok := srv.Receive(); ok {
			t.Fatalf("extra message %d after all %d", msgSeq(t, m.Data), n)
		}
		st := cli.Stats()
		if st.Resends == 0 || st.LostPackets == 0 {
			t.Fatalf("no resends through 20%% loss: %+v", st)
		}
		t.Logf("client stats: %+v", st)
	})
}

func TestReliableUnorderedThroughLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cli := lossyPair(t, []DeliveryMode{ReliableUnordered}, lossy)
		const n = 5000
		go sendAll(t, cli, 0, n, 64)
		seen := make(map[uint64]bool)
		outOfOrder := 0
		last := uint64(0)
		receiveUntil(t, srv, 10*time.Minute, func(m Message) {
			s := msgSeq(t, m.Data)
			if seen[s] {
				t.Fatalf("message %d delivered twice", s)
			}
			if s < last {
				outOfOrder++
			}
			last = s
			seen[s] = true
		}, func() bool { return len(seen) == n })
		time.Sleep(5 * time.Second)
		if m, ok := srv.Receive(); ok {
			t.Fatalf("extra message %d", msgSeq(t, m.Data))
		}
		if outOfOrder == 0 {
			t.Fatal("reliable-unordered never delivered out of order through loss: is it holding messages back?")
		}
	})
}

func TestUnreliableSequencedNeverGoesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cli := lossyPair(t, []DeliveryMode{UnreliableSequenced}, lossy)
		const n = 3000
		go func() {
			for i := range n {
				if err := cli.Send(0, seqMsg(uint64(i), 64)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				cli.Flush()
				time.Sleep(time.Millisecond)
			}
		}()
		got, last := 0, int64(-1)
		deadline := time.Now().Add(n*time.Millisecond + 2*time.Second)
		receiveUntil(t, srv, time.Minute, func(m Message) {
			s := int64(msgSeq(t, m.Data))
			if s <= last {
				t.Fatalf("message %d delivered after %d", s, last)
			}
			last = s
			got++
		}, func() bool { return time.Now().After(deadline) })
		// Roughly 80% should arrive (20% loss, no resends).
		if got < n/2 || got == n {
			t.Fatalf("received %d of %d: expected losses but most to arrive", got, n)
		}
	})
}

func TestUnreliableAtMostOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cli := lossyPair(t, []DeliveryMode{Unreliable}, lossy)
		const n = 2000
		go func() {
			for i := range n {
				cli.Send(0, seqMsg(uint64(i), 64))
				cli.Flush()
				time.Sleep(time.Millisecond)
			}
		}()
		seen := make(map[uint64]bool)
		deadline := time.Now().Add(n*time.Millisecond + 2*time.Second)
		receiveUntil(t, srv, time.Minute, func(m Message) {
			s := msgSeq(t, m.Data)
			if seen[s] {
				t.Fatalf("unreliable message %d delivered twice", s)
			}
			seen[s] = true
		}, func() bool { return time.Now().After(deadline) })
		if len(seen) < n/2 || len(seen) == n {
			t.Fatalf("received %d of %d", len(seen), n)
		}
	})
}

func TestLargeReliableMessageThroughLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := lossy
		dir.Loss = 0.05
		srv, cli := lossyPair(t, nil, dir)
		big := make([]byte, 1<<20)
		for i := range big {
			big[i] = byte(i * 7 / 3)
		}
		if err := cli.Send(0, big); err != nil {
			t.Fatal(err)
		}
		cli.Flush()
		var got []byte
		receiveUntil(t, srv, 10*time.Minute, func(m Message) {
			got = append([]byte(nil), m.Data...)
		}, func() bool { return got != nil })
		if !bytes.Equal(got, big) {
			t.Fatalf("1 MiB message arrived corrupted (%d bytes)", len(got))
		}
	})
}

func TestAllModesBothDirections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		modes := []DeliveryMode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced}
		p := newFakePair(t, &Config{Channels: modes}, &Config{Channels: modes})
		srv, cli := p.connect(t)
		for ch := range modes {
			if err := cli.Send(uint8(ch), seqMsg(uint64(ch), 100)); err != nil {
				t.Fatal(err)
			}
			if err := srv.Send(uint8(ch), seqMsg(uint64(10+ch), 100)); err != nil {
				t.Fatal(err)
			}
		}
		cli.Flush()
		srv.Flush()
		for _, tc := range []struct {
			c    *Conn
			base uint64
		}{{srv, 0}, {cli, 10}} {
			got := map[uint8]uint64{}
			receiveUntil(t, tc.c, time.Second, func(m Message) {
				got[m.Channel] = msgSeq(t, m.Data)
			}, func() bool { return len(got) == len(modes) })
			for ch := range modes {
				if got[uint8(ch)] != tc.base+uint64(ch) {
					t.Fatalf("channel %d got %d", ch, got[uint8(ch)])
				}
			}
		}
		if err := cli.Send(9, []byte("x")); err == nil {
			t.Fatal("send on an undefined channel succeeded")
		}
	})
}
