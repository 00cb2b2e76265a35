package protect

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

var suites = []Suite{AES128GCM, ChaCha20Poly1305}

// testSecret returns a 32-byte secret whose bytes depend on seed and are
// distinct from small counters (so they are easy to spot in printed output).
func testSecret(seed byte) []byte {
	s := make([]byte, SecretLen)
	for i := range s {
		s[i] = 0x9d ^ seed*31 ^ byte(i*7+0xa1)
	}
	return s
}

var testCID = wire.ConnID{0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8}

// testPayload returns a payload of n bytes that encodes pn, so a payload
// delivered for the wrong packet is noticed.
func testPayload(pn uint64, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(pn>>(8*(i%8))) ^ byte(i)
	}
	return p
}

type sealed struct {
	pn      uint64
	packet  []byte
	payload []byte
}

// sealN seals n packets of payload size size with s and returns copies.
func sealN(t testing.TB, s *Sealer, n, size int) []sealed {
	t.Helper()
	out := make([]sealed, 0, n)
	for range n {
		pn := s.NextPN()
		p := testPayload(pn, size)
		pkt, got, err := s.Seal(make([]byte, 0, wire.HeaderLen+size+wire.TagLen), testCID, p)
		if err != nil {
			t.Fatalf("Seal pn %d: %v", pn, err)
		}
		if got != pn {
			t.Fatalf("Seal returned pn %d, NextPN said %d", got, pn)
		}
		out = append(out, sealed{pn: pn, packet: pkt, payload: p})
	}
	return out
}

// mustOpen opens a copy of p with o and checks pn and payload.
func mustOpen(t testing.TB, o *Opener, p sealed) {
	t.Helper()
	buf := bytes.Clone(p.packet)
	pn, pl, err := o.Open(buf)
	if err != nil {
		t.Fatalf("Open pn %d: %v", p.pn, err)
	}
	if pn != p.pn {
		t.Fatalf("Open pn = %d, want %d", pn, p.pn)
	}
	if !bytes.Equal(pl, p.payload) {
		t.Fatalf("Open pn %d: payload differs", p.pn)
	}
}

// openErr opens a copy of p with o and returns the error.
func openErr(o *Opener, p []byte) error {
	_, _, err := o.Open(bytes.Clone(p))
	return err
}

func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func pair(t testing.TB, suite Suite, interval uint64) (*Sealer, *Opener) {
	t.Helper()
	s, err := newSealer(suite, testSecret(1), interval)
	if err != nil {
		t.Fatal(err)
	}
	o, err := newOpener(suite, testSecret(1), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func isHeaderErr(err error) bool { return errors.Is(err, ErrHeader) }
