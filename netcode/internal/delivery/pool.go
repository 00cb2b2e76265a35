package delivery

import "math/bits"

// pool keeps byte buffers for reuse, in size classes of four steps per
// power of two from 64 bytes up (64, 80, 96, 112, 128, 160, ...), so a
// buffer wastes at most a fifth of its capacity. It retains at most limit
// bytes of free buffers; beyond that, released buffers are left to the
// garbage collector. trim gives back to the garbage collector the free
// buffers that no get needed since the last trim. Not safe for concurrent
// use.
type pool struct {
	classes  [][][]byte // free buffers by class
	retained int        // capacity of the free buffers
	limit    int
	// low[c]: the fewest free buffers class c had since the last trim
	// (those sat unused all along).
	low []int
}

const minClassSize = 64

// classOf returns the class index and capacity for a buffer of n bytes.
func classOf(n int) (class, size int) {
	if n <= minClassSize {
		return 0, minClassSize
	}
	e := bits.Len(uint(n - 1)) // 2^(e-1) < n <= 2^e, e >= 7
	step := 1 << (e - 3)
	size = (n + step - 1) &^ (step - 1)
	class = (e-7)*4 + (size-1<<(e-1))/step
	return class, size
}

// get returns a buffer of length n whose contents are unspecified.
func (p *pool) get(n int) []byte {
	c, size := classOf(n)
	if c < len(p.classes) {
		if free := p.classes[c]; len(free) > 0 {
			b := free[len(free)-1]
			free[len(free)-1] = nil
			p.classes[c] = free[:len(free)-1]
			p.retained -= cap(b)
			p.low[c] = min(p.low[c], len(free)-1)
			return b[:n]
		}
	}
	return make([]byte, n, size)
}

// put returns b, which must have come from get, to the pool.
func (p *pool) put(b []byte) {
	if b == nil {
		return
	}
	c, size := classOf(cap(b))
	if size != cap(b) || p.retained+size > p.limit {
		return
	}
	for c >= len(p.classes) {
		p.classes = append(p.classes, nil)
		p.low = append(p.low, 0)
	}
	p.classes[c] = append(p.classes[c], b[:0])
	p.retained += size
}

// trim drops the free buffers of each class that no get took since the
// last trim (at most all of them), and the free lists left empty.
func (p *pool) trim() {
	for c, free := range p.classes {
		k := p.low[c]
		for i := len(free) - k; i < len(free); i++ {
			p.retained -= cap(free[i])
			free[i] = nil
		}
		free = free[:len(free)-k]
		if len(free) == 0 {
			free = nil
		}
		p.classes[c] = free
		p.low[c] = len(free)
	}
}
