package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"strconv"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// Suite is an AEAD algorithm for packet protection. Both sides must be
// configured with the same Suite (PROTOCOL.md §2). A Suite is a plain value,
// safe for concurrent use.
type Suite uint8

// The AEAD suites. AES128GCM is the default (the zero value).
const (
	// AES128GCM is AES-128 in Galois/Counter Mode (crypto/aes, crypto/cipher).
	AES128GCM Suite = iota
	// ChaCha20Poly1305 is ChaCha20-Poly1305 (RFC 8439), faster than AES-GCM
	// on CPUs without AES instructions.
	ChaCha20Poly1305
)

// String returns the suite's conventional name, or "Suite(n)" for an unknown
// value.
func (s Suite) String() string {
	switch s {
	case AES128GCM:
		return "AES-128-GCM"
	case ChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	}
	return "Suite(" + strconv.Itoa(int(s)) + ")"
}

// keyLen returns the AEAD key length of s, or 0 for an unknown suite.
func (s Suite) keyLen() int {
	switch s {
	case AES128GCM:
		return 16
	case ChaCha20Poly1305:
		return chacha20poly1305.KeySize
	}
	return 0
}

// SecretLen is the length of a traffic secret in bytes (PROTOCOL.md §2).
const SecretLen = 32

// HKDF-Expand labels and lengths (PROTOCOL.md §2).
const (
	labelKey = "pumpnet key"
	labelIV  = "pumpnet iv"
	labelKU  = "pumpnet ku"
	ivLen    = 12
	nonceLen = 12
	maxPN    = uint64(1) << 62
	pnOffset = nonceLen - 8
)

// secret is a traffic secret. It is kept only as long as a key update needs
// it and zeroed when replaced.
type secret [SecretLen]byte

// keys is one generation of packet protection keys. A zero keys (nil aead)
// means "no keys": opening with it fails without an AEAD call.
type keys struct {
	aead cipher.AEAD
	iv   [ivLen]byte
}

// nonce writes iv XOR (4 zero bytes || pn as 8-byte big-endian) into n
// (PROTOCOL.md §3, RFC 9001 §5.3).
func (k *keys) nonce(n *[nonceLen]byte, pn uint64) {
	*n = k.iv
	for i := range 8 {
		n[pnOffset+i] ^= byte(pn >> (56 - 8*i))
	}
}

// deriveKeys builds the AEAD and IV of suite from s. The key bytes are
// zeroed once the AEAD holds its own schedule.
func deriveKeys(suite Suite, s *secret) (keys, error) {
	var k keys
	key, err := hkdf.Expand(sha256.New, s[:], labelKey, suite.keyLen())
	if err != nil {
		return k, fmt.Errorf("protect: derive key: %w", err)
	}
	defer clear(key)
	iv, err := hkdf.Expand(sha256.New, s[:], labelIV, ivLen)
	if err != nil {
		return k, fmt.Errorf("protect: derive iv: %w", err)
	}
	copy(k.iv[:], iv)
	clear(iv)
	switch suite {
	case AES128GCM:
		block, err := aes.NewCipher(key)
		if err != nil {
			return keys{}, fmt.Errorf("protect: %v: %w", suite, err)
		}
		k.aead, err = cipher.NewGCM(block)
		if err != nil {
			return keys{}, fmt.Errorf("protect: %v: %w", suite, err)
		}
	case ChaCha20Poly1305:
		k.aead, err = chacha20poly1305.New(key)
		if err != nil {
			return keys{}, fmt.Errorf("protect: %v: %w", suite, err)
		}
	default:
		return keys{}, fmt.Errorf("%w: unknown suite %v", ErrConfig, suite)
	}
	if k.aead.NonceSize() != nonceLen || k.aead.Overhead() != wire.TagLen {
		return keys{}, fmt.Errorf("protect: %v: unexpected nonce or tag size", suite)
	}
	return k, nil
}

// update replaces s with the next traffic secret, HKDF-Expand(s, "pumpnet ku",
// 32) (PROTOCOL.md §4), zeroing the intermediate copy.
func (s *secret) update() error {
	next, err := hkdf.Expand(sha256.New, s[:], labelKU, SecretLen)
	if err != nil {
		return fmt.Errorf("protect: derive next secret: %w", err)
	}
	copy(s[:], next)
	clear(next)
	return nil
}

// checkSuiteSecret validates the arguments shared by NewSealer and NewOpener.
func checkSuiteSecret(suite Suite, s []byte) error {
	if suite.keyLen() == 0 {
		return fmt.Errorf("%w: unknown suite %v", ErrConfig, suite)
	}
	if len(s) != SecretLen {
		return fmt.Errorf("%w: traffic secret is %d bytes, want %d", ErrConfig, len(s), SecretLen)
	}
	return nil
}
