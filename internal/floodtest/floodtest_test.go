package floodtest

import (
	"bytes"
	"testing"
)

func TestWrapAndHelloOf(t *testing.T) {
	cookie := bytes.Repeat([]byte{7}, cookieLen)
	hello := []byte{22, 0xfe, 0xfd, 1, 2, 3}
	d := wrap(cookie, hello, 1200)
	if len(d) != 1200 || d[0] != typeCookieDTLS || !bytes.Equal(d[1:1+cookieLen], cookie) {
		t.Fatalf("wrap: % x", d[:40])
	}
	got, err := HelloOf(d)
	if err != nil || !bytes.Equal(got, hello) {
		t.Fatalf("HelloOf = % x, %v", got, err)
	}
	for n := range 1 + cookieLen + 2 + len(hello) {
		if _, err := HelloOf(d[:n]); err == nil {
			t.Fatalf("HelloOf accepted %d truncated bytes", n)
		}
	}
}
