package ackhandler

import (
	"math"
	"testing"
	"time"
)

// rfcRTT is RFC 9002 §5.3 written out in float64 nanoseconds, independently
// of the integer implementation.
type rfcRTT struct {
	has                         bool
	latest, min, smoothed, rvar float64
	prevAdjusted, jitter        float64
}

func (r *rfcRTT) update(latest, ackDelay float64) {
	r.latest = latest
	if !r.has {
		r.has = true
		r.min, r.smoothed, r.rvar, r.prevAdjusted = latest, latest, latest/2, latest
		return
	}
	r.min = math.Min(r.min, latest)
	adjusted := latest
	if latest >= r.min+ackDelay {
		adjusted = latest - ackDelay
	}
	r.rvar = 0.75*r.rvar + 0.25*math.Abs(r.smoothed-adjusted)
	r.smoothed = 0.875*r.smoothed + 0.125*adjusted
	r.jitter += (math.Abs(adjusted-r.prevAdjusted) - r.jitter) / 16
	r.prevAdjusted = adjusted
}

func TestRTTInitial(t *testing.T) {
	var r RTT
	if r.HasSample() || r.Smoothed() != InitialRTT || r.Var() != InitialRTT/2 || r.Min() != 0 || r.Latest() != 0 || r.Jitter() != 0 {
		t.Fatalf("zero RTT: has=%v smoothed=%v var=%v min=%v latest=%v jitter=%v",
			r.HasSample(), r.Smoothed(), r.Var(), r.Min(), r.Latest(), r.Jitter())
	}
	// PTO before any sample: 100 ms + 4*50 ms + maxAckDelay.
	if got, want := r.PTO(5*time.Millisecond), 305*time.Millisecond; got != want {
		t.Fatalf("initial PTO = %v, want %v", got, want)
	}
}

func TestRTTMatchesRFC9002(t *testing.T) {
	ms := time.Millisecond
	type sample struct{ rtt, delay time.Duration }
	tests := []struct {
		name    string
		samples []sample
	}{
		{"single", []sample{{50 * ms, 0}}},
		{"steady", []sample{{20 * ms, 0}, {20 * ms, 0}, {20 * ms, 0}, {20 * ms, 0}}},
		{"ack delay subtracted", []sample{{10 * ms, 0}, {30 * ms, 5 * ms}, {25 * ms, 3 * ms}}},
		{"ack delay not below min", []sample{{10 * ms, 0}, {12 * ms, 5 * ms}, {11 * ms, 4 * ms}}},
		{"first sample ignores delay", []sample{{40 * ms, 20 * ms}, {40 * ms, 0}}},
		{"spike and recover", []sample{{5 * ms, 0}, {5 * ms, 0}, {200 * ms, 1 * ms}, {6 * ms, 0}, {5 * ms, 0}, {5 * ms, 0}}},
		{"decreasing", []sample{{100 * ms, 0}, {80 * ms, 0}, {60 * ms, 0}, {40 * ms, 0}, {20 * ms, 0}}},
		{"sub-millisecond LAN", []sample{{300 * time.Microsecond, 0}, {250 * time.Microsecond, 10 * time.Microsecond}, {400 * time.Microsecond, 0}}},
		{"zero sample", []sample{{0, 0}, {1 * ms, 0}}},
		{"negative delay counts as zero", []sample{{10 * ms, 0}, {20 * ms, -5 * ms}}},
	}
	// Integer truncation loses under 1 ns per step; the 7/8 decay keeps the
	// accumulated error under 8 ns.
	const tol = 10
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r RTT
			var ref rfcRTT
			for i, s := range tt.samples {
				r.Update(s.rtt, s.delay)
				ref.update(float64(s.rtt), math.Max(float64(s.delay), 0))
				check := func(what string, got time.Duration, want float64) {
					t.Helper()
					if math.Abs(float64(got)-want) > tol {
						t.Errorf("after sample %d: %s = %v, RFC 9002 gives %v", i, what, got, time.Duration(want))
					}
				}
				check("Smoothed", r.Smoothed(), ref.smoothed)
				check("Var", r.Var(), ref.rvar)
				check("Min", r.Min(), ref.min)
				check("Latest", r.Latest(), ref.latest)
				check("Jitter", r.Jitter(), ref.jitter)
				for _, mad := range []time.Duration{0, 5 * ms, 25 * ms} {
					want := ref.smoothed + math.Max(4*ref.rvar, float64(time.Millisecond)) + float64(mad)
					check("PTO", r.PTO(mad), want)
				}
			}
			if !r.HasSample() {
				t.Error("HasSample false after samples")
			}
		})
	}
}

func TestRTTIgnoresNegativeSample(t *testing.T) {
	var r RTT
	r.Update(-time.Millisecond, 0)
	if r.HasSample() {
		t.Fatal("negative sample was taken")
	}
	r.Update(10*time.Millisecond, 0)
	r.Update(-time.Second, 0)
	if r.Latest() != 10*time.Millisecond || r.Smoothed() != 10*time.Millisecond {
		t.Fatalf("negative sample changed state: latest %v smoothed %v", r.Latest(), r.Smoothed())
	}
}

func TestRTTJitter(t *testing.T) {
	// Alternating 10 ms / 20 ms samples: |D| = 10 ms each time, so the
	// jitter converges to 10 ms; constant samples drive it back to 0.
	var r RTT
	for i := range 200 {
		r.Update(time.Duration(10+10*(i%2))*time.Millisecond, 0)
	}
	if j := r.Jitter(); j < 9900*time.Microsecond || j > 10*time.Millisecond {
		t.Fatalf("jitter of alternating 10/20 ms = %v, want ~10ms", j)
	}
	for range 300 {
		r.Update(15*time.Millisecond, 0)
	}
	if j := r.Jitter(); j > 10*time.Microsecond {
		t.Fatalf("jitter after constant samples = %v, want ~0", j)
	}
}

func TestRTTHugeValuesDoNotOverflow(t *testing.T) {
	var r RTT
	for range 10 {
		r.Update(math.MaxInt64, math.MaxInt64)
	}
	if r.Smoothed() <= 0 || r.Var() < 0 || r.PTO(math.MaxInt64) <= 0 {
		t.Fatalf("overflow: smoothed %v var %v pto %v", r.Smoothed(), r.Var(), r.PTO(math.MaxInt64))
	}
	if r.PTO(math.MaxInt64)<<MaxPTOBackoff <= 0 {
		t.Fatal("PTO with backoff overflows")
	}
}

func TestRTTAllocs(t *testing.T) {
	var r RTT
	if n := testing.AllocsPerRun(100, func() { r.Update(time.Millisecond, 0); _ = r.PTO(0) }); n != 0 {
		t.Fatalf("Update allocates %v times", n)
	}
}
