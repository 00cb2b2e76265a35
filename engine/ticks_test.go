package engine

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestRunTicksDoesNotDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second+time.Millisecond)
		defer cancel()
		start := time.Now()
		var ticks []time.Duration
		RunTicks(ctx, 60, func(tick uint64) {
			ticks = append(ticks, time.Since(start))
			time.Sleep(7 * time.Millisecond) // each step takes 7 of its 16.7 ms
		})
		if len(ticks) != 601 {
			t.Fatalf("%d ticks in 10 s at 60 tps, want 601", len(ticks))
		}
		period := time.Second / 60
		for i, at := range ticks {
			if want := time.Duration(i) * period; at != want {
				t.Fatalf("tick %d at %v, want %v (drift)", i, at, want)
			}
		}
	})
}

func TestRunTicksCatchesUpThenResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		var at []time.Duration
		RunTicks(ctx, 100, func(tick uint64) {
			at = append(at, time.Since(start))
			switch tick {
			case 10:
				time.Sleep(50 * time.Millisecond) // overrun: the next ticks catch up
			case 50:
				time.Sleep(time.Second) // a stall beyond MaxCatchUp: no burst
			}
		})
		// After the 50 ms overrun, ticks 11..15 run back to back, then the
		// schedule is met again.
		if at[11] != at[15] || at[16]-at[15] > 10*time.Millisecond {
			t.Fatalf("no catch-up after an overrun: %v", at[10:18])
		}
		if at[20] != 200*time.Millisecond {
			t.Fatalf("tick 20 at %v, want 200ms", at[20])
		}
		// After the 1 s stall, the next tick runs at once and the rate
		// resumes: no burst of 100 ticks.
		if d := at[52] - at[51]; d != 10*time.Millisecond {
			t.Fatalf("after a stall ticks were %v apart, want the normal 10ms", d)
		}
	})
}
