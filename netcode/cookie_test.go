package netcode

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestCookieBoundToAddressAndTime(t *testing.T) {
	m := newCookieMinter([]byte("secret"))
	a := netip.MustParseAddrPort("192.0.2.1:1000")
	now := time.Unix(1_800_000_000, 0)
	c := m.mint(now, a)
	if err := m.check(now, a, c[:]); err != nil {
		t.Fatalf("fresh cookie rejected: %v", err)
	}
	if err := m.check(now.Add(59*time.Second), a, c[:]); err != nil {
		t.Fatalf("59 s old cookie rejected: %v", err)
	}
	for name, tc := range map[string]struct {
		now  time.Time
		addr netip.AddrPort
		want error
	}{
		"other port":   {now, netip.MustParseAddrPort("192.0.2.1:1001"), errCookieBad},
		"other host":   {now, netip.MustParseAddrPort("192.0.2.2:1000"), errCookieBad},
		"expired":      {now.Add(61 * time.Second), a, errCookieExpired},
		"from future":  {now.Add(-6 * time.Second), a, errCookieExpired},
		"other secret": {now, a, errCookieBad},
	} {
		mm := m
		if name == "other secret" {
			mm = newCookieMinter([]byte("other"))
		}
		if err := mm.check(tc.now, tc.addr, c[:]); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	for i := range c {
		bad := c
		bad[i] ^= 1
		if err := m.check(now, a, bad[:]); err == nil {
			t.Errorf("cookie with byte %d flipped accepted", i)
		}
	}
}

func TestCookieDTLSRoundTripAndTruncation(t *testing.T) {
	m := newCookieMinter([]byte("s"))
	c := m.mint(time.Now(), netip.MustParseAddrPort("127.0.0.1:9"))
	dtls := []byte{22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}
	b := appendCookieDTLS(nil, c, dtls, 1200)
	if len(b) != 1200 {
		t.Fatalf("padded to %d, want 1200", len(b))
	}
	gc, gd, err := parseCookieDTLS(b)
	if err != nil || !bytes.Equal(gc, c[:]) || !bytes.Equal(gd, dtls) {
		t.Fatalf("round trip: %v %x %x", err, gc, gd)
	}
	unpadded := appendCookieDTLS(nil, c, dtls, 0)
	for i := range len(unpadded) {
		if _, _, err := parseCookieDTLS(unpadded[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	r := appendCookieReply(nil, c)
	if got, err := parseCookieReply(r); err != nil || got != c {
		t.Fatalf("reply round trip: %v", err)
	}
	for i := range len(r) {
		if _, err := parseCookieReply(r[:i]); err == nil {
			t.Fatalf("reply truncated at %d accepted", i)
		}
	}
	if len(appendCookieRequest(nil)) != cookieRequestLen || cookieReplyLen > cookieRequestLen {
		t.Fatal("a cookie reply must never be larger than the request")
	}
}

func FuzzCookieDTLS(f *testing.F) {
	m := newCookieMinter([]byte("fuzz"))
	a := netip.MustParseAddrPort("127.0.0.1:5")
	now := time.Unix(1_800_000_000, 0)
	c := m.mint(now, a)
	f.Add(appendCookieDTLS(nil, c, []byte{22, 1, 2}, 0))
	f.Add(appendCookieDTLS(nil, c, nil, 64))
	f.Add(appendCookieReply(nil, c))
	f.Add([]byte{typeCookieDTLS, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		ck, d, err := parseCookieDTLS(b)
		if err == nil {
			if len(d) > len(b) || len(ck) != cookieLen {
				t.Fatalf("bad split %d %d of %d", len(ck), len(d), len(b))
			}
			if m.check(now, a, ck) == nil && !bytes.Equal(ck, c[:]) {
				t.Fatalf("forged cookie %x accepted", ck)
			}
		}
		parseCookieReply(b)
	})
}
