package protect

import (
	"errors"
	"fmt"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// Errors returned by this package. Some are wrapped with detail; match them
// with errors.Is. The errors of the per-packet drop paths (ErrShort,
// ErrHeader, ErrReplay, ErrAuth, ErrAuthLimit) are returned without fresh
// allocation, so a flood of hostile datagrams costs no garbage.
var (
	// ErrConfig reports an invalid argument to NewSealer or NewOpener: an
	// unknown suite, a secret that is not 32 bytes, or a limit out of range.
	ErrConfig = errors.New("protect: invalid configuration")
	// ErrMaterial reports exported keying material of the wrong length.
	ErrMaterial = errors.New("protect: invalid exported keying material")
	// ErrShort reports a datagram shorter than the smallest protected packet
	// (wire.MinPacketLen).
	ErrShort = errors.New("protect: packet too short")
	// ErrHeader reports a header whose fixed or reserved bits are wrong; it
	// also wraps the wire error (wire.ErrNotPumpnet or wire.ErrReservedBits).
	ErrHeader = errors.New("protect: malformed header")
	// ErrReplay reports a packet number already authenticated, or too old for
	// the replay window. The packet was dropped before decryption.
	ErrReplay = errors.New("protect: replayed or too old packet")
	// ErrAuth reports a packet that failed authentication. It was dropped and
	// counted; the Opener's state is otherwise unchanged.
	ErrAuth = errors.New("protect: authentication failed")
	// ErrAuthLimit reports that more packets failed authentication than the
	// Opener allows (RFC 9001 §6.6 integrity limit). The caller must close the
	// connection; every later Open returns it too.
	ErrAuthLimit = errors.New("protect: too many authentication failures")
	// ErrPNExhausted reports that the Sealer has used every packet number
	// below 2^62; the connection must be closed.
	ErrPNExhausted = errors.New("protect: packet numbers exhausted")
	// ErrBufferTooSmall reports a Seal destination whose capacity cannot hold
	// the header, the payload and the tag.
	ErrBufferTooSmall = errors.New("protect: destination buffer too small")
	// ErrPayload reports a Seal payload that is empty or that overlaps the
	// destination other than exactly at dst[wire.HeaderLen:].
	ErrPayload = errors.New("protect: invalid payload")
	// ErrClosed reports a Seal or Open after Close.
	ErrClosed = errors.New("protect: closed")
)

// Pre-built wrapped errors for the drop paths, so returning them allocates
// nothing.
var (
	errNotPumpnet   = fmt.Errorf("%w: %w", ErrHeader, wire.ErrNotPumpnet)
	errReservedBits = fmt.Errorf("%w: %w", ErrHeader, wire.ErrReservedBits)
	errEmptyPayload = fmt.Errorf("%w: empty", ErrPayload)
	errOverlap      = fmt.Errorf("%w: overlaps the destination inexactly", ErrPayload)
)
