package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestHeaderGolden(t *testing.T) {
	// PROTOCOL.md §3: byte 0 = 1 K 000000, 8 bytes of connection ID, the
	// packet number's low 32 bits big-endian.
	h := Header{KeyPhase: true, ConnID: ConnID{1, 2, 3, 4, 5, 6, 7, 8}, PN: 0x0a0b0c0d}
	want := []byte{0xc0, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d}
	if got := AppendHeader(nil, h); !bytes.Equal(got, want) {
		t.Fatalf("AppendHeader = %x, want %x", got, want)
	}
	h.KeyPhase = false
	want[0] = 0x80
	if got := AppendHeader(nil, h); !bytes.Equal(got, want) {
		t.Fatalf("AppendHeader without key phase = %x, want %x", got, want)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	tests := []Header{
		{},
		{KeyPhase: true},
		{ConnID: ConnID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, PN: math.MaxUint32},
		{KeyPhase: true, ConnID: ConnID{0, 1, 0, 1, 0, 1, 0, 1}, PN: 1 << 31},
		{ConnID: ConnID{9, 8, 7, 6, 5, 4, 3, 2}, PN: 1},
	}
	for _, h := range tests {
		prefix := []byte("prefix")
		b := AppendHeader(prefix, h)
		if !bytes.Equal(b[:len(prefix)], []byte("prefix")) {
			t.Fatalf("AppendHeader(%+v) changed the prefix", h)
		}
		enc := b[len(prefix):]
		if len(enc) != HeaderLen {
			t.Fatalf("AppendHeader(%+v) appended %d bytes, want HeaderLen %d", h, len(enc), HeaderLen)
		}
		// A payload after the header must not disturb it.
		got, err := ParseHeader(append(enc, 0x01, 0x02))
		if err != nil {
			t.Fatalf("ParseHeader(%x): %v", enc, err)
		}
		if got != h {
			t.Fatalf("ParseHeader(AppendHeader(%+v)) = %+v", h, got)
		}
	}
}

func TestHeaderTruncated(t *testing.T) {
	enc := AppendHeader(nil, Header{KeyPhase: true, ConnID: ConnID{1, 2, 3, 4, 5, 6, 7, 8}, PN: 42})
	for n := range len(enc) {
		_, err := ParseHeader(enc[:n])
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("ParseHeader(first %d of %d bytes) error = %v, want ErrTruncated", n, len(enc), err)
		}
	}
}

func TestHeaderFirstByte(t *testing.T) {
	rest := make([]byte, HeaderLen-1)
	for i := range 256 {
		c := byte(i)
		_, err := ParseHeader(append([]byte{c}, rest...))
		var want error
		switch {
		case c < 0x80:
			want = ErrNotPumpnet
		case c&0x3f != 0:
			want = ErrReservedBits
		}
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("ParseHeader(first byte %#02x) error = %v, want %v", c, err, want)
		}
		// A short datagram of the wrong class is reported as such, not as
		// truncated: a 1-byte DTLS record is not a broken pumpnet packet.
		if c < 0x80 {
			if _, err := ParseHeader([]byte{c}); !errors.Is(err, ErrNotPumpnet) {
				t.Errorf("ParseHeader([%#02x]) error = %v, want ErrNotPumpnet", c, err)
			}
		}
	}
}

func TestParseHeaderErrorsDoNotAllocate(t *testing.T) {
	for _, in := range [][]byte{nil, {0x80}, {0x16, 0xfe, 0xfd}, make([]byte, HeaderLen), {0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}} {
		var err error
		if a := testing.AllocsPerRun(100, func() { _, err = ParseHeader(in) }); a != 0 || err == nil {
			t.Errorf("ParseHeader(%x): %v allocations, error %v", in, a, err)
		}
	}
}

func TestDatagramClass(t *testing.T) {
	// PROTOCOL.md §1: 20..63 DTLS, 0x80..0xFF pumpnet, never both.
	for i := range 256 {
		c := byte(i)
		wantDTLS := i >= 20 && i <= 63
		wantPumpnet := i >= 0x80
		if IsDTLS(c) != wantDTLS || IsPumpnet(c) != wantPumpnet {
			t.Errorf("byte %#02x: IsDTLS %v IsPumpnet %v, want %v %v",
				c, IsDTLS(c), IsPumpnet(c), wantDTLS, wantPumpnet)
		}
	}
}

func TestMinPacketLen(t *testing.T) {
	if MinPacketLen != 30 {
		t.Fatalf("MinPacketLen = %d, PROTOCOL.md §3 says 13 + 1 + 16 = 30", MinPacketLen)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	enc := AppendHeader(nil, Header{ConnID: ConnID{1, 2, 3, 4, 5, 6, 7, 8}, PN: 42})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(enc); err != nil {
			b.Fatal(err)
		}
	}
}
