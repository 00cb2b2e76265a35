package main

import (
	"fmt"
	"strings"
	"testing"
)

const sample = `go: go1.26.8
goos: linux
goarch: amd64
pkg: github.com/pumpnet/pumpnet/benchmarks
cpu: AMD EPYC
BenchmarkPingPong_latency/raw-udp-2         	  500	 13510 ns/op	 11.63 p50-µs	 0.9966 p50/udp	 22.57 p99-µs	 0 allocs/msg	 35 B/op	 0 allocs/op
BenchmarkPingPong_latency/engine-reliable-2 	  500	 20431 ns/op	 16.08 p50-µs	 1.2501 p50/udp	 74.30 p99-µs	 0.03 allocs/msg	 45 B/op	 0 allocs/op
BenchmarkPingPong_latency/engine-reliable-2 	  500	 20431 ns/op	 16.08 p50-µs	 1.2400 p50/udp	 74.30 p99-µs	 0 allocs/msg	 45 B/op	 0 allocs/op
BenchmarkPingPong_latency/engine-reliable-2 	  500	 20431 ns/op	 16.08 p50-µs	 1.2600 p50/udp	 74.30 p99-µs	 0 allocs/msg	 45 B/op	 0 allocs/op
BenchmarkThroughput/64B/netcode-reliable-2  	20000	  1794 ns/op	 558052 msg/s	 9.9999 msg/s/udp	 0 rx-allocs/msg
PASS
ok  	github.com/pumpnet/pumpnet/benchmarks	0.334s
`

func TestTable(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r.write(&out, "a note")
	s := out.String()
	for _, want := range []string{
		"Machine: linux/amd64, cpu: AMD EPYC, GOMAXPROCS 2, go1.26.8.",
		"a note",
		// median of 1.2501, 1.24, 1.26 is 1.2501: shown rounded up, missed.
		"| RTT p50 ≤ 1.25× raw UDP | PingPong_latency/engine-reliable | p50/udp | 1.26× | ≤ 1.25× | **missed** |",
		// 9.9999 must not show as 10.0.
		"| Throughput/64B/netcode-reliable | msg/s/udp | 9.99× | ≥ 10× | **missed** |",
		"| 64B/netcode-reliable | 1×20000 | 558052 | 9.99 | 0 |",
		"| 0 allocs per message (bulk receiver) | Throughput/64B/netcode-reliable | rx-allocs/msg | 0 | 0 | met |",
		"| handshake p50 ≤ 1.2× raw pion | Handshake/netcode-cert | p50/pion | — | ≤ 1.2× | not run |",
		// medians: p50/udp 1.2501 (rounded up), allocs/msg 0 (of 0.03, 0, 0)
		"| engine-reliable | 3×500 | 16.1 | 1.26 | 74.3 | 0 |",
		"| Benchmark | runs×N | p50-µs | p50/udp | p99-µs | allocs/msg |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "ns/op") {
		t.Errorf("ns/op shown:\n%s", s)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		dir  int
		want string
	}{
		{1.2501, +1, "1.26"}, {1.25, +1, "1.25"}, {9.9999, -1, "9.99"}, {10, -1, "10.0"},
		{558052, 0, "558052"}, {0.03475, 0, "0.0348"}, {-32.77, 0, "-32.8"}, {0, 0, "0"},
	} {
		if got := format(c.v, c.dir); got != c.want {
			t.Errorf("format(%v, %d) = %q, want %q", c.v, c.dir, got, c.want)
		}
	}
}

func TestSplice(t *testing.T) {
	doc := "intro\n" + beginMarker + "\nold\n" + endMarker + "\noutro\n"
	got, err := splice(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + beginMarker + "\nnew\n" + endMarker + "\noutro\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := splice("no markers", "x"); err == nil {
		t.Error("no error without markers")
	}
}

const peersSample = `go: go1.26.8
pkg: github.com/pumpnet/pumpnet/benchmarks/peers
BenchmarkPeers_PingPong/raw-udp-2          	  500	 13510 ns/op	 11.63 p50-µs	 0.9966 p50/udp
BenchmarkPeers_PingPong/enet-reliable-2    	  500	 13510 ns/op	 17.00 p50-µs	 1.5049 p50/udp
BenchmarkPeers_PingPong/kcp-reliable-2     	  500	 13510 ns/op	 23.00 p50-µs	 2.0000 p50/udp
BenchmarkPeers_PingPong/engine-reliable-2  	  500	 13510 ns/op	 22.00 p50-µs	 1.9600 p50/udp	 1.3021 p50/best-peer
BenchmarkPeers_Throughput/64B/enet-reliable-2 	20000	  1794 ns/op	 2000000 msg/s	 16.001 msg/s/udp
BenchmarkPeers_Throughput/64B/kcp-reliable-2  	20000	  1794 ns/op	 400000 msg/s	 3.2 msg/s/udp
BenchmarkPeers_Throughput/64B/netcode-reliable-2 	20000	  1794 ns/op	 600000 msg/s	 4.8 msg/s/udp	 0.2999 msg/s/best-peer
PASS
`

func TestTableWithPeers(t *testing.T) {
	s := render(t, sample, peersSample)
	for _, want := range []string{
		"| Goal | Benchmark | Metric | Measured | Target | Verdict | Best peer | ÷ best peer |",
		// The best reliable peer is enet (1.5049, rounded in its favour,
		// down); pumpnet's ratio to it is rounded up.
		"| RTT p50 ≤ 1.25× raw UDP | PingPong_latency/engine-reliable | p50/udp | 1.26× | ≤ 1.25× | **missed** | 1.50× enet-reliable | 1.31× |",
		"| RTT p50: engine ≤ the best peer (reliable) | Peers_PingPong/engine-reliable | p50/best-peer | 1.31× | ≤ 1× | **missed** | 1.50× enet-reliable | 1.31× |",
		// Rates: the peer's rounded up, pumpnet's down.
		"| 64 B reliable msg/s ≥ 1.25× the best peer | Peers_Throughput/64B/netcode-reliable | msg/s/best-peer | 0.299× | ≥ 1.25× | **missed** | 16.1× enet-reliable | 0.299× |",
		// No unreliable peer and no engine row in the peers sample.
		"| PingPong_latency/engine-unreliable | p50/udp | — | ≤ 1.25× | not run | — | — |",
		"| 64 B reliable msg/s ≥ 1.25× the best peer | Peers_Throughput/64B/engine-reliable | msg/s/best-peer | — | ≥ 1.25× | not run | 16.1× enet-reliable | — |",
		// The peers' own tables follow the suite's.
		"### Peers_PingPong",
		"| kcp-reliable | 1×500 | 23.0 | 2.00 |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestPeerFor(t *testing.T) {
	for _, c := range []struct {
		bench, unit string
		want        *peerCmp // nil: no peer column
	}{
		{"PingPong_latency/netcode-unreliable", "p50/udp", &peerCmp{[]string{"Peers_PingPong/enet-unreliable"}, "p50/udp", "Peers_PingPong/netcode-unreliable", "p50/best-peer"}},
		{"Throughput/1200B/engine-reliable", "msg/s/udp", &peerCmp{[]string{"Peers_Throughput/1200B/enet-reliable", "Peers_Throughput/1200B/kcp-reliable"}, "msg/s/udp", "Peers_Throughput/1200B/engine-reliable", "msg/s/best-peer"}},
		{"Scale/clients=1024/engine", "p99/udp", &peerCmp{[]string{"Peers_Scale/clients=1024/enet", "Peers_Scale/clients=1024/kcp"}, "p99/udp", "Peers_Scale/clients=1024/engine", "p99/best-peer"}},
		{"Throughput/1MiB/engine-reliable", "goodput/udp", &peerCmp{[]string{"Peers_Throughput/1MiB/enet-reliable", "Peers_Throughput/1MiB/kcp-reliable"}, "goodput/udp", "Peers_Throughput/1MiB/engine-reliable", "goodput/best-peer"}},
		{"Throughput/1MiB/engine-reliable", "tx-lost-pkt-%", nil},
		{"Throughput/64B/netcode-unreliable", "msg/s/udp", nil},
		{"Throughput/64B/netcode-reliable", "rx-allocs/msg", nil},
		{"Scale/clients=256/engine", "allocs/msg", nil},
		{"Handshake/netcode-cert", "p50/pion", nil},
	} {
		got := peerFor(goal{bench: c.bench, unit: c.unit})
		if (got == nil) != (c.want == nil) || (got != nil && fmt.Sprint(*got) != fmt.Sprint(*c.want)) {
			t.Errorf("peerFor(%s %s) = %+v, want %+v", c.bench, c.unit, got, c.want)
		}
	}
}

const largeSample = `go: go1.26.8
BenchmarkThroughput/64KiB/raw-udp-2           	  100	 1 ns/op	 97.06 MB/s	 1.01 goodput/udp	 83.65 lost-%
BenchmarkThroughput/64KiB/netcode-reliable-2  	  100	 1 ns/op	 80.00 MB/s	 0.80001 goodput/udp	 0.99 tx-lost-pkt-%
BenchmarkThroughput/64KiB/engine-reliable-2   	  100	 1 ns/op	 60.00 MB/s	 0.7999 goodput/udp	 1.0 tx-lost-pkt-%
PASS
`

const largePeersSample = `go: go1.26.8
BenchmarkPeers_Throughput/64KiB/enet-reliable-2   	  100	 1 ns/op	 1.2001 goodput/udp	 0.5 tx-lost-pkt-%
BenchmarkPeers_Throughput/64KiB/kcp-reliable-2    	  100	 1 ns/op	 0.4 goodput/udp
BenchmarkPeers_Throughput/64KiB/netcode-reliable-2	  100	 1 ns/op	 0.9 goodput/udp	 0.7501 goodput/best-peer
PASS
`

// TestLargeMessageGoals checks the goal rows of the 64 KiB and 1 MiB
// rows: goodput against raw UDP blasting the same bytes (higher is
// better: rounded down), and the sender's declared loss, strictly below
// 1%.
func TestLargeMessageGoals(t *testing.T) {
	s := render(t, largeSample, largePeersSample)
	for _, want := range []string{
		"| 64 KiB reliable goodput ≥ 0.8× raw UDP (same bytes) | Throughput/64KiB/netcode-reliable | goodput/udp | 0.800× | ≥ 0.8× | met | 1.21× enet-reliable | 0.750× |",
		"| 64 KiB reliable goodput ≥ 0.8× raw UDP (same bytes) | Throughput/64KiB/engine-reliable | goodput/udp | 0.799× | ≥ 0.8× | **missed** | 1.21× enet-reliable | — |",
		"| 64 KiB reliable: sender's declared loss < 1% | Throughput/64KiB/netcode-reliable | tx-lost-pkt-% | 0.990% | < 1% | met | — | — |",
		"| 64 KiB reliable: sender's declared loss < 1% | Throughput/64KiB/engine-reliable | tx-lost-pkt-% | 1.00% | < 1% | **missed** | — | — |",
		"| 1 MiB reliable goodput ≥ 0.8× raw UDP (same bytes) | Throughput/1MiB/netcode-reliable | goodput/udp | — | ≥ 0.8× | not run |",
		"| 1 MiB reliable: sender's declared loss < 1% | Throughput/1MiB/engine-reliable | tx-lost-pkt-% | — | < 1% | not run |",
		"| 64KiB/netcode-reliable | 1×100 | 80.0 | 0.800 | | 0.990 |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// render is the table of a suite's output and a peers run's, merged.
func render(t *testing.T, suite, peers string) string {
	t.Helper()
	r, err := parse(strings.NewReader(suite))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parse(strings.NewReader(peers))
	if err != nil {
		t.Fatal(err)
	}
	r.merge(p)
	var out strings.Builder
	r.write(&out, "")
	return out.String()
}
