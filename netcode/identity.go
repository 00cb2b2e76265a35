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
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
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
	return certificateFor(key)
}

// maxKeyFile bounds what LoadKeyFile reads: a PEM EC key is about 230 bytes.
const maxKeyFile = 64 << 10

// LoadKeyFile returns a self-signed certificate for the ECDSA private key in
// the PEM file at path (PKCS #8 or SEC 1 "EC PRIVATE KEY"), creating the
// file with a new P-256 key (mode 0600, never overwriting a file that
// appears meanwhile) if it does not exist; created says which. The
// certificate is made anew each time, but its Fingerprint is the key's, so
// it stays the same across restarts. This is Config.KeyFile's loader, for
// callers that want the certificate itself. It blocks on file I/O.
func LoadKeyFile(path string) (cert tls.Certificate, created bool, err error) {
	data, err := readBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, false, fmt.Errorf("netcode: generate key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, false, fmt.Errorf("netcode: key file %s: %w", path, err)
		}
		if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return tls.Certificate{}, false, fmt.Errorf("netcode: key file: %w", err)
		}
		cert, err := certificateFor(key)
		return cert, true, err
	}
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("netcode: key file: %w", err)
	}
	key, err := parseKeyPEM(data)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("netcode: key file %s: %w", path, err)
	}
	cert, err = certificateFor(key)
	return cert, false, err
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s is over %d bytes: not a key file", path, maxKeyFile)
	}
	return data, nil
}

// writeNew writes data to a new file at path, readable only by its owner.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// parseKeyPEM reads the first PEM block of data as an ECDSA private key.
func parseKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block: not a key file")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q: want \"PRIVATE KEY\" or \"EC PRIVATE KEY\"", block.Type)
	}
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key: pumpnet identities are ECDSA keys", key)
	}
	return ec, nil
}

// certificateFor makes a self-signed certificate for key.
func certificateFor(key *ecdsa.PrivateKey) (tls.Certificate, error) {
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
