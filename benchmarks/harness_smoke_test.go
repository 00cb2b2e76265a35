package benchmarks

import (
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/netcode"
)

// TestHarness runs tiny rounds of the helper-process benchmarks, on
// 127.0.0.1 and on ::1 (harness.LoopbackEnv), so that a change that breaks them
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
			size, n   int
		}{
			{"udp", 0, 64, 500},
			{"netcode", netcode.ReliableOrdered, 64, 500},
			{"engine", netcode.Unreliable, 64, 500},
			// Large messages: raw UDP blasts them in datagrams.
			{"udp", 0, 64 << 10, 20},
			{"netcode", netcode.ReliableOrdered, 64 << 10, 20},
			{"engine", netcode.ReliableOrdered, 1 << 20, 2},
		} {
			s := harness.NewTputSession(t, c.transport, c.mode, c.size, nil)
			for round := range 2 {
				r := s.Round(c.n)
				reliable := c.transport != "udp" && c.mode == netcode.ReliableOrdered
				if r.Sent != int64(c.n) || r.Bytes == 0 || (reliable && r.Got() != float64(c.n)) {
					t.Errorf("%s %s round %d: sent %d, got %v", c.transport, harness.SizeName(c.size), round, r.Sent, r.Got())
				}
				if reliable && (r.Tx == nil || r.Tx.PacketsOut == 0) {
					t.Errorf("%s %s round %d: no sender stats", c.transport, harness.SizeName(c.size), round)
				}
			}
			s.Close()
		}
	})
	t.Run("scale", func(t *testing.T) {
		for _, tr := range []string{"raw-udp", "engine"} {
			s := harness.NewScaleSession(t, tr, 4, nil)
			r := s.Round(harness.NoTimer{}, 3)
			s.Close()
			if r.StatesGot == 0 || r.InputsGot == 0 || r.P99 <= 0 || r.DgramsOut == 0 || r.CallsOut == 0 {
				t.Errorf("%s: %+v", tr, r)
			}
		}
	})
}
