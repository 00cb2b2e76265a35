package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/pumpnet/pumpnet/netcode"
)

// webDial, when set (in browser builds, by webdial_js.go), dials a WebRTC
// signaling URL with the engine's channel layout.
var webDial func(url string, fp netcode.Fingerprint, insecure bool) func(ctx context.Context) (netcode.Transport, error)

// isSignalURL reports whether target is a WebRTC signaling address
// ("https://host/path#fingerprint" or "http://...").
func isSignalURL(target string) bool {
	t := strings.TrimSpace(target)
	return strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "http://")
}

// signalDialer is the Dial a browser build uses for a signaling URL: the
// fragment, if any, is the server's fingerprint to pin.
func signalDialer(target string, insecure bool) (func(ctx context.Context) (netcode.Transport, error), error) {
	u, frag, _ := strings.Cut(trimQuotes(strings.TrimSpace(target)), "#")
	var fp netcode.Fingerprint
	if frag != "" {
		f, err := netcode.ParseFingerprint(frag)
		if err != nil {
			return nil, fmt.Errorf("engine: %q: %w", target, err)
		}
		fp = f
	}
	if webDial == nil {
		return nil, fmt.Errorf("engine: %q is a WebRTC signaling address: a browser build (GOOS=js) connects to it directly; a native client sets ClientConfig.Dial to a webrtc.Dial with webrtc.EngineConfig", target)
	}
	return webDial(u, fp, insecure), nil
}
