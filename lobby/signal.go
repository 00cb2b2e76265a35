package lobby

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pumpnet/pumpnet/netcode"
)

// The envelope of an internet session's signals (what the rendezvous
// relays between two members for one connection attempt):
//
//	version   1 byte  (signalVersion)
//	kind      1 byte  (kindOffer, kindAnswer, kindRefuse)
//	attempt   8 bytes (big endian; the offerer picks it at random)
//	flags     1 byte  (flagKeyIsID: the sender's DTLS key is its identity key)
//	certLen   2 bytes, then the sender's DER certificate (its identity)
//	sigLen    1 byte,  then an ECDSA P-256 signature (ASN.1) by that key
//	payload   the rest (ConnectPeer's offer or answer, or a refusal's reason)
//
// The signature covers signalContext, the sender's and the recipient's IDs,
// kind, attempt, flags and payload. The recipient checks that the
// certificate's key is the sender's proven ID and the signature. So the
// SDP of an offer or answer, which carries the fingerprint of the DTLS
// certificate the peer will show, is the identity's word, not the relay's:
// a browser, which makes its own DTLS key for each connection, is bound to
// its identity by it, and WebRTC's DTLS handshake checks that fingerprint.
const (
	signalVersion  = 1
	signalFixed    = 1 + 1 + 8 + 1 + 2 // up to the certificate
	maxSignalCert  = 2048
	maxSignalSig   = 80 // an ASN.1 P-256 signature is at most 72 bytes
	flagKeyIsID    = 1
	signalContext  = "pumpnet-lobby-signal-v1\x00"
	maxSignalBytes = signalFixed + maxSignalCert + 1 + maxSignalSig + 64<<10
)

// signal is a decoded, verified envelope.
type signal struct {
	kind    byte
	attempt uint64
	flags   byte
	data    []byte
}

// signalDigest is what the sender signs.
func signalDigest(from, to netcode.Fingerprint, kind byte, attempt uint64, flags byte, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(signalContext))
	h.Write(from[:])
	h.Write(to[:])
	var b [10]byte
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:], attempt)
	b[9] = flags
	h.Write(b[:])
	h.Write(payload)
	return h.Sum(nil)
}

// sealSignal builds an envelope from → to, signed with key (the private
// key of certDER, the sender's identity).
func sealSignal(key crypto.Signer, certDER []byte, from, to netcode.Fingerprint, kind byte, attempt uint64, flags byte, payload []byte) ([]byte, error) {
	if len(certDER) > maxSignalCert {
		return nil, fmt.Errorf("lobby: identity certificate of %d bytes, at most %d", len(certDER), maxSignalCert)
	}
	sig, err := key.Sign(rand.Reader, signalDigest(from, to, kind, attempt, flags, payload), crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("lobby: signing a signal: %w", err)
	}
	if len(sig) > maxSignalSig {
		return nil, errors.New("lobby: signature too long (the identity key must be ECDSA P-256)")
	}
	b := make([]byte, 0, signalFixed+len(certDER)+1+len(sig)+len(payload))
	b = append(b, signalVersion, kind)
	b = binary.BigEndian.AppendUint64(b, attempt)
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(certDER)))
	b = append(b, certDER...)
	b = append(b, byte(len(sig)))
	b = append(b, sig...)
	return append(b, payload...), nil
}

// openSignal decodes and verifies an envelope that the relay says from
// sent to to: every length is checked against what is left, the
// certificate's key must be from (an ECDSA P-256 key) and the signature
// valid. It never panics.
func openSignal(b []byte, from, to netcode.Fingerprint) (signal, error) {
	if len(b) < signalFixed {
		return signal{}, errors.New("signal shorter than its header")
	}
	if len(b) > maxSignalBytes {
		return signal{}, errors.New("signal too large")
	}
	if b[0] != signalVersion {
		return signal{}, fmt.Errorf("signal version %d", b[0])
	}
	s := signal{kind: b[1], attempt: binary.BigEndian.Uint64(b[2:]), flags: b[10]}
	certLen := int(binary.BigEndian.Uint16(b[11:]))
	rest := b[signalFixed:]
	if certLen > maxSignalCert || certLen+1 > len(rest) {
		return signal{}, errors.New("signal certificate length out of bounds")
	}
	certDER, rest := rest[:certLen], rest[certLen:]
	sigLen := int(rest[0])
	rest = rest[1:]
	if sigLen > maxSignalSig || sigLen > len(rest) {
		return signal{}, errors.New("signal signature length out of bounds")
	}
	sig, payload := rest[:sigLen], rest[sigLen:]
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return signal{}, fmt.Errorf("signal certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return signal{}, errors.New("signal certificate: not an ECDSA P-256 key")
	}
	if sha256.Sum256(cert.RawSubjectPublicKeyInfo) != from {
		return signal{}, errors.New("signal certificate is not the sender's identity")
	}
	if !ecdsa.VerifyASN1(pub, signalDigest(from, to, s.kind, s.attempt, s.flags, payload), sig) {
		return signal{}, errors.New("signal signature invalid")
	}
	s.data = payload
	return s, nil
}
