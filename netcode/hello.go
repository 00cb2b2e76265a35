package netcode

import "encoding/binary"

// DTLS 1.2 framing (RFC 6347 §4.1, §4.2.2) as far as slot admission needs
// it. Nothing here decrypts or trusts anything: it only decides whether
// bytes look enough like a handshake to be worth a slot (PROTOCOL.md §1.1).
const (
	dtlsRecordHdrLen    = 13 // type, version, epoch, sequence number (6), length
	dtlsHandshakeHdrLen = 12 // msg_type, length (3), message_seq, fragment_offset (3), fragment_length (3)

	dtlsContentCCS       = 20
	dtlsContentHandshake = 22

	hsClientHello       = 1
	hsCertificate       = 11
	hsCertificateVerify = 15
	hsClientKeyExchange = 16
)

func dtlsVersionOK(hi, lo byte) bool { return hi == 0xfe && (lo == 0xff || lo == 0xfd) }

func u24(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }

// isClientHello reports whether b, the DTLS bytes of a client's first
// COOKIE_DTLS datagram, starts with a syntactically valid, unfragmented
// ClientHello record: epoch 0, every length consistent with the bytes
// present, and the body parsed field by field down to the extensions. It
// never reads past b.
func isClientHello(b []byte) bool {
	if len(b) < dtlsRecordHdrLen+dtlsHandshakeHdrLen {
		return false
	}
	if b[0] != dtlsContentHandshake || !dtlsVersionOK(b[1], b[2]) || b[3] != 0 || b[4] != 0 {
		return false
	}
	recLen := int(binary.BigEndian.Uint16(b[11:13]))
	if recLen > len(b)-dtlsRecordHdrLen {
		return false
	}
	rec := b[dtlsRecordHdrLen : dtlsRecordHdrLen+recLen]
	if len(rec) < dtlsHandshakeHdrLen || rec[0] != hsClientHello {
		return false
	}
	msgLen, fragOff, fragLen := u24(rec[1:4]), u24(rec[6:9]), u24(rec[9:12])
	if fragOff != 0 || fragLen != msgLen || msgLen > len(rec)-dtlsHandshakeHdrLen {
		return false
	}
	body := rec[dtlsHandshakeHdrLen : dtlsHandshakeHdrLen+msgLen]
	// client_version, random
	if len(body) < 2+32 || !dtlsVersionOK(body[0], body[1]) {
		return false
	}
	body = body[2+32:]
	// session_id <0..32>, cookie <0..255>
	for _, limit := range []int{32, 255} {
		if len(body) < 1 || int(body[0]) > limit || int(body[0]) > len(body)-1 {
			return false
		}
		body = body[1+int(body[0]):]
	}
	// cipher_suites <2..2^16-2>, even
	if len(body) < 2 {
		return false
	}
	n := int(binary.BigEndian.Uint16(body))
	if n < 2 || n%2 != 0 || n > len(body)-2 {
		return false
	}
	body = body[2+n:]
	// compression_methods <1..2^8-1>
	if len(body) < 1 || body[0] < 1 || int(body[0]) > len(body)-1 {
		return false
	}
	body = body[1+int(body[0]):]
	if len(body) == 0 {
		return true // no extensions
	}
	// extensions <0..2^16-1>: the rest, exactly
	if len(body) < 2 || int(binary.BigEndian.Uint16(body)) != len(body)-2 {
		return false
	}
	for body = body[2:]; len(body) > 0; {
		if len(body) < 4 {
			return false
		}
		n := int(binary.BigEndian.Uint16(body[2:]))
		if n > len(body)-4 {
			return false
		}
		body = body[4+n:]
	}
	return true
}

// isClientSecondFlight reports whether b, DTLS bytes from a client whose
// handshake is in progress, carries a record of the client's second flight
// (Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec or
// an epoch-1 record): the client has answered the server's flight. It is a
// cheap syntactic signal, not proof (pion checks the contents); PROTOCOL.md
// §1.1 says what it buys.
func isClientSecondFlight(b []byte) bool {
	for range 16 { // records per datagram: bounded
		if len(b) < dtlsRecordHdrLen {
			return false
		}
		recLen := int(binary.BigEndian.Uint16(b[11:13]))
		if recLen > len(b)-dtlsRecordHdrLen || !dtlsVersionOK(b[1], b[2]) {
			return false
		}
		rec := b[dtlsRecordHdrLen : dtlsRecordHdrLen+recLen]
		epoch0 := b[3] == 0 && b[4] == 0
		switch {
		case b[0] == dtlsContentCCS && epoch0:
			return true
		case b[0] == dtlsContentHandshake && !epoch0:
			return true // Finished, encrypted
		case b[0] == dtlsContentHandshake && len(rec) >= 1:
			switch rec[0] {
			case hsCertificate, hsClientKeyExchange, hsCertificateVerify:
				return true
			}
		}
		b = b[dtlsRecordHdrLen+recLen:]
	}
	return false
}
