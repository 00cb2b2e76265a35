package protect

import (
	"fmt"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// Auth failure limit bounds for NewOpener (PROTOCOL.md §3).
const (
	// DefaultMaxAuthFailures is the number of failed authentications an
	// Opener tolerates when NewOpener is given 0.
	DefaultMaxAuthFailures = 1 << 20
	// MaxAuthFailuresLimit is the largest limit NewOpener accepts: 2^36, the
	// ChaCha20-Poly1305 integrity limit of RFC 9001 §6.6 (AES-GCM's, 2^52,
	// is higher).
	MaxAuthFailuresLimit = 1 << 36
)

// First-byte bits of the header (PROTOCOL.md §3): a header is valid only if
// its first byte is fixedBit, optionally with keyPhaseBit.
const (
	fixedBit    = 0x80
	keyPhaseBit = 0x40
)

// Opener authenticates and decrypts the packets of one direction of a
// connection (PROTOCOL.md §3, §4). It expands truncated packet numbers
// around the largest authenticated one, drops replays before decrypting,
// and follows the peer's key updates, keeping the previous, current and
// precomputed next keys.
//
// An Opener holds the next generation's traffic secret, because the key
// update after next derives from it; it is zeroed when replaced and by
// Close. Key bytes are zeroed once the AEADs are built. Printing an Opener
// with fmt shows no key material.
//
// An Opener is not safe for concurrent use.
type Opener struct {
	suite       Suite
	secret      secret // secret of the next generation
	prev        keys   // previous generation; zero before the first update
	cur         keys
	next        keys
	nonce       [nonceLen]byte
	phase       bool   // key phase bit of cur
	firstPN     uint64 // pn of the packet that rotated to cur (0 for generation 0)
	window      replayWindow
	failures    uint64
	maxFailures uint64
	updates     uint64 // key updates followed
	aeadOpens   uint64 // AEAD Open calls, for tests
	closed      bool
}

// NewOpener returns an Opener for suite keyed by the 32-byte traffic secret
// (one half of Exported). maxAuthFailures bounds the packets that may fail
// authentication over the connection's life: 0 selects
// DefaultMaxAuthFailures, and it may not exceed MaxAuthFailuresLimit.
// NewOpener copies secret; the caller zeroes its own copy. It is safe for
// concurrent use.
func NewOpener(suite Suite, secret []byte, maxAuthFailures uint64) (*Opener, error) {
	if maxAuthFailures == 0 {
		maxAuthFailures = DefaultMaxAuthFailures
	}
	if maxAuthFailures > MaxAuthFailuresLimit {
		return nil, fmt.Errorf("%w: max auth failures %d exceeds %d",
			ErrConfig, maxAuthFailures, uint64(MaxAuthFailuresLimit))
	}
	return newOpener(suite, secret, maxAuthFailures)
}

func newOpener(suite Suite, sec []byte, maxAuthFailures uint64) (*Opener, error) {
	if err := checkSuiteSecret(suite, sec); err != nil {
		return nil, err
	}
	o := &Opener{suite: suite, maxFailures: maxAuthFailures}
	copy(o.secret[:], sec)
	var err error
	if o.cur, err = deriveKeys(suite, &o.secret); err != nil {
		o.Close()
		return nil, err
	}
	if err = o.secret.update(); err != nil {
		o.Close()
		return nil, err
	}
	if o.next, err = deriveKeys(suite, &o.secret); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// AuthFailures returns how many packets have failed authentication.
func (o *Opener) AuthFailures() uint64 { return o.failures }

// Open authenticates and decrypts packet in place. It returns the packet's
// full packet number and its plaintext payload, which aliases packet.
//
// Open drops, before any decryption, a packet that is too short (ErrShort),
// has a malformed first byte (ErrHeader), or whose packet number was already
// authenticated or is ReplayWindow or more below the largest authenticated
// one (ErrReplay). A packet that fails authentication returns ErrAuth and
// changes nothing but the failure count (its payload bytes in packet are
// left unspecified); once the count exceeds the limit, that Open and every
// later one return ErrAuthLimit and the caller must close the connection.
// The replay window, the largest packet number and the key phase change only
// after a packet authenticates. Open allocates nothing except when it
// follows a key update (once per key update interval).
func (o *Opener) Open(packet []byte) (pn uint64, payload []byte, err error) {
	if o.closed {
		return 0, nil, ErrClosed
	}
	if o.failures > o.maxFailures {
		return 0, nil, ErrAuthLimit
	}
	if len(packet) < wire.MinPacketLen {
		return 0, nil, ErrShort
	}
	// Checked here, before wire.ParseHeader, so that the error needs no
	// allocation; ParseHeader then cannot fail.
	if packet[0]&^keyPhaseBit != fixedBit {
		if !wire.IsPumpnet(packet[0]) {
			return 0, nil, errNotPumpnet
		}
		return 0, nil, errReservedBits
	}
	h, err := wire.ParseHeader(packet)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrHeader, err)
	}
	pn = wire.ExpandPN(o.window.largest, o.window.have, h.PN)
	if !o.window.fresh(pn) {
		return 0, nil, ErrReplay
	}
	var k *keys
	switch {
	case h.KeyPhase == o.phase:
		k = &o.cur
	case pn < o.firstPN:
		k = &o.prev
	default:
		k = &o.next
	}
	if k.aead == nil {
		return 0, nil, o.fail()
	}
	k.nonce(&o.nonce, pn)
	o.aeadOpens++
	payload, err = k.aead.Open(packet[wire.HeaderLen:wire.HeaderLen], o.nonce[:],
		packet[wire.HeaderLen:], packet[:wire.HeaderLen])
	if err != nil {
		return 0, nil, o.fail()
	}
	o.window.mark(pn)
	if k == &o.next {
		if err := o.rotate(pn); err != nil {
			return 0, nil, err
		}
	}
	return pn, payload, nil
}

// fail counts a failed authentication and returns the error to report.
func (o *Opener) fail() error {
	o.failures++
	if o.failures > o.maxFailures {
		return ErrAuthLimit
	}
	return ErrAuth
}

// rotate follows the peer's key update after a packet numbered pn opened
// with the next keys: previous := current, current := next, next := derived
// from the next secret (PROTOCOL.md §4). If the derivation fails (it cannot
// with the supported suites), next is left empty and later packets of the
// following phase fail authentication.
func (o *Opener) rotate(pn uint64) error {
	o.prev = o.cur
	o.cur = o.next
	o.next = keys{}
	o.phase = !o.phase
	o.firstPN = pn
	o.updates++
	if err := o.secret.update(); err != nil {
		return err
	}
	k, err := deriveKeys(o.suite, &o.secret)
	if err != nil {
		return err
	}
	o.next = k
	return nil
}

// Close zeroes the secret the Opener holds and drops its keys; later Opens
// return ErrClosed. Close is idempotent.
func (o *Opener) Close() {
	clear(o.secret[:])
	clear(o.nonce[:])
	o.prev, o.cur, o.next = keys{}, keys{}, keys{}
	o.closed = true
}
