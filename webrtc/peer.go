package webrtc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// MaxSignalBytes bounds one message a Signaler delivers to ConnectPeer (an
// offer or an answer is about 1-3 KiB; with many candidates, a few more).
const MaxSignalBytes = DefaultMaxOfferBytes

// Signaler carries the signaling of one peer-to-peer connection between
// the two peers: a rendezvous server's relay between room members, or a
// test's. ConnectPeer sends one message and receives one (the offer, the
// answer); it treats what it receives as hostile (bounded, checked).
// The Signaler is trusted to deliver the other peer's messages unchanged
// unless PeerOptions.Fingerprint pins the peer's key (see ConnectPeer).
type Signaler interface {
	// Send delivers msg to the other peer. It blocks until msg is on its
	// way or ctx ends.
	Send(ctx context.Context, msg []byte) error
	// Receive returns the other peer's next message. It blocks until one
	// arrives or ctx ends.
	Receive(ctx context.Context) ([]byte, error)
}

// PeerOptions says how ConnectPeer meets and verifies the other peer.
type PeerOptions struct {
	// Signaler carries the offer and the answer. Required.
	Signaler Signaler
	// Offerer makes this side send the offer (and control ICE); the other
	// side waits for it and answers. Exactly one of the two peers sets it.
	Offerer bool
	// Fingerprint pins the peer's key (its Config.Certificate's
	// fingerprint): the connection fails with ErrFingerprintMismatch if
	// DTLS shows another key. Required unless InsecureAcceptAnyPeer is set.
	Fingerprint Fingerprint
	// InsecureAcceptAnyPeer accepts whatever key the peer shows: whoever
	// can change the signaling in transit can then stand in for the peer.
	// For a Signaler that authenticates the peer itself, or development.
	InsecureAcceptAnyPeer bool
}

// ConnectPeer connects to another peer, both running ConnectPeer, with
// full ICE on both sides: it gathers host, server-reflexive (STUN) and
// relayed (TURN) candidates from Config.ICEServers, exchanges offer and
// answer over opts.Signaler (every candidate in the SDP, no trickle), and
// lets ICE pick a working pair: a direct path through the NATs when they
// allow one (hole punching), else a TURN relay. Both sides need the same
// Config.Channels. It blocks until every channel is open and the peer is
// verified, ctx ends, or Config.HandshakeTimeout passes since the call
// (waiting for the peer's offer counts). It is safe for concurrent use.
func ConnectPeer(ctx context.Context, cfg *Config, opts PeerOptions) (*Conn, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if opts.Signaler == nil {
		return nil, errors.New("webrtc: ConnectPeer needs a Signaler")
	}
	if opts.Fingerprint.IsZero() && !opts.InsecureAcceptAnyPeer {
		return nil, errors.New("webrtc: ConnectPeer: nothing verifies the peer: pin its Fingerprint or set InsecureAcceptAnyPeer")
	}
	ctx, cancel := context.WithTimeout(ctx, c.HandshakeTimeout)
	defer cancel()
	cert, err := clientCertificate(c)
	if err != nil {
		return nil, err
	}
	var conn *Conn
	fail := func(err error) (*Conn, error) {
		if conn != nil {
			conn.closeWith(&CloseError{Code: CodeInternal, Reason: err.Error()}, false)
		}
		if ctx.Err() != nil && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		return nil, err
	}
	var offer *offerMessage
	if !opts.Offerer {
		raw, err := receiveSignal(ctx, opts.Signaler)
		if err != nil {
			return fail(fmt.Errorf("%w: waiting for the offer: %w", ErrHandshake, err))
		}
		if offer, err = parseOffer(raw); err != nil {
			return fail(fmt.Errorf("%w: %w", ErrHandshake, err))
		}
		if !c.sameChannels(offer.Channels) {
			why := fmt.Sprintf("channels %v, the answering peer has %v", offer.Channels, c.channels)
			if out, err := json.Marshal(answerMessage{Version: signalVersion, Refused: why}); err == nil {
				opts.Signaler.Send(ctx, out) // best effort: the offerer learns why at once
			}
			return fail(fmt.Errorf("%w: %s", ErrRefused, why))
		}
	}
	if conn, err = newConn(newAPI(c), c, cert, false); err != nil {
		return nil, err
	}
	var desc webrtc.SessionDescription
	kind := "answer"
	if opts.Offerer {
		kind = "offer"
		desc, err = conn.pc.CreateOffer(nil)
	} else {
		if err := conn.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
			return fail(fmt.Errorf("%w: offer: %w", ErrHandshake, err))
		}
		desc, err = conn.pc.CreateAnswer(nil)
	}
	if err != nil {
		return fail(fmt.Errorf("%w: create %s: %w", ErrHandshake, kind, err))
	}
	gathered := webrtc.GatheringCompletePromise(conn.pc)
	if err := conn.pc.SetLocalDescription(desc); err != nil {
		return fail(fmt.Errorf("%w: set %s: %w", ErrHandshake, kind, err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(fmt.Errorf("%w: gathering candidates: %w", ErrTimeout, ctx.Err()))
	}
	var out []byte
	if opts.Offerer {
		out, err = json.Marshal(offerMessage{Version: signalVersion, SDP: conn.pc.LocalDescription().SDP, Channels: c.channels})
	} else {
		out, err = json.Marshal(answerMessage{Version: signalVersion, SDP: conn.pc.LocalDescription().SDP})
	}
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrHandshake, err))
	}
	if err := opts.Signaler.Send(ctx, out); err != nil {
		return fail(fmt.Errorf("%w: signaling: %w", ErrHandshake, err))
	}
	if opts.Offerer {
		raw, err := receiveSignal(ctx, opts.Signaler)
		if err != nil {
			return fail(fmt.Errorf("%w: waiting for the answer: %w", ErrHandshake, err))
		}
		var ans answerMessage
		if err := json.Unmarshal(raw, &ans); err != nil {
			return fail(fmt.Errorf("%w: answer: %w", ErrHandshake, err))
		}
		if ans.Version != signalVersion {
			return fail(fmt.Errorf("%w: answer version %d, want %d", ErrHandshake, ans.Version, signalVersion))
		}
		if ans.Refused != "" {
			return fail(fmt.Errorf("%w: %.512s", ErrRefused, ans.Refused))
		}
		if err := conn.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
			return fail(fmt.Errorf("%w: answer: %w", ErrHandshake, err))
		}
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
			return fail(fmt.Errorf("%w: this platform does not expose the peer's certificate", ErrFingerprintMismatch))
		}
		if got != opts.Fingerprint {
			return fail(fmt.Errorf("%w: peer key %s, pinned %s", ErrFingerprintMismatch, got, opts.Fingerprint))
		}
	}
	return conn, nil
}

// receiveSignal takes the next signaling message, refusing one above
// MaxSignalBytes.
func receiveSignal(ctx context.Context, s Signaler) ([]byte, error) {
	raw, err := s.Receive(ctx)
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxSignalBytes {
		return nil, fmt.Errorf("signaling message of %d bytes, at most %d", len(raw), MaxSignalBytes)
	}
	return raw, nil
}
