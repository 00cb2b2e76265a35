package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func TestVarintLen(t *testing.T) {
	var vals []uint64
	for s := range 64 {
		v := uint64(1) << s
		vals = append(vals, v-1, v, v+1)
	}
	vals = append(vals, math.MaxUint64)
	for _, v := range vals {
		if got, want := VarintLen(v), len(binary.AppendUvarint(nil, v)); got != want {
			t.Errorf("VarintLen(%#x) = %d, binary.AppendUvarint wrote %d", v, got, want)
		}
	}
}

func TestReaderVarint(t *testing.T) {
	tests := []struct {
		in   []byte
		want error
	}{
		{[]byte{}, ErrTruncated},
		{[]byte{0x80}, ErrTruncated},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrTruncated},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrInvalid},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrInvalid},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, ErrInvalid},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, nil},
	}
	for _, tt := range tests {
		r := reader{b: tt.in}
		_, err := r.varint("test")
		if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
			t.Errorf("varint(%x) error = %v, want %v", tt.in, err, tt.want)
		}
		if err != nil && r.off != 0 {
			t.Errorf("varint(%x) moved to %d on error", tt.in, r.off)
		}
	}
}
