package rendezvous

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// proofContext separates rendezvous proofs from every other use of a
// pumpnet key.
const proofContext = "pumpnet-rendezvous-v1"

// proofDigest is what a member signs: SHA-256 of proofContext, the host
// the member addressed (the HTTP Host, so a proof made for one rendezvous
// cannot be replayed at another) and the server's nonce, separated by zero
// bytes.
func proofDigest(host, nonce string) []byte {
	h := sha256.New()
	h.Write([]byte(proofContext))
	h.Write([]byte{0})
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write([]byte(nonce))
	return h.Sum(nil)
}

// makeProof signs nonce for host with cert's key (ECDSA, ASN.1).
func makeProof(cert tls.Certificate, host, nonce string) (proof, error) {
	if len(cert.Certificate) == 0 {
		return proof{}, errors.New("rendezvous: certificate has no DER data")
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return proof{}, fmt.Errorf("rendezvous: a %T key cannot sign", cert.PrivateKey)
	}
	sig, err := signer.Sign(rand.Reader, proofDigest(host, nonce), crypto.SHA256)
	if err != nil {
		return proof{}, fmt.Errorf("rendezvous: sign proof: %w", err)
	}
	return proof{Nonce: nonce, Cert: cert.Certificate[0], Sig: sig}, nil
}

// verifySignature checks p's signature for host and returns the key
// fingerprint (hex SHA-256 of the DER SubjectPublicKeyInfo, as
// netcode.Fingerprint). It does not look at the nonce's freshness.
func verifySignature(p proof, host string) (string, error) {
	cert, err := x509.ParseCertificate(p.Cert)
	if err != nil {
		return "", fmt.Errorf("%w: certificate: %v", ErrProof, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return "", fmt.Errorf("%w: the key must be ECDSA P-256 (pumpnet identities)", ErrProof)
	}
	digest := proofDigest(host, p.Nonce)
	valid := false
	if len(p.Sig) == 64 { // WebCrypto's r||s
		r := new(big.Int).SetBytes(p.Sig[:32])
		s := new(big.Int).SetBytes(p.Sig[32:])
		if der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s}); err == nil {
			valid = ecdsa.VerifyASN1(pub, digest, der)
		}
	}
	if !valid {
		valid = ecdsa.VerifyASN1(pub, digest, p.Sig)
	}
	if !valid {
		return "", fmt.Errorf("%w: signature does not verify", ErrProof)
	}
	fp := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(fp[:]), nil
}

// nonces holds the nonces the server issued and not yet used. Each is
// single-use and expires ttl after issue. Not goroutine-safe: the server's
// lock guards it.
type nonces struct {
	ttl    time.Duration
	max    int
	issued map[string]time.Time // nonce -> expiry
}

// issue makes a new nonce, or fails with ErrServerFull when max nonces are
// outstanding (expired ones are dropped first).
func (n *nonces) issue(now time.Time) (string, error) {
	if len(n.issued) >= n.max {
		n.sweep(now)
		if len(n.issued) >= n.max {
			return "", fmt.Errorf("%w: %d nonces outstanding", ErrServerFull, n.max)
		}
	}
	var b [32]byte
	rand.Read(b[:])
	s := base64.RawURLEncoding.EncodeToString(b[:])
	n.issued[s] = now.Add(n.ttl)
	return s, nil
}

// take consumes nonce: true once if it was issued and has not expired.
func (n *nonces) take(nonce string, now time.Time) bool {
	exp, ok := n.issued[nonce]
	if !ok {
		return false
	}
	delete(n.issued, nonce)
	return now.Before(exp)
}

func (n *nonces) sweep(now time.Time) {
	for k, exp := range n.issued {
		if !now.Before(exp) {
			delete(n.issued, k)
		}
	}
}
