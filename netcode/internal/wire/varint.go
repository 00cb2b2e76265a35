package wire

import (
	"encoding/binary"
	"fmt"
)

// VarintLen returns the length of v as binary.AppendUvarint writes it (the
// minimal encoding, 1 to 10 bytes).
func VarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// reader walks a buffer; off is where the next read starts. Errors name the
// field and its offset in b.
type reader struct {
	b   []byte
	off int
}

func (r *reader) varint(what string) (uint64, error) {
	rest := r.b[r.off:]
	v, n := binary.Uvarint(rest)
	if n == 0 {
		if len(rest) >= binary.MaxVarintLen64 {
			// Ten continuation bytes: no following byte can end it within
			// 64 bits, so this is an overflow, not a short read.
			return 0, fmt.Errorf("%w: %s varint overflows at offset %d", ErrInvalid, what, r.off)
		}
		return 0, fmt.Errorf("%w: %s at offset %d", ErrTruncated, what, r.off)
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: %s varint overflows at offset %d", ErrInvalid, what, r.off)
	}
	r.off += n
	return v, nil
}

func (r *reader) byte(what string) (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: %s at offset %d", ErrTruncated, what, r.off)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// bytes returns the next n bytes, capacity-limited so that appending to them
// cannot overwrite what follows. n is checked against the bytes left before
// anything is sliced.
func (r *reader) bytes(n uint64, what string) ([]byte, error) {
	left := uint64(len(r.b) - r.off)
	if n > left {
		return nil, fmt.Errorf("%w: %s length %d exceeds %d remaining bytes at offset %d",
			ErrTruncated, what, n, left, r.off)
	}
	end := r.off + int(n)
	s := r.b[r.off:end:end]
	r.off = end
	return s, nil
}
