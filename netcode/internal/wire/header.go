package wire

import (
	"encoding/binary"
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
	// KeyPhase is the K bit: which key generation sealed the packet.
	KeyPhase bool
	// ConnID is the receiver's connection ID.
	ConnID ConnID
	// PN is the packet number truncated to its low 32 bits.
	PN uint32
}

// IsDTLS reports whether a datagram starting with b is a DTLS record
// (RFC 9147 §4.1 demultiplexing range 20..63).
func IsDTLS(b byte) bool { return b >= 20 && b <= 63 }

// IsPumpnet reports whether a datagram starting with b is a pumpnet
// protected packet (0x80..0xFF). It does not check the reserved bits;
// ParseHeader does.
func IsPumpnet(b byte) bool { return b&fixedBit != 0 }

// AppendHeader appends h to b; it always appends HeaderLen bytes.
func AppendHeader(b []byte, h Header) []byte {
	first := byte(fixedBit)
	if h.KeyPhase {
		first |= keyPhaseBit
	}
	b = append(b, first)
	b = append(b, h.ConnID[:]...)
	return binary.BigEndian.AppendUint32(b, h.PN)
}

// ParseHeader's errors are built once: it runs on every datagram from anyone,
// before authentication, so its failures allocate nothing.
var (
	errHeaderTruncated = fmt.Errorf("%w: header needs %d bytes", ErrTruncated, HeaderLen)
	errHeaderClass     = fmt.Errorf("%w: first byte outside 0x80..0xff", ErrNotPumpnet)
	errHeaderReserved  = fmt.Errorf("%w: first byte has bits 0x3f set", ErrReservedBits)
)

// ParseHeader parses the header at the start of b; the payload starts at
// b[HeaderLen:]. A first byte outside 0x80..0xFF is reported as
// ErrNotPumpnet even when b is shorter than a header. It allocates nothing,
// even when it fails.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) == 0 {
		return h, errHeaderTruncated
	}
	if !IsPumpnet(b[0]) {
		return h, errHeaderClass
	}
	if b[0]&reserved != 0 {
		return h, errHeaderReserved
	}
	if len(b) < HeaderLen {
		return h, errHeaderTruncated
	}
	h.KeyPhase = b[0]&keyPhaseBit != 0
	copy(h.ConnID[:], b[1:9])
	h.PN = binary.BigEndian.Uint32(b[9:13])
	return h, nil
}
