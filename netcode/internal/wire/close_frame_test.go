package wire

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendClose(t *testing.T) {
	tests := []struct {
		name, reason, want string
	}{
		{"empty", "", ""},
		{"ascii", "bye", "bye"},
		{"256 ascii", strings.Repeat("a", 256), strings.Repeat("a", 256)},
		{"257 ascii cut", strings.Repeat("a", 257), strings.Repeat("a", 256)},
		// 255 ASCII bytes then a 2-byte rune: the rune does not fit.
		{"rune across the limit", strings.Repeat("a", 255) + "é", strings.Repeat("a", 255)},
		{"4-byte rune across the limit", strings.Repeat("a", 254) + "😀", strings.Repeat("a", 254)},
		{"4-byte rune at the limit", strings.Repeat("a", 252) + "😀z", strings.Repeat("a", 252) + "😀"},
		{"invalid byte", "a\xffb", "a\uFFFDb"},
		{"cut rune at end", "ok\xc3", "ok\uFFFD"},
		{"invalid bytes grow past the limit", strings.Repeat("\xff", 100), strings.Repeat("\uFFFD", 85)},
		{"surrogate", "\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"long invalid", strings.Repeat("ab\x80", 200), strings.Repeat("ab\uFFFD", 51) + "a"},
	}
	for _, tt := range tests {
		enc := AppendClose([]byte{0xee}, 42, tt.reason)[1:]
		if len(enc) != CloseFrameLen(42, tt.reason) {
			t.Errorf("%s: AppendClose wrote %d bytes, CloseFrameLen says %d", tt.name, len(enc), CloseFrameLen(42, tt.reason))
		}
		var f Frame
		n, err := ParseFrame(enc, &f)
		if err != nil || n != len(enc) {
			t.Errorf("%s: ParseFrame(AppendClose) = %d, %v", tt.name, n, err)
			continue
		}
		if f.Close.Code != 42 || string(f.Close.Reason) != tt.want {
			t.Errorf("%s: reason %q (%d bytes), want %q (%d bytes)", tt.name, f.Close.Reason, len(f.Close.Reason), tt.want, len(tt.want))
		}
		if len(f.Close.Reason) > MaxCloseReason || !utf8.Valid(f.Close.Reason) {
			t.Errorf("%s: sent reason of %d bytes, valid UTF-8 %v", tt.name, len(f.Close.Reason), utf8.Valid(f.Close.Reason))
		}
	}
}

func TestCloseReasonAliases(t *testing.T) {
	enc := AppendClose(nil, 1, "hello")
	var f Frame
	if _, err := ParseFrame(enc, &f); err != nil {
		t.Fatal(err)
	}
	enc[len(enc)-1] = 'O'
	if !bytes.Equal(f.Close.Reason, []byte("hellO")) {
		t.Fatalf("Reason %q does not alias the input", f.Close.Reason)
	}
}
