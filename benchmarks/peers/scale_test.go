package peers

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
)

// BenchmarkPeers_Scale is ../benchmarks' BenchmarkScale with the peers
// beside pumpnet's engine, at 256 and 1,024 clients: one server (this
// process) and N clients (a helper process, each with its own socket),
// every client sending a 100-byte input at 60 Hz, the server broadcasting
// a 300-byte state to all at 60 Hz, for b.N ticks; each round is paired
// with an untimed raw UDP round of as many ticks right after it (cpu/udp,
// p99/udp).
//
//   - raw-udp: the baseline, as in ../benchmarks.
//   - enet: one ENet host serving N peers on one channel. Each tick is one
//     enet_host_broadcast of the state (flags 0: unreliable, sequenced —
//     the engine's UnreliableSequenced) then enet_host_flush; between
//     ticks the server's goroutine waits in enet_host_service (1 ms
//     timeout, events drained with 0) and counts inputs. Each client is
//     its own host and goroutine, waiting in enet_host_service until its
//     next input is due (at most 17 ms) and sending the input
//     ENET_PACKET_FLAG_UNSEQUENCED (the engine's Unreliable), then
//     enet_host_flush. Hosts are serviced between rounds too.
//   - kcp: a kcp-go listener, one fast-mode session per client (tuneKCP),
//     one reader goroutine per session; each tick Writes the state to every
//     session (each Write flushes). KCP is reliable only: states and inputs
//     are reliable here, where the others send them unreliably.
//   - engine: as in ../benchmarks.
//
// The peers run first; engine rows then report cpu/best-peer and
// p99/best-peer: their cpu/udp and p99/udp divided by the lowest among the
// peers at the same N. dgrams-in/tick and dgrams-out/tick are the server's
// datagrams (ENet: its host's counters; kcp-go: its process-wide SNMP
// counters, which only the server's sessions move in this process; the
// engine: its endpoint's), and cpu-ns/dgram the server's CPU per datagram
// in and out; reads/tick and writes/tick are known for raw UDP and the
// engine only.
func BenchmarkPeers_Scale(b *testing.B) {
	for _, n := range []int{256, 1024} {
		for _, tr := range []string{"raw-udp", "enet", "kcp", "engine"} {
			var s, bs *harness.ScaleSession
			b.Run(fmt.Sprintf("clients=%d/%s", n, tr), func(b *testing.B) {
				if s == nil {
					s = harness.NewScaleSession(b, tr, n, listenPeerScale)
					bs = harness.NewScaleSession(b, "raw-udp", n, nil)
				}
				b.ReportAllocs()
				r := s.Round(b, b.N)
				base := bs.Round(harness.NoTimer{}, b.N)
				r.Report(b, base)
				key := fmt.Sprintf("scale/%d", n)
				cpu, p99 := harness.Ratio(r.CPUPerTick(), base.CPUPerTick()), harness.Ratio(float64(r.P99), float64(base.P99))
				switch tr {
				case "enet", "kcp":
					recordPeer(b, key+"/cpu", cpu)
					recordPeer(b, key+"/p99", p99)
				case "engine":
					reportVsPeer(b, key+"/cpu", cpu, "cpu/best-peer", false)
					reportVsPeer(b, key+"/p99", p99, "p99/best-peer", false)
				}
			})
			if s != nil {
				s.Close()
				bs.Close()
			}
		}
	}
}

// listenPeerScale makes the server of an ENet or kcp-go scale session.
func listenPeerScale(tb testing.TB, spec *harness.Spec, start func(harness.Spec) *harness.Helper) harness.ScaleServer {
	n := spec.Clients
	switch spec.Transport {
	case "enet":
		e := newENetScaleServer(tb, n)
		spec.Addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), e.host.Port()).String()
		start(*spec).Reply(2 * time.Minute)
		// The clients saw their connections; the server sees each one
		// when the client's acknowledgement arrives.
		for deadline := time.Now().Add(30 * time.Second); e.connected.Load() < int64(n) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if got := e.connected.Load(); got != int64(n) {
			e.Close()
			tb.Fatalf("%d ENet peers connected, want %d", got, n)
		}
		return e
	case "kcp":
		k := newKCPScaleServer(tb)
		spec.Addr = k.ln.Addr().String()
		start(*spec).Reply(2 * time.Minute)
		if got := k.count(); got != n {
			k.Close()
			tb.Fatalf("%d kcp sessions, want %d", got, n)
		}
		return k
	}
	return nil
}

// connectPeerScale connects one ENet or kcp-go game client.
func connectPeerScale(spec harness.Spec, c *harness.ScaleClient) (run, closer func(), err error) {
	switch spec.Transport {
	case "enet":
		return connectENetScaleClient(spec, c)
	case "kcp":
		return connectKCPScaleClient(spec, c)
	}
	return nil, nil, nil
}

// peersScale is the peers' "scale" helper role.
func peersScale(spec harness.Spec, hio *harness.HelperIO) error {
	return harness.ScaleClients(spec, hio, connectPeerScale)
}
