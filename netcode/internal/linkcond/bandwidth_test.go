package linkcond_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

func TestBandwidthSerialisesFIFO(t *testing.T) {
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(lat.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const bw, size, n = 10_000, 1000, 100 // 100 ms per datagram
				r := newRig(t, linkcond.Config{Send: linkcond.Direction{Bandwidth: bw, QueueBytes: 1 << 20, Latency: lat}})
				col := collect(r.peer)
				for i := range n {
					r.lc.WriteToUDPAddrPort(packetOf(i, size), addrB)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				got := col.arrivals()
				if len(got) != n {
					t.Fatalf("%d arrivals, want %d", len(got), n)
				}
				for i, a := range got {
					want := time.Duration(i+1)*size*time.Second/bw + lat
					if a.idx != i || a.at != want {
						t.Fatalf("arrival %d = packet %d at %v, want packet %d at %v", i, a.idx, a.at, i, want)
					}
				}
				if last, min := got[n-1].at, time.Duration(n*size)*time.Second/bw; last < min {
					t.Errorf("%d bytes took %v, less than %v at %d B/s", n*size, last, min, bw)
				}
			})
		})
	}
}

func TestBandwidthIdleLinkStartsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Receive: linkcond.Direction{Bandwidth: 1000}})
		col := collect(r.lc)
		r.peer.WriteToUDPAddrPort(packetOf(0, 100), addrA)
		time.Sleep(5 * time.Second) // the link goes idle
		r.peer.WriteToUDPAddrPort(packetOf(1, 100), addrA)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		got := col.arrivals()
		if len(got) != 2 || got[0].at != 100*time.Millisecond || got[1].at != 5100*time.Millisecond {
			t.Fatalf("arrivals = %v, want at 100ms and 5.1s", got)
		}
	})
}

func TestBandwidthQueueDropsTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Send: linkcond.Direction{Bandwidth: 1000, QueueBytes: 5000}})
		col := collect(r.peer)
		for i := range 20 {
			r.lc.WriteToUDPAddrPort(packetOf(i, 1000), addrB)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		got := col.arrivals()
		if len(got) != 5 {
			t.Fatalf("%d arrivals, want the 5 that fit 5000 bytes of queue", len(got))
		}
		for i, a := range got {
			if a.idx != i {
				t.Fatalf("arrival %d is packet %d: the head must survive and the tail be dropped", i, a.idx)
			}
		}
		s := r.lc.Stats().Send
		if s.DroppedQueue != 15 || s.Passed != 5 {
			t.Errorf("stats = %+v, want DroppedQueue 15, Passed 5", s)
		}
		checkInvariants(t, "Send", s)
		// The queue has drained: the link takes datagrams again.
		r.lc.WriteToUDPAddrPort(packetOf(20, 1000), addrB)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := col.arrivals(); len(got) != 6 || got[5].idx != 20 {
			t.Fatalf("after draining: arrivals %v", got)
		}
	})
}

func TestBandwidthDefaultQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Send: linkcond.Direction{Bandwidth: 1000}})
		for i := range 100 {
			r.lc.WriteToUDPAddrPort(packetOf(i, 1000), addrB)
		}
		want := linkcond.DefaultQueueBytes / 1000 // whole datagrams that fit
		if s := r.lc.Stats().Send; s.Passed != uint64(want) || s.DroppedQueue != uint64(100-want) {
			t.Errorf("stats = %+v, want Passed %d with the default %d-byte queue", s, want, linkcond.DefaultQueueBytes)
		}
	})
}
