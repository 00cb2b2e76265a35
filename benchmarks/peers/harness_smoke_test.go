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
				r := s.round(noTimer{}, 6)
				if r.statesGot == 0 || r.inputsGot == 0 || r.p99 <= 0 || r.dgramsOut < 4*6 || r.dgramsIn == 0 {
					t.Errorf("%s round %d: %+v", tr, round, r)
				}
			}
			s.close()
		}
	})
}

func TestRecordPeer(t *testing.T) {
	recordPeer("test/lower", 2, false)
	recordPeer("test/lower", 1.5, false)
	recordPeer("test/lower", 3, false)
	recordPeer("test/lower", 0, false) // unknown: ignored
	recordPeer("test/higher", 2, true)
	recordPeer("test/higher", 5, true)
	recordPeer("test/higher", 4, true)
	peerBest.Lock()
	lower, higher := peerBest.m["test/lower"], peerBest.m["test/higher"]
	peerBest.Unlock()
	if lower != 1.5 || higher != 5 {
		t.Errorf("best lower-is-better %v (want 1.5), higher-is-better %v (want 5)", lower, higher)
	}
	if peerKey("pingpong", true) == peerKey("pingpong", false) {
		t.Error("reliable and unreliable peers share a key")
	}
}
