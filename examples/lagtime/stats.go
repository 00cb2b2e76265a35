package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// tally is one ping series as one side sees it: what it sent and when
// (time.Time values carry Go's monotonic clock reading, so Sub measures
// elapsed time even if the wall clock jumps), and the round-trip times of
// the answers.
type tally struct {
	pending  map[int]time.Time // sent, not answered yet
	rtts     []time.Duration   // in the order answers arrived
	sent     int
	lost     int // unanswered within the loss timeout (unreliable only)
	answered int
}

func newTally() *tally { return &tally{pending: make(map[int]time.Time)} }

// send records that count was sent at now.
func (t *tally) send(count int, now time.Time) {
	if _, dup := t.pending[count]; !dup {
		t.sent++
	}
	t.pending[count] = now
}

// answer records the answer to count and returns its round-trip time;
// ok is false for an answer to nothing pending (a duplicate, or one that
// came after it was counted lost).
func (t *tally) answer(count int, now time.Time) (rtt time.Duration, ok bool) {
	at, ok := t.pending[count]
	if !ok {
		return 0, false
	}
	delete(t.pending, count)
	rtt = now.Sub(at)
	t.rtts = append(t.rtts, rtt)
	t.answered++
	return rtt, true
}

// expire counts as lost what has waited longer than timeout, and returns
// those counts in order.
func (t *tally) expire(now time.Time, timeout time.Duration) []int {
	var lost []int
	for c, at := range t.pending {
		if now.Sub(at) > timeout {
			lost = append(lost, c)
		}
	}
	slices.Sort(lost)
	for _, c := range lost {
		delete(t.pending, c)
		t.lost++
	}
	return lost
}

// summary is what a side prints for a series at the end.
type summary struct {
	sent, answered, lost, inFlight int
	min, median, p99, max, jitter  time.Duration
}

// summarize computes the summary. Percentiles are nearest-rank (the
// smallest sample with at least p% of the samples at or below it), so each
// is a measured value and min <= median <= p99 <= max. Jitter is the mean
// absolute difference between consecutive round-trip times, in the order
// they were measured (as RFC 3550's interarrival jitter, unsmoothed).
func (t *tally) summarize() summary {
	s := summary{sent: t.sent, answered: t.answered, lost: t.lost, inFlight: len(t.pending)}
	if len(t.rtts) == 0 {
		return s
	}
	sorted := slices.Clone(t.rtts)
	slices.Sort(sorted)
	s.min, s.max = sorted[0], sorted[len(sorted)-1]
	s.median = percentile(sorted, 50)
	s.p99 = percentile(sorted, 99)
	s.jitter = jitter(t.rtts)
	return s
}

// percentile returns the nearest-rank p-th percentile of sorted (not
// empty), 0 < p <= 100.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(float64(len(sorted)) * p / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// jitter is the mean absolute difference of consecutive samples.
func jitter(rtts []time.Duration) time.Duration {
	if len(rtts) < 2 {
		return 0
	}
	var sum time.Duration
	for i := 1; i < len(rtts); i++ {
		d := rtts[i] - rtts[i-1]
		sum += max(d, -d)
	}
	return sum / time.Duration(len(rtts)-1)
}

// format writes the summary as one line after label, e.g.
//
//	client   reliable summary: sent 20, answered 20, lost 0 (0.0%); rtt min 210µs, median 260µs, p99 1.1ms, max 1.1ms; jitter 45µs
//
// Loss is lost / (answered + lost): pings still in flight when the
// connection ended are listed apart and not counted as lost.
func (s summary) format(label string, name string) string {
	line := fmt.Sprintf("%s %10s summary: sent %d, answered %d, lost %d (%.1f%%)", label, name, s.sent, s.answered, s.lost, s.lossPercent())
	if s.inFlight > 0 {
		line += fmt.Sprintf(", in flight at the end %d", s.inFlight)
	}
	if s.answered == 0 {
		return line + "; rtt n/a"
	}
	return line + fmt.Sprintf("; rtt min %s, median %s, p99 %s, max %s; jitter %s",
		dur(s.min), dur(s.median), dur(s.p99), dur(s.max), dur(s.jitter))
}

func (s summary) lossPercent() float64 {
	if s.answered+s.lost == 0 {
		return 0
	}
	return 100 * float64(s.lost) / float64(s.answered+s.lost)
}

// dur prints a duration to the microsecond.
func dur(d time.Duration) string { return d.Round(time.Microsecond).String() }
