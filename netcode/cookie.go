package netcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"time"
)

// Address validation before any handshake state (PROTOCOL.md §1.1).
const (
	typeCookieRequest = 0x40
	typeCookie        = 0x41
	typeCookieDTLS    = 0x42
	typeHandshakeLost = 0x43 // server → client: "I have no handshake with you", echoing the client's cookie

	cookieRequestLen = 64
	cookieMACLen     = 16
	cookieLen        = 8 + cookieMACLen  // ts + mac
	cookieReplyLen   = 1 + cookieLen     // type + cookie
	cookieDTLSHdrLen = 1 + cookieLen + 2 // type + cookie + len
	cookieLifetime   = 60 * time.Second  // validity after ts
	cookieFutureSkew = 5 * time.Second   // ts may be this far ahead
	cookieLabel      = "pumpnet cookie v0"
)

var (
	errCookieShort   = errors.New("netcode: cookie datagram truncated")
	errCookieExpired = errors.New("netcode: cookie expired")
	errCookieBad     = errors.New("netcode: cookie does not authenticate")
)

type cookie [cookieLen]byte

// cookieMinter makes and checks address-bound cookies. It holds a random
// secret and a reusable HMAC; it is not safe for concurrent use (the
// endpoint's reader goroutine owns it).
type cookieMinter struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

func newCookieMinter(secret []byte) *cookieMinter {
	return &cookieMinter{mac: hmac.New(sha256.New, secret)}
}

func (m *cookieMinter) compute(ts uint64, addr netip.AddrPort) [cookieMACLen]byte {
	var buf [len(cookieLabel) + 8 + 16 + 2]byte
	n := copy(buf[:], cookieLabel)
	binary.BigEndian.PutUint64(buf[n:], ts)
	a := addr.Addr().As16()
	copy(buf[n+8:], a[:])
	binary.BigEndian.PutUint16(buf[n+24:], addr.Port())
	m.mac.Reset()
	m.mac.Write(buf[:])
	var out [cookieMACLen]byte
	copy(out[:], m.mac.Sum(m.sum[:0]))
	return out
}

func (m *cookieMinter) mint(now time.Time, addr netip.AddrPort) cookie {
	var c cookie
	ts := uint64(now.Unix())
	binary.BigEndian.PutUint64(c[:8], ts)
	mac := m.compute(ts, addr)
	copy(c[8:], mac[:])
	return c
}

func (m *cookieMinter) check(now time.Time, addr netip.AddrPort, c []byte) error {
	if len(c) < cookieLen {
		return errCookieShort
	}
	ts := binary.BigEndian.Uint64(c[:8])
	t := time.Unix(int64(ts&(1<<62-1)), 0)
	if ts >= 1<<62 || now.Sub(t) > cookieLifetime || t.Sub(now) > cookieFutureSkew {
		return errCookieExpired
	}
	mac := m.compute(ts, addr)
	if !hmac.Equal(mac[:], c[8:cookieLen]) {
		return errCookieBad
	}
	return nil
}

// appendCookieRequest appends a COOKIE_REQUEST datagram.
func appendCookieRequest(b []byte) []byte {
	b = append(b, typeCookieRequest)
	return append(b, make([]byte, cookieRequestLen-1)...)
}

// appendCookieReply appends a COOKIE datagram.
func appendCookieReply(b []byte, c cookie) []byte {
	return append(append(b, typeCookie), c[:]...)
}

// appendHandshakeLost appends a HANDSHAKE_LOST datagram (PROTOCOL.md §1.1).
func appendHandshakeLost(b []byte, c []byte) []byte {
	return append(append(b, typeHandshakeLost), c[:cookieLen]...)
}

// parseCookieReply returns the cookie in a COOKIE datagram.
func parseCookieReply(b []byte) (cookie, error) {
	var c cookie
	if len(b) != cookieReplyLen || b[0] != typeCookie {
		return c, fmt.Errorf("%w: cookie reply of %d bytes", errCookieShort, len(b))
	}
	copy(c[:], b[1:])
	return c, nil
}

// appendCookieDTLS wraps a DTLS datagram and pads the result to padTo bytes.
func appendCookieDTLS(b []byte, c cookie, dtls []byte, padTo int) []byte {
	start := len(b)
	b = append(append(b, typeCookieDTLS), c[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(dtls)))
	b = append(b, dtls...)
	for len(b)-start < padTo {
		b = append(b, 0)
	}
	return b
}

// parseCookieDTLS splits a COOKIE_DTLS datagram into cookie and DTLS bytes.
func parseCookieDTLS(b []byte) (c []byte, dtls []byte, err error) {
	if len(b) < cookieDTLSHdrLen || b[0] != typeCookieDTLS {
		return nil, nil, errCookieShort
	}
	n := int(binary.BigEndian.Uint16(b[1+cookieLen:]))
	if n > len(b)-cookieDTLSHdrLen {
		return nil, nil, fmt.Errorf("%w: DTLS length %d exceeds %d remaining bytes", errCookieShort, n, len(b)-cookieDTLSHdrLen)
	}
	return b[1 : 1+cookieLen], b[cookieDTLSHdrLen : cookieDTLSHdrLen+n], nil
}
