package lobby

import (
	"crypto"
	"testing"
)

// TestSignalSealOpen: a sealed signal opens for its recipient with what
// was sealed; every truncation, and every flipped byte, is refused.
func TestSignalSealOpen(t *testing.T) {
	certs := certsByIdentity(t, 2)
	from, to := fpOf(t, certs[0]), fpOf(t, certs[1])
	b, err := sealSignal(certs[0].PrivateKey.(crypto.Signer), certs[0].Certificate[0], from, to, kindOffer, 77, flagKeyIsID, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := openSignal(b, from, to)
	if err != nil || m.kind != kindOffer || m.attempt != 77 || m.flags != flagKeyIsID || string(m.data) != "payload" {
		t.Fatalf("opened %+v, %v", m, err)
	}
	if _, err := openSignal(b, to, to); err == nil {
		t.Error("opened as from another sender")
	}
	if _, err := openSignal(b, from, from); err == nil {
		t.Error("opened for another recipient")
	}
	for n := range len(b) {
		if _, err := openSignal(b[:n], from, to); err == nil {
			t.Fatalf("a truncation to %d of %d bytes opened", n, len(b))
		}
	}
	// Outside the certificate every byte counts; inside it only its key
	// does (the certificate is not checked otherwise: the identity is the
	// key), so a change there opens at most the same signal.
	certAt, certEnd := signalFixed, signalFixed+len(certs[0].Certificate[0])
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		got, err := openSignal(c, from, to)
		if err == nil && (i < certAt || i >= certEnd || got.kind != m.kind || got.attempt != m.attempt || got.flags != m.flags || string(got.data) != string(m.data)) {
			t.Fatalf("a signal with byte %d changed opened as %+v", i, got)
		}
	}
}

// FuzzOpenSignal: openSignal never panics, and what it opens was signed.
func FuzzOpenSignal(f *testing.F) {
	certs := certsByIdentity(&testing.T{}, 2)
	from, to := fpOf(&testing.T{}, certs[0]), fpOf(&testing.T{}, certs[1])
	b, _ := sealSignal(certs[0].PrivateKey.(crypto.Signer), certs[0].Certificate[0], from, to, kindAnswer, 1, 0, []byte("x"))
	f.Add(b)
	f.Add([]byte{1, 'o', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := openSignal(b, from, to)
		if err == nil && len(m.data) > len(b) {
			t.Fatal("payload longer than the signal")
		}
	})
}
