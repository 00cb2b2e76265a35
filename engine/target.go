package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/pumpnet/pumpnet/netcode"
)

// Target is a parsed server address: where to dial and, if the connect
// string carried one, the key fingerprint to pin.
type Target struct {
	Addr        string // host:port
	Fingerprint netcode.Fingerprint
}

// ParseTarget accepts "host:port", "host:port#fingerprint" and
// "dtls://host:port#fingerprint" (what Server.ConnectString prints). An
// IPv6 host goes in brackets: "dtls://[::1]:31425#fingerprint".
// Surrounding spaces and quotes (a connect string pasted with the quotes
// that shells need) are ignored. Its errors say what was expected.
func ParseTarget(s string) (Target, error) {
	var t Target
	s = trimQuotes(strings.TrimSpace(s))
	if s == "" {
		return t, fmt.Errorf("engine: empty address: want host:port or a connect string (dtls://host:port#fingerprint)")
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if scheme != "dtls" {
			return t, fmt.Errorf("engine: %q: unknown scheme %q: want dtls://host:port#fingerprint (the connect string a server prints) or host:port", s, scheme)
		}
		s = rest
	}
	addr, fp, hasFP := strings.Cut(s, "#")
	if _, port, err := net.SplitHostPort(addr); err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return t, fmt.Errorf("engine: address %q has no port: want host:port (e.g. %s:31425)", addr, addr)
		}
		return t, fmt.Errorf("engine: address %q: %w (want host:port, with [brackets] around an IPv6 host, or a connect string)", addr, err)
	} else if port == "" {
		return t, fmt.Errorf("engine: address %q has no port: want host:port", addr)
	}
	t.Addr = addr
	if hasFP {
		f, err := netcode.ParseFingerprint(fp)
		if err != nil {
			return t, fmt.Errorf("engine: connect string %q: %w", s, err)
		}
		t.Fingerprint = f
	}
	return t, nil
}

// trimQuotes removes one pair of matching quotes around s.
func trimQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"' || s[0] == '`') && s[len(s)-1] == s[0] {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// listenAddrError explains a listen address that cannot work, or returns
// nil: a bare port number ("31425" for ":31425") and a missing port.
func listenAddrError(addr string) error {
	if addr != "" && strings.Trim(addr, "0123456789") == "" {
		return fmt.Errorf("engine: listen address %q is a port alone: write %q to listen on port %s of every interface (or 127.0.0.1:%s for this machine only)", addr, ":"+addr, addr, addr)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil && strings.Contains(err.Error(), "missing port") {
		return fmt.Errorf("engine: listen address %q has no port: want host:port, e.g. %s:31425, or :0 for any free port", addr, addr)
	}
	return nil
}

// listenError adds advice to an error from opening the server's socket.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("engine: %w (another program, or another server, has %s: pick another port, or port 0 for any free one)", err, addr)
	}
	return fmt.Errorf("engine: %w", err)
}

// FormatTarget returns the connect string for an address and fingerprint.
func FormatTarget(ap netip.AddrPort, fp netcode.Fingerprint) string {
	return fmt.Sprintf("dtls://%s#%s", ap, fp)
}
