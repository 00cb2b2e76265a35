package netcode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Fingerprint is a peer's identity: the SHA-256 of its certificate's public
// key (DER SubjectPublicKeyInfo). It survives certificate renewal with the
// same key. Its text form is 64 lowercase hex digits.
type Fingerprint [sha256.Size]byte

// String returns the fingerprint as 64 lowercase hex digits.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// IsZero reports whether f is the zero value (no fingerprint).
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// Less orders fingerprints bytewise (the lobby's "lower identity dials").
func (f Fingerprint) Less(g Fingerprint) bool {
	for i := range f {
		if f[i] != g[i] {
			return f[i] < g[i]
		}
	}
	return false
}

// ParseFingerprint parses the 64-hex-digit form (case-insensitive; ':'
// separators between byte pairs are accepted).
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	clean := make([]byte, 0, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			continue
		}
		clean = append(clean, s[i])
	}
	if len(clean) != 2*len(f) {
		return f, fmt.Errorf("netcode: fingerprint must be %d hex digits, got %d", 2*len(f), len(clean))
	}
	if _, err := hex.Decode(f[:], clean); err != nil {
		return f, fmt.Errorf("netcode: fingerprint: %w", err)
	}
	return f, nil
}

// FingerprintOf returns the fingerprint of a DER certificate.
func FingerprintOf(der []byte) (Fingerprint, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("netcode: parse certificate: %w", err)
	}
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo), nil
}

// GenerateCertificate makes a self-signed ECDSA P-256 certificate, the
// default identity of an endpoint. Its fingerprint is what peers pin.
func GenerateCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("netcode: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("netcode: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "pumpnet"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("netcode: create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func certFingerprint(c *tls.Certificate) (Fingerprint, error) {
	if c == nil || len(c.Certificate) == 0 {
		return Fingerprint{}, errors.New("netcode: certificate has no DER data")
	}
	return FingerprintOf(c.Certificate[0])
}
