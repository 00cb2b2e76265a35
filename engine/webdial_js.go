//go:build js

package engine

import (
	"context"

	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

// In a browser, Connect with a signaling URL uses the browser's
// RTCPeerConnection through the webrtc package.
func init() {
	webDial = func(url string, fp netcode.Fingerprint, insecure bool) func(ctx context.Context) (netcode.Transport, error) {
		cfg := webrtc.EngineConfig(webrtc.Config{})
		return func(ctx context.Context) (netcode.Transport, error) {
			c, err := webrtc.Dial(ctx, url, &cfg, webrtc.DialOptions{Fingerprint: fp, InsecureAcceptAnyServer: insecure})
			if err != nil {
				return nil, err
			}
			return c, nil
		}
	}
}
