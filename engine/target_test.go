package engine

import (
	"strings"
	"testing"
)

// TestParseTargetForms: what users paste is understood, and what cannot
// work says what was expected instead of a resolver's words ("too many
// colons in address").
func TestParseTargetForms(t *testing.T) {
	const fp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ok := map[string]string{
		"127.0.0.1:31425":                     "127.0.0.1:31425",
		"dtls://127.0.0.1:31425#" + fp:        "127.0.0.1:31425",
		"'dtls://127.0.0.1:31425#" + fp + "'": "127.0.0.1:31425",
		`"dtls://[::1]:31425#` + fp + `"`:     "[::1]:31425",
		"  example.org:9 \n":                  "example.org:9",
	}
	for in, want := range ok {
		tg, err := ParseTarget(in)
		if err != nil || tg.Addr != want {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q", in, tg.Addr, err, want)
		}
	}
	bad := map[string]string{
		"https://example.org:443#" + fp: `unknown scheme "https"`,
		"example.org":                   `has no port`,
		"":                              `empty address`,
		"::1:31425":                     `[brackets]`,
		"dtls://127.0.0.1:1#abc":        `fingerprint`,
	}
	for in, want := range bad {
		_, err := ParseTarget(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTarget(%q): %v; want an error saying %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "too many colons") && !strings.Contains(err.Error(), "brackets") {
			t.Errorf("ParseTarget(%q): %v: the resolver's words alone", in, err)
		}
	}
}

// TestListenAddressAdvice: a port alone, a missing port and a port in use
// are errors that say what to write instead.
func TestListenAddressAdvice(t *testing.T) {
	for in, want := range map[string]string{
		"31457":     `write ":31457"`,
		"localhost": `has no port`,
	} {
		srv, err := Listen(in, nil)
		if err == nil {
			srv.Close()
			t.Errorf("Listen(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Listen(%q): %v; want it to say %q", in, err, want)
		}
	}
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	again, err := Listen(srv.Addr().String(), nil)
	if err == nil {
		again.Close()
		t.Fatal("two servers on one port")
	}
	if !strings.Contains(err.Error(), "pick another port, or port 0") {
		t.Errorf("port in use: %v; want advice", err)
	}
}
