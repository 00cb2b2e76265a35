package engine

import (
	"context"
	"errors"
	"time"
)

// MaxCatchUp is how far RunTicks may fall behind before it stops catching
// up and drops the missed ticks' wall time (a server stalled by the OS, or a
// step that took too long): it then resumes at the normal rate, counting
// ticks on, never running a burst of more than MaxCatchUp worth of steps.
const MaxCatchUp = 250 * time.Millisecond

// RunTicks calls step(tick) tps times per second, tick counting from 0, until
// ctx ends (it then returns ctx's error). Ticks are scheduled against a fixed
// start time, so the rate does not drift however long each step takes; a
// step that overruns makes the next ones run back to back until the loop has
// caught up (at most MaxCatchUp behind). Headless servers call Pump inside
// step. It blocks.
func RunTicks(ctx context.Context, tps int, step func(tick uint64)) error {
	if tps <= 0 {
		return errors.New("engine: ticks per second must be positive")
	}
	period := time.Second / time.Duration(tps)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for tick := uint64(0); ; tick++ {
		due := start.Add(time.Duration(tick) * period)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		} else if -wait > MaxCatchUp {
			start = time.Now().Add(-time.Duration(tick) * period)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		step(tick)
	}
}
