// Package benchmarks holds pumpnet's go test -bench suites. Every figure is
// reported next to a baseline measured in the same run (raw UDP echo, raw
// pion/dtls echo) as a ratio, because machines are shared and noisy.
//
// The package has no non-test code. Run the suites with
//
//	go test -run XXX -bench . ./benchmarks
package benchmarks
