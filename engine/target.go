package engine

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pumpnet/pumpnet/netcode"
)

// Target is a parsed server address: where to dial and, if the connect
// string carried one, the key fingerprint to pin.
type Target struct {
	Addr        string // host:port
	Fingerprint netcode.Fingerprint
}

// ParseTarget accepts "host:port", "host:port#fingerprint" and
// "dtls://host:port#fingerprint" (what Server.ConnectString prints).
func ParseTarget(s string) (Target, error) {
	var t Target
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "dtls://")
	addr, fp, hasFP := strings.Cut(s, "#")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return t, fmt.Errorf("engine: address %q: %w (want host:port or a connect string)", addr, err)
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

// FormatTarget returns the connect string for an address and fingerprint.
func FormatTarget(ap netip.AddrPort, fp netcode.Fingerprint) string {
	return fmt.Sprintf("dtls://%s#%s", ap, fp)
}
