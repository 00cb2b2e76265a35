package benchmarks

import (
	"fmt"
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
)

// The scenario (harness.ScaleTPS, ScaleInputSize, ScaleStateSize): every
// client sends a 100-byte input 60 times a second, and the server
// broadcasts a 300-byte state to every client 60 times a second.

// BenchmarkScale runs one server and N clients (N = 64, 256, 1,024) for b.N
// server ticks at 60 Hz (b.N = 120 is two seconds of play). The clients
// run in a helper process (each with its own UDP socket on 127.0.0.1 and
// its own goroutine, starting its 60 Hz input clock at a random offset),
// so this process holds the server alone.
//
//   - raw-udp: the baseline. One socket; a reader goroutine counts inputs
//     (and registers clients); each tick writes the state to every client
//     with WriteToUDPAddrPort. No encryption, acks or dispatch.
//   - engine: engine.Server with a typed "input" handler; each tick of
//     engine.RunTicks calls Send(state, UnreliableSequenced) then Pump
//     (which dispatches the inputs that arrived and flushes). Clients send
//     inputs with Send(input, Unreliable) then Pump, and are woken by Wake
//     to Pump the states in.
//
// Metrics: cpu-µs/tick, the CPU time (user+system, all threads,
// getrusage(RUSAGE_SELF)) of this process — the server alone — per tick;
// p50-µs and p99-µs of state delivery (the time from the server's
// stamp, taken before the broadcast, to the client's handler; both
// processes read the same system clock); lost-msgs (states and inputs
// not received within 300 ms of the end) and lost-%; allocs/msg of the
// server (per state sent and input received); dgrams-in/tick and
// dgrams-out/tick, the server's datagrams (raw UDP: one input per client
// in, one state per client out; pumpnet adds ACK-only packets; the
// engine's are its endpoint's counters); cpu-ns/dgram, the server's CPU
// per datagram in and out;
// reads/tick and writes/tick, the server's socket calls (raw UDP: one per
// datagram; netcode batches them with recvmmsg and sendmmsg); cpu/udp
// and p99/udp, the ratios to the paired baseline: right after each timed
// round, the same number of ticks runs over raw UDP with its own N clients
// (its own helper process), untimed (raw-udp is paired with another
// raw-udp set: a check of the method).
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{64, 256, 1024} {
		for _, tr := range []string{"raw-udp", "engine"} {
			// One set of clients, and one raw UDP baseline set, for every
			// run of the sub-benchmark.
			var s, bs *harness.ScaleSession
			b.Run(fmt.Sprintf("clients=%d/%s", n, tr), func(b *testing.B) {
				if s == nil {
					s = harness.NewScaleSession(b, tr, n, nil)
					bs = harness.NewScaleSession(b, "raw-udp", n, nil)
				}
				b.ReportAllocs()
				r := s.Round(b, b.N)
				// The baseline: the same ticks over raw UDP, right after.
				base := bs.Round(harness.NoTimer{}, b.N)
				r.Report(b, base)
			})
			if s != nil {
				s.Close()
				bs.Close()
			}
		}
	}
}
