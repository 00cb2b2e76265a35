// Package benchmarks holds pumpnet's go test -bench suites: latency
// (BenchmarkPingPong_latency), throughput, scale, handshakes and idle
// memory. Every figure is reported next to a baseline measured in the same
// run (raw UDP with netip.AddrPort calls, raw pion/dtls v3) as a ratio,
// because machines are shared and noisy. README.md describes each
// benchmark, the method and the goals; cmd/table turns the output into
// its results table. The peers — ENet and kcp-go, in the same scenarios and
// the same run as raw UDP and pumpnet — are measured by the module in
// ./peers (a module of its own: ENet needs cgo).
//
// The package has no non-test code; the machinery it shares with ./peers
// (helper processes, meters, the throughput and scale drivers) is
// ./internal/harness. Run the suites with
//
//	go test -run XXX -bench latency ./benchmarks
//	go test -run XXX -bench . -benchtime 2s ./benchmarks
package benchmarks
