package codec

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps exactly one of
// them (and, for errors from msgpack or encoding/json, the library's error
// too); match them with errors.Is. The messages of the wrapping errors say
// what was wrong and where, for example
// "codec: array length 4294967295 exceeds 0 remaining bytes".
var (
	// ErrTruncated means the input ends inside a header or a fixed-size
	// value, or is empty.
	ErrTruncated = errors.New("codec: truncated input")
	// ErrLength means a declared str, bin, ext, array or map length is
	// larger than the bytes left after its header could hold (an array of n
	// elements needs at least n bytes, a map of n entries at least 2n).
	ErrLength = errors.New("codec: declared length exceeds remaining bytes")
	// ErrTooDeep means arrays and maps nest deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("codec: nesting too deep")
	// ErrTooManyElements means a message holds more array elements and map
	// entries, in total, than Limits.MaxElements.
	ErrTooManyElements = errors.New("codec: too many elements")
	// ErrTooLarge means a message is longer than Limits.MaxSize bytes.
	ErrTooLarge = errors.New("codec: message too large")
	// ErrInvalid means the input is not well-formed: a reserved msgpack
	// byte (0xc1), bytes after the top-level value, an unsupported or
	// malformed extension, or malformed JSON.
	ErrInvalid = errors.New("codec: invalid input")
	// ErrNoAction means a message is not a map, or has no "action" key.
	ErrNoAction = errors.New("codec: no action")
	// ErrBadAction means a message's "action" is not a string, is empty, or
	// appears more than once at the top level.
	ErrBadAction = errors.New("codec: bad action")
	// ErrEncode means msgpack or encoding/json could not encode a value
	// (an unsupported type such as a channel, a NaN in JSON, ...).
	ErrEncode = errors.New("codec: cannot encode")
	// ErrDecode means msgpack or encoding/json could not decode a
	// well-formed, within-limits input into the destination (a type
	// mismatch, a map key that is not a string, a non-pointer destination,
	// ...).
	ErrDecode = errors.New("codec: cannot decode")
)

// codecError is an error with its own message that wraps a sentinel and,
// optionally, the library error that caused it.
type codecError struct {
	kind  error
	cause error
	msg   string
}

func (e *codecError) Error() string { return e.msg }

func (e *codecError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// errorf returns an error whose message is the formatted text (which must
// start with "codec: ") and which wraps kind.
func errorf(kind error, format string, args ...any) error {
	return &codecError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// wrapf is errorf that also wraps cause; the cause's text is appended.
func wrapf(kind, cause error, format string, args ...any) error {
	return &codecError{kind: kind, cause: cause, msg: fmt.Sprintf(format, args...) + ": " + cause.Error()}
}
