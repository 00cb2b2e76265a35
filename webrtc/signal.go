package webrtc

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// signalVersion is the version of the signaling exchange's JSON.
const signalVersion = 1

// DefaultMaxOfferBytes is ServerConfig.MaxOfferBytes's default.
const DefaultMaxOfferBytes = 64 << 10

// offerMessage is the body of the signaling POST.
type offerMessage struct {
	Version  int            `json:"v"`
	SDP      string         `json:"sdp"`
	Channels []DeliveryMode `json:"channels"`
}

// answerMessage is the body of the signaling answer. Fingerprint is the
// server's key fingerprint (the answer's SDP also carries the certificate's
// hash, which the DTLS handshake checks).
type answerMessage struct {
	Version     int    `json:"v"`
	SDP         string `json:"sdp"`
	Fingerprint string `json:"fingerprint"`
	// Refused, in ConnectPeer's answer only, says why the answering peer
	// refused the offer (then SDP is empty).
	Refused string `json:"refused,omitempty"`
}

// parseOffer decodes and checks a signaling body: JSON with a version the
// server speaks, at most MaxChannels channels, and an SDP offer with
// exactly one media section, a data channel (m=application, SCTP over
// DTLS), and a fingerprint. pion parses it again when it is applied; this
// check refuses audio, video and malformed offers before any peer
// connection exists. It never panics.
func parseOffer(body []byte) (*offerMessage, error) {
	var m offerMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	if m.Version != signalVersion {
		return nil, fmt.Errorf("offer: version %d, want %d", m.Version, signalVersion)
	}
	if len(m.Channels) > MaxChannels {
		return nil, fmt.Errorf("offer: %d channels, at most %d", len(m.Channels), MaxChannels)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(m.SDP); err != nil {
		return nil, fmt.Errorf("offer: sdp: %w", err)
	}
	if len(sd.MediaDescriptions) != 1 {
		return nil, fmt.Errorf("offer: %d media sections, want one data channel section", len(sd.MediaDescriptions))
	}
	md := sd.MediaDescriptions[0]
	if md.MediaName.Media != "application" || !strings.Contains(strings.Join(md.MediaName.Protos, "/"), "SCTP") {
		return nil, fmt.Errorf("offer: media %q %q, want application over SCTP", md.MediaName.Media, md.MediaName.Protos)
	}
	_, sessionFP := sd.Attribute("fingerprint")
	_, mediaFP := md.Attribute("fingerprint")
	if !sessionFP && !mediaFP {
		return nil, fmt.Errorf("offer: no DTLS fingerprint")
	}
	return &m, nil
}
