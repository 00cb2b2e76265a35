package codec

// Validate checks that data is exactly one well-formed msgpack value within
// lim (zero fields mean the defaults) and returns nil if so. It allocates
// nothing (unless it returns an error) and is safe for concurrent use.
//
// It checks, without decoding anything: len(data) <= MaxSize; every declared
// str, bin and ext length fits in the bytes left after its header; an array
// of n elements has at least n bytes left and a map of n entries at least 2n;
// nesting depth <= MaxDepth; total array elements plus map entries <=
// MaxElements; the reserved byte 0xc1 does not occur; extensions are
// timestamps (type -1, 4/8/12 bytes, nanoseconds < 1e9) that msgpack cannot
// misread as a map header (see Decode, which accepts and rewrites those);
// no bytes follow the top-level value.
//
// Whatever Validate accepts can be handed to msgpack v5.4.1 (which
// otherwise dies with an unrecoverable out-of-memory on 5-byte inputs such
// as dd ff ff ff ff) without it allocating more than a small multiple of
// len(data), whatever the destination type; see the package documentation
// for the one exception (slices of very large element types).
func Validate(data []byte, lim Limits) error {
	lim = lim.withDefaults()
	if err := checkSize(len(data), lim); err != nil {
		return err
	}
	s := newMPScanner(data, lim)
	s.strictTime = true
	end, err := s.value(0, 0)
	if err != nil {
		return err
	}
	if end != len(data) {
		return errorf(ErrInvalid, "codec: %d trailing bytes after the top-level value", len(data)-end)
	}
	return nil
}

// checkSize checks a message length against lim.MaxSize.
func checkSize(n int, lim Limits) error {
	if n > lim.MaxSize {
		return errorf(ErrTooLarge, "codec: message of %d bytes exceeds MaxSize %d", n, lim.MaxSize)
	}
	return nil
}
