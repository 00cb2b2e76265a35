package codec

import (
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// Decoding msgpack into Msg and any, with the Go types the package
// documentation lists (integers as int64, floats as float64, ...), so that
// msgpack and JSON agree as far as they can. The input has been validated:
// every length fits, so msgpack allocates no more than the input declares.

// mpDecodeMsg decodes a map (or nil) into *m, reusing *m if it is not nil.
func mpDecodeMsg(d *msgpack.Decoder, m *map[string]any) error {
	if m == nil {
		return errorf(ErrDecode, "codec: Decode into nil *Msg")
	}
	c, err := d.PeekCode()
	if err != nil {
		return err
	}
	switch {
	case c == 0xc0:
		*m = nil
		return d.DecodeNil()
	case !mpIsMapCode(c):
		return errorf(ErrDecode, "codec: cannot decode a msgpack %s into a Msg", mpTypeName(c))
	}
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	if *m == nil {
		*m = make(map[string]any, n)
	} else {
		clear(*m)
	}
	return mpDecodeEntries(d, *m, n)
}

func mpIsMapCode(c byte) bool { return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf }

func mpDecodeEntries(d *msgpack.Decoder, m map[string]any, n int) error {
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return err
		}
		v, err := mpDecodeAny(d)
		if err != nil {
			return err
		}
		m[k] = v
	}
	return nil
}

// mpDecodeAny decodes one value with the documented Go types.
func mpDecodeAny(d *msgpack.Decoder) (any, error) {
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case c <= 0x7f || c >= 0xe0 || (c >= 0xd0 && c <= 0xd3): // fixint, int8..int64
		return d.DecodeInt64()
	case c >= 0xcc && c <= 0xcf: // uint8..uint64
		u, err := d.DecodeUint64()
		if err != nil || u > math.MaxInt64 {
			return u, err
		}
		return int64(u), nil
	case c == 0xca || c == 0xcb:
		return d.DecodeFloat64()
	case c == 0xc0:
		return nil, d.DecodeNil()
	case c == 0xc2 || c == 0xc3:
		return d.DecodeBool()
	case (c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb):
		return d.DecodeString()
	case c >= 0xc4 && c <= 0xc6:
		b, err := d.DecodeBytes()
		if b == nil && err == nil {
			b = []byte{}
		}
		return b, err
	case (c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = mpDecodeAny(d); err != nil {
				return nil, err
			}
		}
		return a, nil
	case mpIsMapCode(c):
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, n)
		return m, mpDecodeEntries(d, m, n)
	}
	// An extension: validation let only timestamps through.
	return d.DecodeInterface()
}
