package protect

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
	xhkdf "golang.org/x/crypto/hkdf"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

func TestSuiteString(t *testing.T) {
	for s, want := range map[Suite]string{
		AES128GCM:        "AES-128-GCM",
		ChaCha20Poly1305: "ChaCha20-Poly1305",
		Suite(7):         "Suite(7)",
	} {
		if got := s.String(); got != want {
			t.Errorf("Suite(%d).String() = %q, want %q", uint8(s), got, want)
		}
	}
}

// expandXCrypto is HKDF-Expand-SHA256 by golang.org/x/crypto/hkdf.
func expandXCrypto(t *testing.T, secret []byte, label string, n int) []byte {
	t.Helper()
	out := make([]byte, n)
	if _, err := io.ReadFull(xhkdf.Expand(sha256.New, secret, []byte(label)), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// expandHMAC is HKDF-Expand-SHA256 written out from RFC 5869 §2.3 for
// n <= 32: T(1) = HMAC(PRK, info || 0x01).
func expandHMAC(secret []byte, label string, n int) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{1})
	return m.Sum(nil)[:n]
}

// kat holds one generation's keys derived independently of the package.
type kat struct {
	aead cipher.AEAD
	iv   []byte
	next []byte
}

func independentKeys(t *testing.T, suite Suite, secret []byte) kat {
	t.Helper()
	keyLen := map[Suite]int{AES128GCM: 16, ChaCha20Poly1305: 32}[suite]
	key := expandXCrypto(t, secret, "pumpnet key", keyLen)
	iv := expandXCrypto(t, secret, "pumpnet iv", 12)
	next := expandXCrypto(t, secret, "pumpnet ku", 32)
	// Cross-check the two independent HKDF implementations.
	for _, c := range []struct {
		label string
		got   []byte
	}{{"pumpnet key", key}, {"pumpnet iv", iv}, {"pumpnet ku", next}} {
		if want := expandHMAC(secret, c.label, len(c.got)); !bytes.Equal(c.got, want) {
			t.Fatalf("x/crypto hkdf and HMAC disagree on %q", c.label)
		}
	}
	var a cipher.AEAD
	var err error
	switch suite {
	case AES128GCM:
		var b cipher.Block
		if b, err = aes.NewCipher(key); err == nil {
			a, err = cipher.NewGCM(b)
		}
	case ChaCha20Poly1305:
		a, err = chacha20poly1305.New(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return kat{aead: a, iv: iv, next: next}
}

func (k kat) nonce(pn uint64) []byte {
	n := bytes.Clone(k.iv)
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], pn)
	for i := range p {
		n[4+i] ^= p[i]
	}
	return n
}

// TestKnownAnswer checks the labels, lengths, nonce construction, header AAD
// and key update chain against keys derived independently with
// golang.org/x/crypto/hkdf (and plain HMAC): packets sealed by the Sealer
// open with the independent keys, and packets sealed with the independent
// keys open with the Opener, across several key updates.
func TestKnownAnswer(t *testing.T) {
	const interval = 3
	for _, suite := range suites {
		t.Run(suite.String(), func(t *testing.T) {
			secret := testSecret(42)
			s, err := newSealer(suite, secret, interval)
			if err != nil {
				t.Fatal(err)
			}
			o, err := newOpener(suite, secret, 10)
			if err != nil {
				t.Fatal(err)
			}
			gen := independentKeys(t, suite, secret)
			if !bytes.Equal(s.cur.iv[:], gen.iv) || !bytes.Equal(o.cur.iv[:], gen.iv) {
				t.Fatalf("iv differs from HKDF-Expand(secret, \"pumpnet iv\", 12)")
			}
			for pn := uint64(0); pn < 5*interval; pn++ {
				if pn > 0 && pn%interval == 0 {
					gen = independentKeys(t, suite, gen.next)
				}
				phase := (pn/interval)%2 == 1
				payload := testPayload(pn, 40)

				// Sealer -> independent open.
				pkt, _, err := s.Seal(make([]byte, 0, 80), testCID, payload)
				if err != nil {
					t.Fatal(err)
				}
				h, err := wire.ParseHeader(pkt)
				if err != nil {
					t.Fatal(err)
				}
				if h.KeyPhase != phase || h.PN != uint32(pn) || h.ConnID != testCID {
					t.Fatalf("pn %d: header %+v, want phase %v", pn, h, phase)
				}
				pt, err := gen.aead.Open(nil, gen.nonce(pn), pkt[wire.HeaderLen:], pkt[:wire.HeaderLen])
				if err != nil || !bytes.Equal(pt, payload) {
					t.Fatalf("pn %d: independent open: %v", pn, err)
				}

				// Independent seal -> Opener (consumes pn on the opener side).
				hdr := wire.AppendHeader(nil, wire.Header{KeyPhase: phase, ConnID: testCID, PN: uint32(pn)})
				pkt2 := gen.aead.Seal(hdr, gen.nonce(pn), payload, hdr)
				gotPN, got, err := o.Open(pkt2)
				if err != nil || gotPN != pn || !bytes.Equal(got, payload) {
					t.Fatalf("pn %d: Open of independently sealed packet: pn %d err %v", pn, gotPN, err)
				}
			}
		})
	}
}

func TestNonce(t *testing.T) {
	k := keys{iv: [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	var n [12]byte
	k.nonce(&n, 0x0102030405060708)
	want := [12]byte{1, 2, 3, 4, 5 ^ 1, 6 ^ 2, 7 ^ 3, 8 ^ 4, 9 ^ 5, 10 ^ 6, 11 ^ 7, 12 ^ 8}
	if n != want {
		t.Fatalf("nonce = %x, want %x", n, want)
	}
}

func TestConstructorValidation(t *testing.T) {
	good := testSecret(1)
	for _, c := range []struct {
		name     string
		suite    Suite
		secret   []byte
		interval uint64
		ok       bool
	}{
		{"default interval", AES128GCM, good, 0, true},
		{"min interval", AES128GCM, good, MinKeyUpdateInterval, true},
		{"max interval", ChaCha20Poly1305, good, MaxKeyUpdateInterval, true},
		{"interval 1", AES128GCM, good, 1, false},
		{"below min", AES128GCM, good, MinKeyUpdateInterval - 1, false},
		{"2^23", AES128GCM, good, 1 << 23, false},
		{"unknown suite", Suite(2), good, 0, false},
		{"short secret", AES128GCM, good[:31], 0, false},
		{"long secret", AES128GCM, append(bytes.Clone(good), 0), 0, false},
		{"nil secret", AES128GCM, nil, 0, false},
	} {
		s, err := NewSealer(c.suite, c.secret, c.interval)
		if c.ok {
			if err != nil {
				t.Errorf("NewSealer %s: %v", c.name, err)
				continue
			}
			want := c.interval
			if want == 0 {
				want = DefaultKeyUpdateInterval
			}
			if s.interval != want {
				t.Errorf("NewSealer %s: interval %d, want %d", c.name, s.interval, want)
			}
		} else if !errors.Is(err, ErrConfig) || s != nil {
			t.Errorf("NewSealer %s: (%v, %v), want ErrConfig", c.name, s, err)
		}
	}
	for _, c := range []struct {
		name  string
		suite Suite
		sec   []byte
		max   uint64
		want  uint64 // 0: error
	}{
		{"default", AES128GCM, good, 0, DefaultMaxAuthFailures},
		{"one", AES128GCM, good, 1, 1},
		{"limit", ChaCha20Poly1305, good, MaxAuthFailuresLimit, MaxAuthFailuresLimit},
		{"over limit", AES128GCM, good, MaxAuthFailuresLimit + 1, 0},
		{"unknown suite", Suite(9), good, 0, 0},
		{"short secret", AES128GCM, good[:16], 0, 0},
	} {
		o, err := NewOpener(c.suite, c.sec, c.max)
		if c.want != 0 {
			if err != nil || o.maxFailures != c.want {
				t.Errorf("NewOpener %s: (%v, %v), want limit %d", c.name, o, err, c.want)
			}
		} else if !errors.Is(err, ErrConfig) || o != nil {
			t.Errorf("NewOpener %s: (%v, %v), want ErrConfig", c.name, o, err)
		}
	}
}

// TestConstructorsCopySecret checks that the caller may zero its secret
// right after construction.
func TestConstructorsCopySecret(t *testing.T) {
	sec := testSecret(3)
	s, err := NewSealer(AES128GCM, sec, 0)
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(AES128GCM, sec, 0)
	if err != nil {
		t.Fatal(err)
	}
	clear(sec)
	mustOpen(t, o, sealN(t, s, 1, 10)[0])
}
