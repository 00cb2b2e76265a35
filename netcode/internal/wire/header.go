// Package wire holds pumpnet's wire formats: the protected-packet header and
// the frames inside a decrypted payload (netcode/PROTOCOL.md §3 and §5).
//
// Every type has an Append function and a Parse function. Parsers never
// allocate: parsed frames alias the input buffer. Every length is checked
// against the bytes left before anything is sliced.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderLen is the length of the protected-packet header in bytes.
const HeaderLen = 13

// TagLen is the length of the AEAD tag that follows the sealed payload.
const TagLen = 16

// MinPacketLen is the smallest well-formed protected packet: a header, one
// frame byte and a tag.
const MinPacketLen = HeaderLen + 1 + TagLen

const (
	fixedBit    = 0x80
	keyPhaseBit = 0x40
	reserved    = 0x3f
)

// ConnIDLen is the length of a connection ID.
const ConnIDLen = 8

// ConnID names the receiver's side of a connection.
type ConnID [ConnIDLen]byte

// Header is the plaintext header of a protected packet. It is the AEAD's
// associated data.
type Header struct {
	KeyPhase bool
	ConnID   ConnID
	// PN is the packet number truncated to its low 32 bits.
	PN uint32
}

// Errors returned by the parsers. They are wrapped with detail; match them
// with errors.Is.
var (
	ErrTruncated    = errors.New("wire: truncated")
	ErrNotPumpnet   = errors.New("wire: not a pumpnet packet")
	ErrReservedBits = errors.New("wire: reserved header bits set")
	ErrUnknownFrame = errors.New("wire: unknown frame type")
	ErrInvalid      = errors.New("wire: invalid frame")
)

// IsDTLS reports whether a datagram starting with b is a DTLS record
// (RFC 9147 §4.1 demultiplexing range 20..63).
func IsDTLS(b byte) bool { return b >= 20 && b <= 63 }

// IsPumpnet reports whether a datagram starting with b is a pumpnet
// protected packet.
func IsPumpnet(b byte) bool { return b&fixedBit != 0 }

// AppendHeader appends h to b.
func AppendHeader(b []byte, h Header) []byte {
	first := byte(fixedBit)
	if h.KeyPhase {
		first |= keyPhaseBit
	}
	b = append(b, first)
	b = append(b, h.ConnID[:]...)
	return binary.BigEndian.AppendUint32(b, h.PN)
}

// ParseHeader parses the header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, fmt.Errorf("%w: header needs %d bytes, have %d", ErrTruncated, HeaderLen, len(b))
	}
	if !IsPumpnet(b[0]) {
		return h, fmt.Errorf("%w: first byte %#02x", ErrNotPumpnet, b[0])
	}
	if b[0]&reserved != 0 {
		return h, fmt.Errorf("%w: first byte %#02x", ErrReservedBits, b[0])
	}
	h.KeyPhase = b[0]&keyPhaseBit != 0
	copy(h.ConnID[:], b[1:9])
	h.PN = binary.BigEndian.Uint32(b[9:13])
	return h, nil
}

// ExpandPN recovers a full packet number from its truncated low 32 bits,
// choosing the value closest to largest+1 (RFC 9000 Appendix A.3 with
// pn_nbits = 32). largest is the largest packet number authenticated so far;
// before any, pass 0 with haveLargest false.
func ExpandPN(largest uint64, haveLargest bool, truncated uint32) uint64 {
	var expected uint64
	if haveLargest {
		expected = largest + 1
	}
	const win = uint64(1) << 32
	const hwin = win / 2
	const mask = win - 1
	candidate := (expected &^ mask) | uint64(truncated)
	switch {
	case candidate+hwin <= expected && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}
