package benchmarks

import (
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/netcode"
)

// BenchmarkThroughput measures one-way message throughput over loopback:
// a sender (in a helper process) sends b.N messages of 64 or 1,200 bytes,
// or reliable ones of 64 KiB or 1 MiB, as fast as the transport lets it,
// and this process receives them. One op is one message.
//
//   - raw-udp: one message per datagram, WriteToUDPAddrPort in a loop,
//     no flow control (what the receiver's socket buffer cannot hold is
//     lost): the baseline.
//   - netcode-*: netcode.Conn.Send, Flush every ~4 datagrams' worth, on a
//     reliable-ordered or an unreliable channel; ErrQueueFull makes the
//     sender Flush and sleep 50 µs.
//   - engine-*: the same through engine.Client.Send/Pump and an
//     engine.Server whose loop sleeps until traffic arrives (PumpWait) and
//     dispatches each message to a typed handler.
//
// A 1,200-byte message does not fit a 1,200-byte datagram with its header
// and tag, so netcode fragments it in two. A 64 KiB or 1 MiB message is
// fragmented in about 56 or 900 datagrams, reliable only; its raw UDP
// rows blast the same bytes in 1,200-byte datagrams (harness.RawChunk),
// and goodput/udp (the MB/s ratio) takes msg/s/udp's place.
//
// The baseline is paired: right after each timed round, a raw UDP
// session of the same message size (its own sender process) runs an
// untimed round of about the same duration, and the ratios divide by it
// (raw-udp is paired with another raw-udp session: a check of the
// method). A round ends when every message arrived, or this round's end marker
// (sent after the data, on the same channel), or — lossy modes, when the
// markers were lost too — 100 ms after the sender reported with nothing
// arriving. Metrics: msg/s and MB/s (payload) delivered, from the "go"
// command to the last message; rx-cpu-ns/msg, the CPU time (user+system, all threads,
// getrusage(RUSAGE_SELF)) of this process over the same interval divided
// by the messages received — the sender runs in another process, so this
// is the receive side alone: socket reads, decryption, acks, delivery,
// dispatch and GC; lost-%; rx-allocs/msg (this process) and
// tx-allocs/msg (the sender process) per message; tx-lost-pkt-% and
// tx-rate-MB/s from the sender connection's Stats; msg/s/udp and
// rx-cpu/udp, the ratios to the paired raw UDP round (goodput/udp for
// the large messages).
func BenchmarkThroughput(b *testing.B) {
	cases := []struct {
		name, transport string
		mode            netcode.DeliveryMode
	}{
		{"raw-udp", "udp", 0},
		{"netcode-reliable", "netcode", netcode.ReliableOrdered},
		{"netcode-unreliable", "netcode", netcode.Unreliable},
		{"engine-reliable", "engine", netcode.ReliableOrdered},
		{"engine-unreliable", "engine", netcode.Unreliable},
	}
	for _, size := range []int{64, 1200, 64 << 10, 1 << 20} {
		for _, c := range cases {
			if size > harness.RawChunk && c.mode != netcode.ReliableOrdered && c.transport != "udp" {
				continue // large messages are reliable
			}
			// One connection, and one raw UDP baseline connection, for every
			// run of the sub-benchmark.
			var s, bs *harness.TputSession
			b.Run(harness.SizeName(size)+"/"+c.name, func(b *testing.B) {
				if s == nil {
					s = harness.NewTputSession(b, c.transport, c.mode, size, nil)
					bs = harness.NewTputSession(b, "udp", 0, size, nil)
				}
				b.ReportAllocs()
				b.ResetTimer()
				r := s.Round(b.N)
				b.StopTimer()
				// The baseline: raw UDP for about as long, right after.
				r.Report(b, bs.Baseline(r))
			})
			if s != nil {
				s.Close()
				bs.Close()
			}
		}
	}
}
