package termtext

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  hi  ":                "hi",
		"\x1b[31mred\x1b[0m":    "[31mred[0m",
		"a\rb\nc\td":            "abc d",
		"\u202eevil\u2066x":     "evilx",
		"bad \xff utf8":         "bad \uFFFD utf8",
		strings.Repeat("é", 40): strings.Repeat("é", 32),
	} {
		if got := Clean(in, 32); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}
