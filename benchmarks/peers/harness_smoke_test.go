package peers

import (
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
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
			for _, c := range []struct{ size, n int }{{64, 500}, {1200, 500}, {64 << 10, 20}, {1 << 20, 2}} {
				s := newTputSession(t, tr, 0, c.size)
				for round := range 2 {
					// Reliable: Round itself fails unless all arrive.
					if r := s.Round(c.n); r.Sent != int64(c.n) || r.Got() != float64(c.n) {
						t.Errorf("%s %s round %d: sent %d, got %v", tr, harness.SizeName(c.size), round, r.Sent, r.Got())
					}
				}
				s.Close()
			}
		}
	})
	t.Run("scale", func(t *testing.T) {
		for _, tr := range []string{"enet", "kcp"} {
			s := harness.NewScaleSession(t, tr, 4, listenPeerScale)
			for round := range 2 {
				r := s.Round(harness.NoTimer{}, 30) // half a second: room for a loaded machine
				// ENet's broadcast is flushed at once: at least a datagram
				// per client and tick. kcp-go sends from its own goroutine
				// and may coalesce: its counter only has to move.
				minOut := uint64(1)
				if tr == "enet" {
					minOut = 4 * 30
				}
				if r.StatesGot == 0 || r.InputsGot == 0 || r.P99 <= 0 || r.DgramsOut < minOut || r.DgramsIn == 0 {
					t.Errorf("%s round %d: %+v", tr, round, r)
				}
			}
			s.Close()
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
