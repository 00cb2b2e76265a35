package codec

import (
	"encoding/binary"
	"math"
)

// Extensions. The only msgpack extension pumpnet accepts is the timestamp
// (type -1, payloads of 4, 8 or 12 bytes), which msgpack decodes as a
// time.Time.
//
// msgpack v5.4.1 has a quirk that turns a timestamp into an attack: when
// it decodes a map (into a map-typed destination) and meets an extension,
// DecodeMapLen skips the extension's header and reads the payload's first
// byte as a map header. A timestamp whose payload starts with 0xde or 0xdf
// (map16/map32) then declares a map of up to 2^32 entries, which msgpack
// allocates at once (`make(map, n)`), past any validation of the bytes. So:
//
//   - Validate rejects such timestamps ("risky"): whatever it accepts is
//     safe to hand to msgpack, into any destination.
//   - Decode accepts them, because other encoders produce them for honest
//     times (a 64-bit timestamp whose nanoseconds are about 0.93e9, or a
//     32-bit one after 2088): it first rewrites each into the 12-byte form,
//     whose first payload byte is below 0x3c since nanoseconds < 1e9.
//   - Append rewrites them the same way, so what it produces passes
//     Validate.

// timestamp96Len is the length of a timestamp in its 12-byte form.
const timestamp96Len = 3 + 12

// ext checks the extension whose header h starts at data[i] and returns
// the offset after it.
func (s *mpScanner) ext(i int, h mpHead) (int, error) {
	end := h.next + h.n
	if h.ext != -1 {
		return 0, errorf(ErrInvalid, "codec: ext type %d at offset %d is not supported (only the timestamp, type -1)", h.ext, i)
	}
	p := s.data[h.next:end]
	var sec int64
	var nsec uint32
	switch len(p) {
	case 4:
		sec = int64(binary.BigEndian.Uint32(p))
	case 8:
		v := binary.BigEndian.Uint64(p)
		nsec = uint32(v >> 34)
		sec = int64(v & (1<<34 - 1))
	case 12:
		nsec = binary.BigEndian.Uint32(p)
		sec = int64(binary.BigEndian.Uint64(p[4:]))
	default:
		return 0, errorf(ErrInvalid, "codec: timestamp at offset %d has %d bytes, want 4, 8 or 12", i, len(p))
	}
	if nsec >= 1e9 {
		return 0, errorf(ErrInvalid, "codec: timestamp at offset %d has %d nanoseconds, want fewer than 1e9", i, nsec)
	}
	if p[0] != 0xde && p[0] != 0xdf {
		return end, nil
	}
	if s.strictTime {
		return 0, errorf(ErrInvalid, "codec: timestamp at offset %d starts with byte %#x, which msgpack can misread as a map header; encode it in the 12-byte form", i, p[0])
	}
	s.risky++
	if s.rewrite {
		s.out = append(s.out, s.data[s.last:i]...)
		s.out = appendTimestamp96(s.out, sec, nsec)
		s.last = end
	}
	return end, nil
}

// appendTimestamp96 appends a timestamp in its 12-byte form (ext8, type -1).
func appendTimestamp96(b []byte, sec int64, nsec uint32) []byte {
	b = append(b, 0xc7, 12, 0xff)
	b = binary.BigEndian.AppendUint32(b, nsec)
	return binary.BigEndian.AppendUint64(b, uint64(sec))
}

// canonicalTimes returns data with every risky timestamp rewritten in its
// 12-byte form, appended to dst. data must have passed a non-strict scan
// with the same limits (lim), so this walk cannot fail.
func canonicalTimes(dst, data []byte, lim Limits) ([]byte, error) {
	s := newMPScanner(data, lim)
	s.maxElems = math.MaxInt // already checked; the rewrite must not trip on it
	s.rewrite = true
	s.out = dst
	if _, err := s.value(0, 0); err != nil {
		return dst, err
	}
	return append(s.out, data[s.last:]...), nil
}
