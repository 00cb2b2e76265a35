package benchmarks

import (
	"testing"

	"github.com/pumpnet/pumpnet/netcode"
)

// TestHarness runs tiny rounds of the helper-process benchmarks, on
// 127.0.0.1 and on ::1 (loopbackEnv), so that a change that breaks them
// shows up in go test, not only under -bench.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	onLoopbacks(t, harnessRounds)
}

func harnessRounds(t *testing.T) {
	t.Run("throughput", func(t *testing.T) {
		for _, c := range []struct {
			transport string
			mode      netcode.DeliveryMode
		}{
			{"udp", 0},
			{"netcode", netcode.ReliableOrdered},
			{"engine", netcode.Unreliable},
		} {
			s := newTputSession(t, c.transport, c.mode, 64)
			for round := range 2 {
				r := s.round(500)
				if r.sent != 500 || r.got == 0 || (c.transport == "netcode" && r.got != 500) {
					t.Errorf("%s round %d: sent %d, got %d", c.transport, round, r.sent, r.got)
				}
			}
			s.close()
		}
	})
	t.Run("scale", func(t *testing.T) {
		for _, tr := range []string{"raw-udp", "engine"} {
			s := newScaleSession(t, tr, 4)
			r := s.round(noTimer{}, 3)
			s.close()
			if r.statesGot == 0 || r.inputsGot == 0 || r.p99 <= 0 {
				t.Errorf("%s: %+v", tr, r)
			}
		}
	})
}
