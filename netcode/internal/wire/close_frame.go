package wire

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// MaxCloseReason bounds a CLOSE frame's reason text in bytes.
const MaxCloseReason = 256

// CloseFrame ends a connection with a code and a reason. Reason aliases the
// parsed buffer; a parsed Reason is valid UTF-8 of at most MaxCloseReason
// bytes.
type CloseFrame struct {
	// Code says why the connection ended, for programs.
	Code uint64
	// Reason says why the connection ended, for people.
	Reason []byte
}

// closeReason returns how many bytes AppendClose writes for reason, and
// whether those bytes are reason itself. Otherwise they are the longest
// prefix of reason's runes that fits in MaxCloseReason bytes, each invalid
// byte counted as the 3 bytes of utf8.RuneError.
func closeReason(reason string) (n int, verbatim bool) {
	if len(reason) <= MaxCloseReason && utf8.ValidString(reason) {
		return len(reason), true
	}
	for _, c := range reason { // an invalid byte comes out as utf8.RuneError
		w := utf8.RuneLen(c)
		if n+w > MaxCloseReason {
			break
		}
		n += w
	}
	return n, false
}

// CloseFrameLen returns the length AppendClose appends for code and reason.
func CloseFrameLen(code uint64, reason string) int {
	n, _ := closeReason(reason)
	return 1 + VarintLen(code) + VarintLen(uint64(n)) + n
}

// AppendClose appends a CLOSE frame. The reason is sent as valid UTF-8: each
// invalid byte becomes U+FFFD, and a reason longer than MaxCloseReason bytes
// is cut at a rune boundary.
func AppendClose(b []byte, code uint64, reason string) []byte {
	n, verbatim := closeReason(reason)
	b = append(b, byte(FrameClose))
	b = binary.AppendUvarint(b, code)
	b = binary.AppendUvarint(b, uint64(n))
	if verbatim {
		return append(b, reason...)
	}
	end := len(b) + n
	for _, c := range reason {
		if len(b)+utf8.RuneLen(c) > end {
			break
		}
		b = utf8.AppendRune(b, c)
	}
	return b
}

func parseClose(r *reader, f *CloseFrame) error {
	var err error
	if f.Code, err = r.varint("close code"); err != nil {
		return err
	}
	n, err := r.varint("close reason length")
	if err != nil {
		return err
	}
	if n > MaxCloseReason {
		return fmt.Errorf("%w: close reason length %d exceeds %d", ErrInvalid, n, MaxCloseReason)
	}
	if f.Reason, err = r.bytes(n, "close reason"); err != nil {
		return err
	}
	if !utf8.Valid(f.Reason) {
		return fmt.Errorf("%w: close reason is not UTF-8", ErrInvalid)
	}
	return nil
}
