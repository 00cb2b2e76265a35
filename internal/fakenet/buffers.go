package fakenet

// minBufCap is the smallest buffer the free list hands out, so that typical
// game datagrams (≤ 1500 bytes) always fit a recycled buffer.
const minBufCap = 2048

// maxFreeBufs bounds the free list, so a burst of large datagrams does not
// pin memory forever.
const maxFreeBufs = 4096

// freeList is a bounded stack of datagram buffers. It is not safe for
// concurrent use; Network guards it with its mutex.
type freeList struct {
	bufs [][]byte
}

// get returns a buffer of length n, recycled when one large enough is on top
// of the stack.
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

// put returns b to the stack, or lets it go when the stack is full.
func (f *freeList) put(b []byte) {
	if b == nil || len(f.bufs) >= maxFreeBufs {
		return
	}
	f.bufs = append(f.bufs, b[:0])
}
