package codec

import "encoding/binary"

// This file walks msgpack bytes without decoding them: it is the machinery
// behind Validate, ActionBytes and the envelope checks of the msgpack codec.
// Nothing here allocates unless an error is returned.

// mpKind is what the scanner needs to know about a msgpack value.
type mpKind uint8

const (
	mpScalar mpKind = iota // nil, bool, int, float: the header is the whole value
	mpStr
	mpBin
	mpExt
	mpArray
	mpMap
)

// mpHead is a decoded msgpack header.
type mpHead struct {
	kind mpKind
	ext  int8 // extension type, for mpExt
	next int  // offset after the header (for mpScalar, after the value)
	n    int  // payload bytes (str, bin, ext) or element count (array, map)
}

// mpTypeName names the msgpack type whose header starts with byte c, for
// error messages.
func mpTypeName(c byte) string {
	switch {
	case c <= 0x7f, c >= 0xe0:
		return "int"
	case c <= 0x8f:
		return "map"
	case c <= 0x9f:
		return "array"
	case c <= 0xbf:
		return "str"
	}
	switch c {
	case 0xc0:
		return "nil"
	case 0xc1:
		return "reserved byte 0xc1"
	case 0xc2, 0xc3:
		return "bool"
	case 0xc4, 0xc5, 0xc6:
		return "bin"
	case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return "ext"
	case 0xca, 0xcb:
		return "float"
	case 0xd9, 0xda, 0xdb:
		return "str"
	case 0xdc, 0xdd:
		return "array"
	case 0xde, 0xdf:
		return "map"
	}
	return "int" // 0xcc..0xd3
}

// mpHeadAt decodes the header of the value that starts at data[i]. It
// checks that the header (and, for scalars, the whole value) is present and
// that a declared length fits in the bytes after the header: n bytes for a
// str, bin or ext payload, n for an array of n elements (each takes at least
// one byte) and 2n for a map of n entries.
func mpHeadAt(data []byte, i int) (mpHead, error) {
	if i >= len(data) {
		if i == 0 {
			return mpHead{}, errorf(ErrTruncated, "codec: empty input")
		}
		return mpHead{}, errorf(ErrTruncated, "codec: input ends at offset %d where a value should start", i)
	}
	c := data[i]
	switch {
	case c <= 0x7f, c >= 0xe0:
		return mpHead{kind: mpScalar, next: i + 1}, nil
	case c <= 0x8f:
		return mpCounted(data, mpMap, uint64(c&0x0f), i+1)
	case c <= 0x9f:
		return mpCounted(data, mpArray, uint64(c&0x0f), i+1)
	case c <= 0xbf:
		return mpCounted(data, mpStr, uint64(c&0x1f), i+1)
	}
	switch c {
	case 0xc0, 0xc2, 0xc3:
		return mpHead{kind: mpScalar, next: i + 1}, nil
	case 0xc1:
		return mpHead{}, errorf(ErrInvalid, "codec: reserved byte 0xc1 at offset %d", i)
	case 0xc4:
		return mpSized(data, mpBin, "bin8", i, 1)
	case 0xc5:
		return mpSized(data, mpBin, "bin16", i, 2)
	case 0xc6:
		return mpSized(data, mpBin, "bin32", i, 4)
	case 0xc7:
		return mpExtHead(data, "ext8", i, 1, 0)
	case 0xc8:
		return mpExtHead(data, "ext16", i, 2, 0)
	case 0xc9:
		return mpExtHead(data, "ext32", i, 4, 0)
	case 0xca:
		return mpFixed(data, "float32", i, 4)
	case 0xcb:
		return mpFixed(data, "float64", i, 8)
	case 0xcc:
		return mpFixed(data, "uint8", i, 1)
	case 0xcd:
		return mpFixed(data, "uint16", i, 2)
	case 0xce:
		return mpFixed(data, "uint32", i, 4)
	case 0xcf:
		return mpFixed(data, "uint64", i, 8)
	case 0xd0:
		return mpFixed(data, "int8", i, 1)
	case 0xd1:
		return mpFixed(data, "int16", i, 2)
	case 0xd2:
		return mpFixed(data, "int32", i, 4)
	case 0xd3:
		return mpFixed(data, "int64", i, 8)
	case 0xd4:
		return mpExtHead(data, "fixext1", i, 0, 1)
	case 0xd5:
		return mpExtHead(data, "fixext2", i, 0, 2)
	case 0xd6:
		return mpExtHead(data, "fixext4", i, 0, 4)
	case 0xd7:
		return mpExtHead(data, "fixext8", i, 0, 8)
	case 0xd8:
		return mpExtHead(data, "fixext16", i, 0, 16)
	case 0xd9:
		return mpSized(data, mpStr, "str8", i, 1)
	case 0xda:
		return mpSized(data, mpStr, "str16", i, 2)
	case 0xdb:
		return mpSized(data, mpStr, "str32", i, 4)
	case 0xdc:
		return mpSized(data, mpArray, "array16", i, 2)
	case 0xdd:
		return mpSized(data, mpArray, "array32", i, 4)
	case 0xde:
		return mpSized(data, mpMap, "map16", i, 2)
	default: // 0xdf
		return mpSized(data, mpMap, "map32", i, 4)
	}
}

// mpUint reads a big-endian unsigned integer of 1, 2 or 4 bytes.
func mpUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	default:
		return uint64(binary.BigEndian.Uint32(b))
	}
}

// mpFixed is a scalar of 1+size bytes starting at data[i].
func mpFixed(data []byte, name string, i, size int) (mpHead, error) {
	if left := len(data) - i - 1; left < size {
		return mpHead{}, errorf(ErrTruncated, "codec: %s at offset %d needs %d bytes, %d remaining", name, i, size, left)
	}
	return mpHead{kind: mpScalar, next: i + 1 + size}, nil
}

// mpSized reads a header whose length field has lenBytes bytes.
func mpSized(data []byte, kind mpKind, name string, i, lenBytes int) (mpHead, error) {
	if left := len(data) - i - 1; left < lenBytes {
		return mpHead{}, errorf(ErrTruncated, "codec: %s header at offset %d needs %d bytes, %d remaining", name, i, lenBytes, left)
	}
	return mpCounted(data, kind, mpUint(data[i+1:i+1+lenBytes]), i+1+lenBytes)
}

// mpCounted checks a declared length n against the bytes after the header,
// which ends at next.
func mpCounted(data []byte, kind mpKind, n uint64, next int) (mpHead, error) {
	left := uint64(len(data) - next)
	switch kind {
	case mpMap:
		if 2*n > left { // n < 2^32, so 2n does not overflow
			return mpHead{}, errorf(ErrLength, "codec: map length %d needs at least %d bytes, %d remaining", n, 2*n, left)
		}
	case mpArray:
		if n > left {
			return mpHead{}, errorf(ErrLength, "codec: array length %d exceeds %d remaining bytes", n, left)
		}
	default:
		if n > left {
			return mpHead{}, errorf(ErrLength, "codec: %s length %d exceeds %d remaining bytes", mpKindName(kind), n, left)
		}
	}
	return mpHead{kind: kind, next: next, n: int(n)}, nil
}

// mpExtHead reads an ext header: lenBytes bytes of length (or, for a
// fixext, fixed bytes of payload) and a type byte.
func mpExtHead(data []byte, name string, i, lenBytes, fixed int) (mpHead, error) {
	need := lenBytes + 1
	if left := len(data) - i - 1; left < need {
		return mpHead{}, errorf(ErrTruncated, "codec: %s header at offset %d needs %d bytes, %d remaining", name, i, need, left)
	}
	n := uint64(fixed)
	if lenBytes > 0 {
		n = mpUint(data[i+1 : i+1+lenBytes])
	}
	h, err := mpCounted(data, mpExt, n, i+1+need)
	h.ext = int8(data[i+1+lenBytes])
	return h, err
}

func mpKindName(k mpKind) string {
	switch k {
	case mpStr:
		return "str"
	case mpBin:
		return "bin"
	case mpExt:
		return "ext"
	case mpArray:
		return "array"
	case mpMap:
		return "map"
	}
	return "scalar"
}

// mpScanner walks one msgpack value, enforcing limits. With strictTime,
// timestamps that msgpack could misread as a map header are errors;
// without it they are counted in risky and, with rewrite, replaced by their
// 12-byte form in out (see timestamp.go).
type mpScanner struct {
	data       []byte
	maxDepth   int
	maxElems   int
	elems      int
	risky      int
	strictTime bool

	rewrite bool
	out     []byte // rewrite mode: the canonical copy being built
	last    int    // rewrite mode: data[last:] is not yet in out
}

func newMPScanner(data []byte, lim Limits) mpScanner {
	return mpScanner{data: data, maxDepth: lim.MaxDepth, maxElems: lim.MaxElements}
}

// value walks the value at data[i], at nesting depth depth (the number of
// containers around it), and returns the offset after it.
func (s *mpScanner) value(i, depth int) (int, error) {
	h, err := mpHeadAt(s.data, i)
	if err != nil {
		return 0, err
	}
	switch h.kind {
	case mpScalar:
		return h.next, nil
	case mpStr, mpBin:
		return h.next + h.n, nil
	case mpExt:
		return s.ext(i, h)
	}
	j, err := s.enter(i, h, depth)
	if err != nil {
		return 0, err
	}
	items := h.n
	if h.kind == mpMap {
		items *= 2
	}
	for range items {
		if j < len(s.data) && mpIsByteValue(s.data[j]) {
			j++ // fast path: a whole value in one byte
			continue
		}
		if j, err = s.value(j, depth+1); err != nil {
			return 0, err
		}
	}
	return j, nil
}

// mpIsByteValue reports whether c is a complete one-byte value: a fixint,
// nil or a bool.
func mpIsByteValue(c byte) bool {
	return c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3
}

// enter checks the depth and element limits for the container whose header
// h starts at data[i] and returns the offset of its first element.
func (s *mpScanner) enter(i int, h mpHead, depth int) (int, error) {
	if depth >= s.maxDepth {
		return 0, errorf(ErrTooDeep, "codec: %s at offset %d nests deeper than MaxDepth %d", mpKindName(h.kind), i, s.maxDepth)
	}
	s.elems += h.n // h.n <= len(data): no overflow
	if s.elems > s.maxElems {
		return 0, errorf(ErrTooManyElements, "codec: %s at offset %d brings the element count to %d, above MaxElements %d", mpKindName(h.kind), i, s.elems, s.maxElems)
	}
	return h.next, nil
}

// mpEnvelope describes the top level of a msgpack message.
type mpEnvelope struct {
	isMap   bool
	first   int // offset of the first key
	actKey  int // first "action" entry: offset of its key,
	actVal  int // of its value,
	actEnd  int // and after its value
	actions int // how many top-level keys are "action" (str or bin)
	// The first top-level str key "Action" (an untagged Go field named
	// Action encodes so): offsets of its key, value and end, and how many.
	capKey, capVal, capEnd, capActions int
}

// top walks the whole input, which must hold exactly one value, and
// describes its top level.
func (s *mpScanner) top() (mpEnvelope, error) {
	var env mpEnvelope
	h, err := mpHeadAt(s.data, 0)
	if err != nil {
		return env, err
	}
	var end int
	if h.kind != mpMap {
		end, err = s.value(0, 0)
	} else {
		env.isMap = true
		end, err = s.topMap(h, &env)
	}
	if err != nil {
		return env, err
	}
	if end != len(s.data) {
		return env, errorf(ErrInvalid, "codec: %d trailing bytes after the top-level value", len(s.data)-end)
	}
	return env, nil
}

func (s *mpScanner) topMap(h mpHead, env *mpEnvelope) (int, error) {
	j, err := s.enter(0, h, 0)
	if err != nil {
		return 0, err
	}
	env.first = j
	for range h.n {
		key := j
		isAction := mpIsActionKey(s.data, j)
		isCap := !isAction && mpIsKey(s.data, j, untaggedKey)
		if j, err = s.value(j, 1); err != nil {
			return 0, err
		}
		val := j
		if j, err = s.value(j, 1); err != nil {
			return 0, err
		}
		if isAction {
			if env.actions == 0 {
				env.actKey, env.actVal, env.actEnd = key, val, j
			}
			env.actions++
		}
		if isCap {
			if env.capActions == 0 {
				env.capKey, env.capVal, env.capEnd = key, val, j
			}
			env.capActions++
		}
	}
	return j, nil
}

// mpIsActionKey reports whether a str or bin "action" starts at data[i].
// msgpack decodes bin keys into struct fields as it does str keys, so both
// count.
func mpIsActionKey(data []byte, i int) bool {
	h, err := mpHeadAt(data, i)
	if err != nil || (h.kind != mpStr && h.kind != mpBin) || h.n != len(ActionKey) {
		return false
	}
	return string(data[h.next:h.next+h.n]) == ActionKey
}

// mpIsKey reports whether the str key starts at data[i].
func mpIsKey(data []byte, i int, key string) bool {
	h, err := mpHeadAt(data, i)
	if err != nil || h.kind != mpStr || h.n != len(key) {
		return false
	}
	return string(data[h.next:h.next+h.n]) == key
}
