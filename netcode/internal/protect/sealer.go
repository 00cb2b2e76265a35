package protect

import (
	"fmt"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// Key update interval bounds for NewSealer (PROTOCOL.md §4).
const (
	// DefaultKeyUpdateInterval is the number of packets sealed under one key
	// when NewSealer is given 0.
	DefaultKeyUpdateInterval = 1 << 20
	// MaxKeyUpdateInterval is the largest interval NewSealer accepts: one
	// below 2^23, the AES-GCM confidentiality limit of RFC 9001 §6.6.
	MaxKeyUpdateInterval = 1<<23 - 1
	// MinKeyUpdateInterval is the smallest interval NewSealer accepts. The
	// Opener keeps only three key generations (previous, current, next);
	// with an interval of at least ReplayWindow, every packet two generations
	// old is already outside the replay window and dropped before
	// decryption, and reordering by less than an interval never reaches a
	// generation the Opener does not hold.
	MinKeyUpdateInterval = ReplayWindow
)

// Sealer protects the packets of one direction of a connection
// (PROTOCOL.md §3): it numbers them from 0, writes the header and seals the
// payload with the header as associated data. It updates its keys every
// keyUpdateInterval packets (PROTOCOL.md §4).
//
// A Sealer holds the current traffic secret, because the next key update
// derives from it; it is zeroed when replaced and by Close. Key bytes are
// zeroed once the AEAD is built (the AEAD's own key schedule lives as long as
// the Sealer). Printing a Sealer with fmt shows no key material.
//
// A Sealer is not safe for concurrent use.
type Sealer struct {
	suite    Suite
	secret   secret // current generation's secret
	cur      keys
	nonce    [nonceLen]byte
	phase    bool   // key phase bit of cur
	pn       uint64 // next packet number
	sinceKU  uint64 // packets sealed under cur
	interval uint64
	updates  uint64 // key updates done
	closed   bool
}

// NewSealer returns a Sealer for suite keyed by the 32-byte traffic secret
// (one half of Exported). keyUpdateInterval is the number of packets sealed
// under one key: 0 selects DefaultKeyUpdateInterval, otherwise it must lie in
// [MinKeyUpdateInterval, MaxKeyUpdateInterval]. NewSealer copies secret; the
// caller zeroes its own copy. It is safe for concurrent use.
func NewSealer(suite Suite, secret []byte, keyUpdateInterval uint64) (*Sealer, error) {
	if keyUpdateInterval == 0 {
		keyUpdateInterval = DefaultKeyUpdateInterval
	}
	if keyUpdateInterval < MinKeyUpdateInterval || keyUpdateInterval > MaxKeyUpdateInterval {
		return nil, fmt.Errorf("%w: key update interval %d outside [%d, %d]",
			ErrConfig, keyUpdateInterval, MinKeyUpdateInterval, MaxKeyUpdateInterval)
	}
	return newSealer(suite, secret, keyUpdateInterval)
}

// newSealer is NewSealer without the interval bounds, so tests can update
// keys every few packets.
func newSealer(suite Suite, sec []byte, interval uint64) (*Sealer, error) {
	if err := checkSuiteSecret(suite, sec); err != nil {
		return nil, err
	}
	if interval == 0 {
		return nil, fmt.Errorf("%w: key update interval 0", ErrConfig)
	}
	s := &Sealer{suite: suite, interval: interval}
	copy(s.secret[:], sec)
	k, err := deriveKeys(suite, &s.secret)
	if err != nil {
		clear(s.secret[:])
		return nil, err
	}
	s.cur = k
	return s, nil
}

// NextPN returns the packet number the next Seal will use.
func (s *Sealer) NextPN() uint64 { return s.pn }

// Seal takes the next packet number, writes the header (connID, key phase,
// low 32 bits of the packet number) into dst[:wire.HeaderLen] and the sealed
// payload and tag after it. It returns the packet, a prefix of dst of length
// wire.HeaderLen+len(payload)+wire.TagLen, and its full packet number.
//
// dst needs that capacity (ErrBufferTooSmall otherwise). payload must not be
// empty, and may alias dst[wire.HeaderLen:wire.HeaderLen+len(payload)]
// exactly (in-place sealing) but no other part of dst (ErrPayload). Beyond
// packet number 2^62-1 Seal returns ErrPNExhausted. A failed Seal consumes no
// packet number. Seal allocates nothing except when it updates keys (once per
// key update interval).
func (s *Sealer) Seal(dst []byte, connID wire.ConnID, payload []byte) (packet []byte, pn uint64, err error) {
	if s.closed {
		return nil, 0, ErrClosed
	}
	if len(payload) == 0 {
		return nil, 0, errEmptyPayload
	}
	n := wire.HeaderLen + len(payload) + wire.TagLen
	if cap(dst) < n {
		return nil, 0, fmt.Errorf("%w: need %d bytes, capacity %d", ErrBufferTooSmall, n, cap(dst))
	}
	dst = dst[:n]
	if !sealOverlapOK(dst, wire.HeaderLen, payload) {
		return nil, 0, errOverlap
	}
	if s.pn >= maxPN {
		return nil, 0, ErrPNExhausted
	}
	if s.sinceKU >= s.interval {
		if err := s.updateKeys(); err != nil {
			return nil, 0, err
		}
	}
	pn = s.pn
	wire.AppendHeader(dst[:0], wire.Header{KeyPhase: s.phase, ConnID: connID, PN: uint32(pn)})
	s.cur.nonce(&s.nonce, pn)
	s.cur.aead.Seal(dst[wire.HeaderLen:wire.HeaderLen], s.nonce[:], payload, dst[:wire.HeaderLen])
	s.pn++
	s.sinceKU++
	return dst, pn, nil
}

// updateKeys moves to the next key generation and flips the key phase
// (PROTOCOL.md §4). On error the Sealer is unchanged.
func (s *Sealer) updateKeys() error {
	next := s.secret
	defer clear(next[:])
	if err := next.update(); err != nil {
		return err
	}
	k, err := deriveKeys(s.suite, &next)
	if err != nil {
		return err
	}
	s.secret = next
	s.cur = k
	s.phase = !s.phase
	s.sinceKU = 0
	s.updates++
	return nil
}

// Close zeroes the secret the Sealer holds and drops its keys; later Seals
// return ErrClosed. Close is idempotent.
func (s *Sealer) Close() {
	clear(s.secret[:])
	clear(s.nonce[:])
	s.cur = keys{}
	s.closed = true
}
