package linkcond

import "net/netip"

// packet is one copy of a datagram held by the conditioner. buf comes from a
// direction's free list.
type packet struct {
	due  int64  // nanoseconds since the Conn's base time
	seq  uint64 // tie-break: equal due times leave in arrival order
	addr netip.AddrPort
	buf  []byte
}

// delayLine is a min-heap of packets ordered by (due, seq). It is written
// out by hand rather than with container/heap, whose interface would make
// every push allocate. It is not safe for concurrent use.
type delayLine struct {
	pkts []packet
}

func (h *delayLine) len() int { return len(h.pkts) }

func (h *delayLine) less(i, j int) bool {
	a, b := &h.pkts[i], &h.pkts[j]
	return a.due < b.due || a.due == b.due && a.seq < b.seq
}

// push adds p and reports whether it became the earliest packet.
func (h *delayLine) push(p packet) bool {
	h.pkts = append(h.pkts, p)
	i := len(h.pkts) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h.pkts[i], h.pkts[parent] = h.pkts[parent], h.pkts[i]
		i = parent
	}
	return i == 0
}

// peek returns the earliest packet. The heap must not be empty.
func (h *delayLine) peek() *packet { return &h.pkts[0] }

// pop removes and returns the earliest packet. The heap must not be empty.
func (h *delayLine) pop() packet {
	n := len(h.pkts) - 1
	p := h.pkts[0]
	h.pkts[0] = h.pkts[n]
	h.pkts[n] = packet{}
	h.pkts = h.pkts[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.pkts[i], h.pkts[m] = h.pkts[m], h.pkts[i]
		i = m
	}
	return p
}

// fifo is a growable ring buffer of packets. It is not safe for concurrent
// use.
type fifo struct {
	pkts       []packet
	head, size int
}

func (q *fifo) len() int { return q.size }

func (q *fifo) push(p packet) {
	if q.size == len(q.pkts) {
		grown := make([]packet, max(16, 2*len(q.pkts)))
		for i := range q.size {
			grown[i] = q.pkts[(q.head+i)%len(q.pkts)]
		}
		q.pkts, q.head = grown, 0
	}
	q.pkts[(q.head+q.size)%len(q.pkts)] = p
	q.size++
}

// pop removes and returns the oldest packet. The queue must not be empty.
func (q *fifo) pop() packet {
	p := q.pkts[q.head]
	q.pkts[q.head] = packet{}
	q.head = (q.head + 1) % len(q.pkts)
	q.size--
	return p
}

// minBufCap is the smallest buffer the free list hands out, so typical game
// datagrams (≤ 1500 bytes) always fit a recycled buffer.
const minBufCap = 2048

// maxFreeBufs bounds a free list, so a burst does not pin memory forever.
const maxFreeBufs = 4096

// freeList is a bounded stack of datagram buffers, so that steady traffic
// allocates none. It is not safe for concurrent use.
type freeList struct {
	bufs [][]byte
}

// get returns a buffer of length n.
func (f *freeList) get(n int) []byte {
	if k := len(f.bufs); k > 0 {
		b := f.bufs[k-1]
		f.bufs[k-1] = nil
		f.bufs = f.bufs[:k-1]
		if cap(b) >= n {
			return b[:n]
		}
	}
	return make([]byte, n, max(n, minBufCap))
}

// put returns b to the list, or lets it go when the list is full.
func (f *freeList) put(b []byte) {
	if b == nil || len(f.bufs) >= maxFreeBufs {
		return
	}
	f.bufs = append(f.bufs, b[:0])
}
