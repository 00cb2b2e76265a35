package harness

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// Recorder collects duration samples (round trips, handshakes, delivery
// times) and reports percentiles.
type Recorder struct{ Samples []time.Duration }

// Add records one sample.
func (r *Recorder) Add(d time.Duration) { r.Samples = append(r.Samples, d) }

// Pct returns the p-quantile (0..1) of the samples.
func (r *Recorder) Pct(p float64) time.Duration { return Percentile(r.Samples, p) }

// Report attaches p50-µs and p99-µs and, when base > 0, p50/udp: the p50
// divided by base.
func (r *Recorder) Report(b *testing.B, base time.Duration) {
	p50 := r.Pct(0.50)
	b.ReportMetric(Micros(p50), "p50-µs")
	b.ReportMetric(Micros(r.Pct(0.99)), "p99-µs")
	if base > 0 {
		b.ReportMetric(float64(p50)/float64(base), "p50/udp")
	}
}

// Percentile returns the p-quantile (0..1) of s, nearest rank, without
// modifying s; 0 when s is empty.
func Percentile[T ~int64](s []T, p float64) T {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c[min(len(c)-1, int(float64(len(c))*p))]
}

// Micros returns d in microseconds.
func Micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Ratio returns a/b, or 0 when either is unknown (<= 0), so that no ratio
// is reported rather than a wrong one.
func Ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// ReportRatio reports v under unit unless it is unknown (0).
func ReportRatio(b *testing.B, v float64, unit string) {
	if v > 0 {
		b.ReportMetric(v, unit)
	}
}

// HeapAllocs returns the number of heap allocations the process (every
// goroutine) made so far: runtime.MemStats.Mallocs, which is exact (it
// stops the world briefly; call it only around measured intervals). go
// test's own allocs/op is an integer division, so 0.99 allocations per op
// print as 0: every benchmark here reports the exact figure too.
func HeapAllocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// ReportAllocsPerMsg reports the exact heap allocations per message
// (allocs/msg).
func ReportAllocsPerMsg(b *testing.B, allocs uint64, msgs int) {
	if msgs > 0 {
		b.ReportMetric(float64(allocs)/float64(msgs), "allocs/msg")
	}
}

// Meter measures the CPU time (user + system, all threads; see
// ProcessCPU), the wall time and the heap allocations of the process
// between StartMeter and Stop.
type Meter struct {
	cpu    time.Duration
	Wall   time.Time // when the meter started
	allocs uint64
}

// StartMeter starts a Meter.
func StartMeter() Meter {
	return Meter{cpu: ProcessCPU(), Wall: time.Now(), allocs: HeapAllocs()}
}

// Stop returns the CPU time, wall time and heap allocations since
// StartMeter. cpu is negative when the platform cannot measure it.
func (m Meter) Stop() (cpu, wall time.Duration, allocs uint64) {
	c := ProcessCPU()
	wall = time.Since(m.Wall)
	allocs = HeapAllocs() - m.allocs
	if c < 0 || m.cpu < 0 {
		return -1, wall, allocs
	}
	return c - m.cpu, wall, allocs
}

// Timer is the part of *testing.B that a round of a benchmark drives;
// tests of the harness pass NoTimer.
type Timer interface {
	ResetTimer()
	StopTimer()
}

// NoTimer is a Timer that does nothing.
type NoTimer struct{}

// ResetTimer does nothing.
func (NoTimer) ResetTimer() {}

// StopTimer does nothing.
func (NoTimer) StopTimer() {}

// Settle lets the previous benchmark's goroutines and garbage go before a
// measurement (a GC, then 20 ms); it blocks.
func Settle() {
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
}
