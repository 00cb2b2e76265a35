//go:build js && wasm

package webrtc

import (
	"errors"

	"github.com/pion/webrtc/v4"
)

// newAPI returns the API a browser client uses: RTCPeerConnection has no
// setting engine, so the browser's own limits apply.
func newAPI(*config) *webrtc.API { return webrtc.NewAPI() }

// clientCertificate: a browser makes its own certificate.
func clientCertificate(c *config) (*webrtc.Certificate, error) {
	if c.Certificate != nil {
		return nil, errors.New("webrtc: Config.Certificate is not supported in a browser (it makes its own)")
	}
	return nil, nil
}
