package delivery

// ring is a FIFO queue on a circular buffer that doubles when full (its
// size is bounded by what its owner lets in) and shrinks only in trim.
// Popped slots are zeroed so the queue keeps nothing alive. Not safe for
// concurrent use.
type ring[T any] struct {
	buf  []T // len is zero or a power of two
	head int
	n    int
	hi   int // the most elements held since the last trim
}

func (q *ring[T]) len() int { return q.n }

func (q *ring[T]) push(v T) {
	if q.n == len(q.buf) {
		nb := make([]T, max(8, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
	q.hi = max(q.hi, q.n)
}

// trim drops the buffer of an empty queue that, since the last trim, never
// held more than a quarter of it (a queue that does, keeps it).
func (q *ring[T]) trim() {
	if q.n == 0 && len(q.buf) > 8 && q.hi <= len(q.buf)/4 {
		q.buf, q.head = nil, 0
	}
	q.hi = q.n
}

// front returns the oldest element; the queue must not be empty.
func (q *ring[T]) front() T { return q.buf[q.head] }

// pop removes and returns the oldest element; the queue must not be empty.
func (q *ring[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v
}

// clear empties the queue, keeping its buffer.
func (q *ring[T]) clear() {
	for q.n > 0 {
		q.pop()
	}
	q.head = 0
}
