package wire

import "errors"

// Errors returned by the parsers. They are wrapped with detail; match them
// with errors.Is.
var (
	// ErrTruncated means the input ended before the header or frame did,
	// or a declared length exceeds the bytes left.
	ErrTruncated = errors.New("wire: truncated")
	// ErrNotPumpnet means the first byte of a datagram is not in the
	// protected-packet range 0x80..0xFF.
	ErrNotPumpnet = errors.New("wire: not a pumpnet packet")
	// ErrReservedBits means a reserved bit of the header's first byte is set.
	ErrReservedBits = errors.New("wire: reserved header bits set")
	// ErrUnknownFrame means a frame type byte is not one of PROTOCOL.md §5.
	ErrUnknownFrame = errors.New("wire: unknown frame type")
	// ErrInvalid means a frame is complete but breaks a rule of PROTOCOL.md
	// §5 (a bound, an overflowing varint, a reason that is not UTF-8).
	ErrInvalid = errors.New("wire: invalid frame")
)
