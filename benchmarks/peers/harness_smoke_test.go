package peers

import (
	"testing"
)

// TestHarness runs tiny rounds of the peers' helper-process benchmarks, so
// that a change that breaks them shows up in go test, not only under
// -bench.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	t.Run("throughput", func(t *testing.T) {
		for _, tr := range []string{"enet", "kcp"} {
			for _, size := range []int{64, 1200} {
				s := newTputSession(t, tr, 0, size)
				for round := range 2 {
					// Reliable: round itself fails unless all 500 arrive.
					if r := s.round(500); r.sent != 500 || r.got != 500 {
						t.Errorf("%s %d B round %d: sent %d, got %d", tr, size, round, r.sent, r.got)
					}
				}
				s.close()
			}
		}
	})
	t.Run("scale", func(t *testing.T) {
		for _, tr := range []string{"enet", "kcp"} {
			s := newScaleSession(t, tr, 4)
			for round := range 2 {
				r := s.round(noTimer{}, 30) // half a second: room for a loaded machine
				// ENet's broadcast is flushed at once: at least a datagram
				// per client and tick. kcp-go sends from its own goroutine
				// and may coalesce: its counter only has to move.
				minOut := uint64(1)
				if tr == "enet" {
					minOut = 4 * 30
				}
				if r.statesGot == 0 || r.inputsGot == 0 || r.p99 <= 0 || r.dgramsOut < minOut || r.dgramsIn == 0 {
					t.Errorf("%s round %d: %+v", tr, round, r)
				}
			}
			s.close()
		}
	})
}

// TestRecordPeer checks that the best peer is the best of each peer's
// last run: earlier runs of a sub-benchmark (go test's b.N calibration)
// do not count.
func TestRecordPeer(t *testing.T) {
	t.Run("enet", func(t *testing.T) {
		recordPeer(t, "test/x", 0.5) // a calibration run: replaced below
		recordPeer(t, "test/x", 2)
	})
	t.Run("kcp", func(t *testing.T) {
		recordPeer(t, "test/x", 3)
	})
	t.Run("gone", func(t *testing.T) {
		recordPeer(t, "test/x", 0.1)
		recordPeer(t, "test/x", 0) // unknown in its last run: forgotten
	})
	if got := bestPeer("test/x", false); got != 2 {
		t.Errorf("lowest = %v, want 2", got)
	}
	if got := bestPeer("test/x", true); got != 3 {
		t.Errorf("highest = %v, want 3", got)
	}
	if got := bestPeer("test/none", true); got != 0 {
		t.Errorf("no peer: %v, want 0", got)
	}
	if peerKey("pingpong", true) == peerKey("pingpong", false) {
		t.Error("reliable and unreliable peers share a key")
	}
}
