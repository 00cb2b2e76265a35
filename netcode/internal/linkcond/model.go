package linkcond

import (
	"math/bits"
	"math/rand/v2"
)

// dropReason says why the model dropped a datagram.
type dropReason uint8

const (
	keep dropReason = iota
	dropLoss
	dropBurst
	dropQueue
)

// verdict is the model's decision about one datagram: dropped, or delivered
// once or twice at the given times (nanoseconds since the Conn's base time).
type verdict struct {
	drop      dropReason
	copies    int
	due       [2]int64
	reordered bool
}

// model is the random state of one direction: the Gilbert-Elliott chain, the
// bandwidth-capped link and the random stream. It is not safe for concurrent
// use; a direction's mutex guards it.
type model struct {
	rng       *rand.Rand
	bad       bool  // Gilbert-Elliott state
	busyUntil int64 // when the bandwidth-capped link finishes its backlog
}

func newModel(seed, stream uint64) model {
	return model{rng: rand.New(rand.NewPCG(seed, stream))}
}

// chance returns true with probability p, drawing a random number only when
// p is strictly between 0 and 1 so that a zero Direction costs nothing.
func (m *model) chance(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return m.rng.Float64() < p
}

// delay returns Latency + uniform(-Jitter, +Jitter), clamped at 0.
func (m *model) delay(d *Direction) int64 {
	t := int64(d.Latency)
	if j := int64(d.Jitter); j > 0 {
		t += m.rng.Int64N(2*j+1) - j
	}
	return max(t, 0)
}

// decide decides the fate of a datagram of size bytes offered at now. d must
// have its defaults applied.
func (m *model) decide(d *Direction, now int64, size int) verdict {
	if d.BurstEnter > 0 {
		if m.bad {
			m.bad = !m.chance(d.BurstExit)
		} else {
			m.bad = m.chance(d.BurstEnter)
		}
		if m.bad && m.chance(d.BurstLoss) {
			return verdict{drop: dropBurst}
		}
	} else {
		m.bad = false
	}
	if m.chance(d.Loss) {
		return verdict{drop: dropLoss}
	}
	depart := now
	if d.Bandwidth > 0 {
		start := max(now, m.busyUntil)
		if queued := backlogBytes(start-now, d.Bandwidth); queued+uint64(size) > uint64(d.QueueBytes) {
			return verdict{drop: dropQueue}
		}
		m.busyUntil = start + serialisation(size, d.Bandwidth)
		depart = m.busyUntil
	}
	v := verdict{copies: 1}
	v.due[0] = depart + m.delay(d)
	if m.chance(d.Reorder) {
		v.due[0] += int64(d.ReorderDelay)
		v.reordered = true
	}
	if m.chance(d.Duplicate) {
		v.due[1] = depart + m.delay(d)
		v.copies = 2
	}
	return v
}

// serialisation returns the nanoseconds size bytes occupy a link of bw bytes
// per second, rounded up.
func serialisation(size int, bw int64) int64 {
	return (int64(size)*1e9 + bw - 1) / bw
}

// backlogBytes converts the time the link stays busy into the bytes still
// queued, rounding down, saturating instead of overflowing.
func backlogBytes(busy, bw int64) uint64 {
	if busy <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(busy), uint64(bw))
	if hi != 0 {
		return 1 << 63
	}
	return lo / 1e9
}
