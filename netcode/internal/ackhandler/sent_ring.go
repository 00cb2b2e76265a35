package ackhandler

import "time"

// sentPacket is the record of one sent packet.
type sentPacket[R any] struct {
	pn           uint64
	sent         time.Time
	size         int
	ackEliciting bool
	live         bool // neither acknowledged nor declared lost yet
	refs         []R  // reused from packet to packet
}

// sentRing holds records in send order (increasing packet numbers). Records
// that are no longer live stay in place until they reach either end, so a
// position keeps naming the same record. The ring grows by doubling up to its
// capacity; after that it never allocates, and each slot's refs slice keeps
// its backing array from one packet to the next.
type sentRing[R any] struct {
	buf      []sentPacket[R]
	head     int // index in buf of position 0
	n        int // positions in use, live or not
	capacity int
}

const initialRingLen = 8

func (r *sentRing[R]) full() bool { return r.n >= r.capacity }

// at returns the record at position k (0 = oldest), 0 <= k < n.
func (r *sentRing[R]) at(k int) *sentPacket[R] {
	i := r.head + k
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return &r.buf[i]
}

// push returns a fresh slot after the newest record. The caller checks full.
func (r *sentRing[R]) push() *sentPacket[R] {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.n++
	return r.at(r.n - 1)
}

func (r *sentRing[R]) grow() {
	l := min(max(2*len(r.buf), initialRingLen), r.capacity)
	buf := make([]sentPacket[R], l)
	for k := range r.n {
		buf[k] = *r.at(k)
	}
	r.buf, r.head = buf, 0
}

// trim drops records that are no longer live from both ends.
func (r *sentRing[R]) trim() {
	for r.n > 0 && !r.buf[r.head].live {
		r.head++
		if r.head == len(r.buf) {
			r.head = 0
		}
		r.n--
	}
	for r.n > 0 && !r.at(r.n-1).live {
		r.n--
	}
}

// search returns the first position whose packet number is >= pn (n if none).
func (r *sentRing[R]) search(pn uint64) int {
	lo, hi := 0, r.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.at(m).pn < pn {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
