// Package termtext makes text that came from the network safe to print on
// a terminal, for the terminal examples (chat, lobbychat).
package termtext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes text from the network safe to print on a terminal: control
// characters (escape sequences, carriage returns, ...) and bidirectional
// overrides are removed, a tab becomes a space, invalid UTF-8 becomes
// U+FFFD, the result is trimmed and cut to at most max runes.
func Clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			if r == '\t' {
				return ' '
			}
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
