package webrtc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/pion/webrtc/v4"
)

// maxAnswerBytes bounds the signaling answer a client reads.
const maxAnswerBytes = 64 << 10

// DialOptions says how a client verifies the server.
type DialOptions struct {
	// Fingerprint pins the server's key (Server.Fingerprint): the
	// connection fails with ErrFingerprintMismatch if the DTLS handshake
	// shows another key. Required unless the signaling URL is https (then
	// the TLS certificate of the signaling server vouches for the answer,
	// which carries the DTLS certificate's hash that WebRTC checks) or
	// InsecureAcceptAnyServer is set.
	Fingerprint Fingerprint
	// InsecureAcceptAnyServer accepts any server over http signaling,
	// where whoever can change the answer in transit can impersonate the
	// server. For development only.
	InsecureAcceptAnyServer bool
	// HTTPClient sends the offer. Default http.DefaultClient.
	HTTPClient *http.Client
}

// Dial connects to the server whose signaling handler is at signalURL: it
// gathers its ICE candidates, POSTs the offer, applies the answer, and
// waits until every channel is open and the server is verified. It blocks
// until then, ctx ends, or Config.HandshakeTimeout passes. Under
// GOOS=js GOARCH=wasm it runs on the browser's RTCPeerConnection. It is
// safe for concurrent use.
func Dial(ctx context.Context, signalURL string, cfg *Config, opts DialOptions) (*Conn, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(signalURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webrtc: signaling address %q: want an http:// or https:// URL", signalURL)
	}
	if opts.Fingerprint.IsZero() && !opts.InsecureAcceptAnyServer && u.Scheme != "https" {
		return nil, fmt.Errorf("webrtc: dial %s: nothing verifies the server: pin its Fingerprint, use https signaling, or set InsecureAcceptAnyServer", signalURL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, c.HandshakeTimeout)
	defer cancel()
	cert, err := clientCertificate(c)
	if err != nil {
		return nil, err
	}
	conn, err := newConn(newAPI(c), c, cert, false)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Conn, error) {
		conn.closeWith(&CloseError{Code: CodeInternal, Reason: err.Error()}, false)
		return nil, err
	}
	offer, err := conn.pc.CreateOffer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: create offer: %w", ErrHandshake, err))
	}
	gathered := webrtc.GatheringCompletePromise(conn.pc)
	if err := conn.pc.SetLocalDescription(offer); err != nil {
		return fail(fmt.Errorf("%w: set offer: %w", ErrHandshake, err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(fmt.Errorf("%w: gathering candidates: %w", ErrTimeout, ctx.Err()))
	}
	body, err := json.Marshal(offerMessage{Version: signalVersion, SDP: conn.pc.LocalDescription().SDP, Channels: c.channels})
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrHandshake, err))
	}
	ans, err := exchange(ctx, hc, signalURL, body)
	if err != nil {
		return fail(err)
	}
	if !opts.Fingerprint.IsZero() && ans.Fingerprint != opts.Fingerprint.String() {
		return fail(fmt.Errorf("%w: the answer names %.16s…, pinned %.16s…", ErrFingerprintMismatch, ans.Fingerprint, opts.Fingerprint.String()))
	}
	if err := conn.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return fail(fmt.Errorf("%w: answer: %w", ErrHandshake, err))
	}
	if err := conn.waitOpen(ctx); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrHandshake, err))
	}
	if err := conn.established(); err != nil {
		return fail(err)
	}
	if !opts.Fingerprint.IsZero() {
		got := conn.PeerFingerprint()
		if got.IsZero() {
			return fail(fmt.Errorf("%w: this platform does not expose the server's certificate", ErrFingerprintMismatch))
		}
		if got != opts.Fingerprint {
			return fail(fmt.Errorf("%w: server key %s, pinned %s", ErrFingerprintMismatch, got, opts.Fingerprint))
		}
	}
	return conn, nil
}

// exchange POSTs the offer and decodes the answer (bounded).
func exchange(ctx context.Context, hc *http.Client, signalURL string, body []byte) (*answerMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, signalURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: signaling: %w", ErrTimeout, err)
		}
		return nil, fmt.Errorf("%w: signaling: %w", ErrHandshake, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: signaling: %w", ErrHandshake, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := string(bytes.TrimSpace(raw[:min(len(raw), 512)]))
		switch resp.StatusCode {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusConflict:
			return nil, fmt.Errorf("%w: %s: %s", ErrRefused, resp.Status, msg)
		}
		return nil, fmt.Errorf("%w: signaling: %s: %s", ErrHandshake, resp.Status, msg)
	}
	if len(raw) > maxAnswerBytes {
		return nil, fmt.Errorf("%w: signaling answer above %d bytes", ErrHandshake, maxAnswerBytes)
	}
	var ans answerMessage
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("%w: signaling answer: %w", ErrHandshake, err)
	}
	if ans.Version != signalVersion {
		return nil, fmt.Errorf("%w: signaling answer version %d, want %d", ErrHandshake, ans.Version, signalVersion)
	}
	return &ans, nil
}
