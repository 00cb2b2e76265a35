package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// validMsgpack holds one well-formed value of every msgpack format.
var validMsgpack = []struct{ name, hex string }{
	{"positive fixint 0", "00"},
	{"positive fixint 127", "7f"},
	{"negative fixint -32", "e0"},
	{"negative fixint -1", "ff"},
	{"nil", "c0"},
	{"false", "c2"},
	{"true", "c3"},
	{"uint8", "cc ff"},
	{"uint16", "cd ffff"},
	{"uint32", "ce ffffffff"},
	{"uint64", "cf ffffffffffffffff"},
	{"int8", "d0 80"},
	{"int16", "d1 8000"},
	{"int32", "d2 80000000"},
	{"int64", "d3 8000000000000000"},
	{"float32", "ca 3f800000"},
	{"float64", "cb 3ff0000000000000"},
	{"empty fixstr", "a0"},
	{"fixstr", "a3 616263"},
	{"str8", "d9 03 616263"},
	{"str16", "da 0003 616263"},
	{"str32", "db 00000003 616263"},
	{"empty bin8", "c4 00"},
	{"bin8", "c4 02 0102"},
	{"bin16", "c5 0002 0102"},
	{"bin32", "c6 00000002 0102"},
	{"empty fixarray", "90"},
	{"fixarray", "93 01 02 03"},
	{"array16", "dc 0002 01 02"},
	{"array32", "dd 00000002 01 02"},
	{"empty fixmap", "80"},
	{"fixmap", "81 a161 01"},
	{"map16", "de 0001 a161 01"},
	{"map32", "df 00000001 a161 01"},
	{"timestamp32", "d6 ff 00000001"},
	{"timestamp64", "d7 ff 0000000400000001"},
	{"timestamp96", "c7 0c ff 00000001 0000000000000001"},
	{"timestamp96 as ext32", "c9 0000000c ff 00000001 0000000000000001"},
	{"nested", "92 91 90 81 a161 92 c0 c3"},
	{"message", "82 a6 616374696f6e a4 6d6f7665 a1 78 cb 3ff8000000000000"},
}

func TestValidateAcceptsEveryFormat(t *testing.T) {
	for _, tc := range validMsgpack {
		t.Run(tc.name, func(t *testing.T) {
			if err := Validate(mustHex(t, tc.hex), Limits{}); err != nil {
				t.Fatalf("Validate(%s) = %v, want nil", tc.hex, err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		want      error
		msg       string // exact message, or a substring if it starts with "~"
	}{
		{"empty", "", ErrTruncated, "codec: empty input"},
		{"reserved 0xc1", "c1", ErrInvalid, "codec: reserved byte 0xc1 at offset 0"},
		{"reserved 0xc1 nested", "91 c1", ErrInvalid, "codec: reserved byte 0xc1 at offset 1"},
		{"array32 bomb", "dd ffffffff", ErrLength, "codec: array length 4294967295 exceeds 0 remaining bytes"},
		{"map32 bomb", "df ffffffff", ErrLength, "codec: map length 4294967295 needs at least 8589934590 bytes, 0 remaining"},
		{"array16", "dc ffff 00", ErrLength, "codec: array length 65535 exceeds 1 remaining bytes"},
		{"map16", "de 0002 a161 01", ErrLength, "codec: map length 2 needs at least 4 bytes, 3 remaining"},
		{"fixarray", "93 01 02", ErrLength, "codec: array length 3 exceeds 2 remaining bytes"},
		{"fixmap", "82 01 02 03", ErrLength, "codec: map length 2 needs at least 4 bytes, 3 remaining"},
		{"str32", "db ffffffff", ErrLength, "codec: str length 4294967295 exceeds 0 remaining bytes"},
		{"str16", "da ffff 61", ErrLength, "codec: str length 65535 exceeds 1 remaining bytes"},
		{"str8", "d9 05 61", ErrLength, "codec: str length 5 exceeds 1 remaining bytes"},
		{"fixstr", "a5 6162", ErrLength, "codec: str length 5 exceeds 2 remaining bytes"},
		{"bin32", "c6 ffffffff", ErrLength, "codec: bin length 4294967295 exceeds 0 remaining bytes"},
		{"bin16", "c5 ffff", ErrLength, "codec: bin length 65535 exceeds 0 remaining bytes"},
		{"bin8", "c4 ff", ErrLength, "codec: bin length 255 exceeds 0 remaining bytes"},
		{"ext32", "c9 ffffffff ff", ErrLength, "codec: ext length 4294967295 exceeds 0 remaining bytes"},
		{"fixext16", "d8 ff 0000", ErrLength, "codec: ext length 16 exceeds 2 remaining bytes"},
		{"array32 header", "dd 0000", ErrTruncated, "codec: array32 header at offset 0 needs 4 bytes, 2 remaining"},
		{"ext8 header", "c7 0c", ErrTruncated, "codec: ext8 header at offset 0 needs 2 bytes, 1 remaining"},
		{"uint16", "cd 01", ErrTruncated, "codec: uint16 at offset 0 needs 2 bytes, 1 remaining"},
		{"float64", "cb 3ff0", ErrTruncated, "codec: float64 at offset 0 needs 8 bytes, 2 remaining"},
		{"missing element", "92 01", ErrLength, "codec: array length 2 exceeds 1 remaining bytes"},
		{"missing map value", "81 a161", ErrTruncated, "codec: input ends at offset 3 where a value should start"},
		{"trailing bytes", "01 02", ErrInvalid, "codec: 1 trailing bytes after the top-level value"},
		{"two values", "80 80", ErrInvalid, "codec: 1 trailing bytes after the top-level value"},
		{"ext type 1", "d4 01 00", ErrInvalid, "codec: ext type 1 at offset 0 is not supported (only the timestamp, type -1)"},
		{"nested ext type 0", "91 c7 05 00 df ffffffff", ErrInvalid, "codec: ext type 0 at offset 1 is not supported (only the timestamp, type -1)"},
		{"timestamp of 2 bytes", "d5 ff 0000", ErrInvalid, "codec: timestamp at offset 0 has 2 bytes, want 4, 8 or 12"},
		{"timestamp96 nanoseconds", "c7 0c ff 3b9aca00 0000000000000000", ErrInvalid, "~has 1000000000 nanoseconds"},
		{"timestamp64 nanoseconds", "d7 ff ffffffff00000000", ErrInvalid, "~nanoseconds, want fewer than 1e9"},
		{"risky timestamp64", "d7 ff de00000000000000", ErrInvalid, "~misread as a map header"},
		{"risky timestamp32", "d6 ff dfffffff", ErrInvalid, "~misread as a map header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(mustHex(t, tc.hex), Limits{})
			wantErr(t, err, tc.want)
			if sub, ok := strings.CutPrefix(tc.msg, "~"); ok {
				if !strings.Contains(err.Error(), sub) {
					t.Fatalf("error %q does not contain %q", err, sub)
				}
			} else if err.Error() != tc.msg {
				t.Fatalf("error %q, want %q", err, tc.msg)
			}
		})
	}
}

// nested returns n nested one-element arrays around nil.
func nested(n int, open byte) []byte {
	b := bytes.Repeat([]byte{open}, n)
	if open == 0x81 { // one-entry maps: key "k", value the next level
		b = bytes.Repeat([]byte{0x81, 0xa1, 'k'}, n)
	}
	return append(b, 0xc0)
}

func TestValidateDepth(t *testing.T) {
	for _, open := range []byte{0x91, 0x81} {
		if err := Validate(nested(32, open), Limits{}); err != nil {
			t.Errorf("depth 32 (%#x): %v", open, err)
		}
		err := Validate(nested(33, open), Limits{})
		wantErr(t, err, ErrTooDeep)
		wantErr(t, Validate(nested(10000, open), Limits{}), ErrTooDeep)
		wantErr(t, Validate(nested(3, open), Limits{MaxDepth: 2}), ErrTooDeep)
		if err := Validate(nested(2, open), Limits{MaxDepth: 2}); err != nil {
			t.Errorf("depth 2 with MaxDepth 2: %v", err)
		}
	}
	if !strings.Contains(Validate(nested(33, 0x91), Limits{}).Error(), "array at offset 32 nests deeper than MaxDepth 32") {
		t.Errorf("depth error does not say where: %v", Validate(nested(33, 0x91), Limits{}))
	}
	// MaxDepth is capped at MaxDepthLimit.
	huge := Limits{MaxDepth: 1 << 30}
	if err := Validate(nested(MaxDepthLimit, 0x91), huge); err != nil {
		t.Errorf("depth MaxDepthLimit: %v", err)
	}
	wantErr(t, Validate(nested(MaxDepthLimit+1, 0x91), huge), ErrTooDeep)
}

// nilArray returns an array32 of n nils.
func nilArray(n int) []byte {
	b := []byte{0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	return append(b, bytes.Repeat([]byte{0xc0}, n)...)
}

func TestValidateElements(t *testing.T) {
	if err := Validate(nilArray(65536), Limits{}); err != nil {
		t.Fatalf("65536 elements: %v", err)
	}
	wantErr(t, Validate(nilArray(65537), Limits{}), ErrTooManyElements)
	bomb := nilArray(1_000_000) // 1 MB of nils: within MaxSize
	if len(bomb) > DefaultLimits.MaxSize {
		t.Fatalf("bomb of %d bytes is not within MaxSize", len(bomb))
	}
	wantErr(t, Validate(bomb, Limits{}), ErrTooManyElements)

	// The count is summed over every level: 2 + 32768 + 32766 = 65536.
	two := func(a, b int) []byte {
		return append(append([]byte{0x92}, nilArray(a)...), nilArray(b)...)
	}
	if err := Validate(two(32768, 32766), Limits{}); err != nil {
		t.Fatalf("65536 elements over two arrays: %v", err)
	}
	wantErr(t, Validate(two(32768, 32767), Limits{}), ErrTooManyElements)

	// Map entries count once each.
	m := []byte{0x83, 0x01, 0xc0, 0x02, 0xc0, 0x03, 0xc0}
	if err := Validate(m, Limits{MaxElements: 3}); err != nil {
		t.Fatalf("3 entries with MaxElements 3: %v", err)
	}
	wantErr(t, Validate(m, Limits{MaxElements: 2}), ErrTooManyElements)
}

func TestValidateSize(t *testing.T) {
	wantErr(t, Validate(mustHex(t, "a3 616263"), Limits{MaxSize: 3}), ErrTooLarge)
	if err := Validate(mustHex(t, "a3 616263"), Limits{MaxSize: 4}); err != nil {
		t.Fatal(err)
	}
	n := DefaultLimits.MaxSize // a bin32 one byte too long in total
	big := append([]byte{0xc6, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n - 4)}, make([]byte, n-4)...)
	if len(big) != n+1 {
		t.Fatalf("test message has %d bytes", len(big))
	}
	err := Validate(big, Limits{})
	wantErr(t, err, ErrTooLarge)
	if err.Error() != "codec: message of 1048577 bytes exceeds MaxSize 1048576" {
		t.Fatalf("message %q", err)
	}
	if err := Validate(big[:n-0], Limits{MaxSize: n + 1}); err == nil || errors.Is(err, ErrTooLarge) {
		t.Fatalf("truncated big message: %v", err)
	}
}

// TestValidateTruncated cuts valid values at every byte: every proper prefix
// must be rejected as truncated (msgpack is prefix-free), without panicking.
func TestValidateTruncated(t *testing.T) {
	inputs := [][]byte{}
	for _, tc := range validMsgpack {
		inputs = append(inputs, mustHex(t, tc.hex))
	}
	full, err := Default().Append(nil, sampleMsg())
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, full)
	for _, in := range inputs {
		for k := range len(in) {
			err := Validate(in[:k], Limits{})
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrLength) {
				t.Fatalf("Validate(% x) = %v, want ErrTruncated or ErrLength", in[:k], err)
			}
		}
	}
}

func TestValidateAllocatesNothing(t *testing.T) {
	skipAllocsUnderRace(t)
	b, err := Default().Append(nil, sampleMsg())
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := Validate(b, Limits{}); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Validate allocates %v times per call, want 0", n)
	}
}
