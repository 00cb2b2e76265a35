package main

import (
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2, 3), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 100, 100 * time.Millisecond},
		{hundred[:20], 99, 20 * time.Millisecond},
	} {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("p%v of %d samples = %v, want %v", c.p, len(c.sorted), got, c.want)
		}
	}
}

func TestJitterIsMeanConsecutiveDifference(t *testing.T) {
	if got := jitter(ms(10, 14, 12, 12)); got != 2*time.Millisecond { // (4+2+0)/3
		t.Fatalf("jitter %v", got)
	}
	if got := jitter(ms(5)); got != 0 {
		t.Fatalf("jitter of one sample %v", got)
	}
}

func TestTallyAnswersExpiresAndSummarizes(t *testing.T) {
	t0 := time.Now()
	tl := newTally()
	for i := range 4 {
		tl.send(i, t0.Add(time.Duration(i)*10*time.Millisecond))
	}
	if rtt, ok := tl.answer(0, t0.Add(3*time.Millisecond)); !ok || rtt != 3*time.Millisecond {
		t.Fatalf("answer 0: %v %v", rtt, ok)
	}
	if _, ok := tl.answer(0, t0.Add(5*time.Millisecond)); ok {
		t.Fatal("a duplicate answer was counted")
	}
	if rtt, ok := tl.answer(2, t0.Add(27*time.Millisecond)); !ok || rtt != 7*time.Millisecond {
		t.Fatalf("answer 2: %v %v", rtt, ok)
	}
	// At t0+40ms with a 25 ms timeout, ping 1 (sent at 10ms) is lost, ping
	// 3 (sent at 30ms) still in flight.
	if lost := tl.expire(t0.Add(40*time.Millisecond), 25*time.Millisecond); len(lost) != 1 || lost[0] != 1 {
		t.Fatalf("expired %v, want [1]", lost)
	}
	if _, ok := tl.answer(1, t0.Add(45*time.Millisecond)); ok {
		t.Fatal("a late answer to a lost ping was counted")
	}
	s := tl.summarize()
	want := summary{sent: 4, answered: 2, lost: 1, inFlight: 1,
		min: 3 * time.Millisecond, median: 3 * time.Millisecond, p99: 7 * time.Millisecond, max: 7 * time.Millisecond, jitter: 4 * time.Millisecond}
	if s != want {
		t.Fatalf("summary %+v, want %+v", s, want)
	}
	line := s.format("client", "unreliable")
	if line != "client unreliable summary: sent 4, answered 2, lost 1 (33.3%), in flight at the end 1; rtt min 3ms, median 3ms, p99 7ms, max 7ms; jitter 4ms" {
		t.Fatalf("line %q", line)
	}
	if !summaryRE.MatchString(line) {
		t.Fatalf("the test's pattern does not match %q", line)
	}
}
