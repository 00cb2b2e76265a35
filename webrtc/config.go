package webrtc

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// DeliveryMode is how a channel delivers its messages. The values are
// netcode's (netcode.DeliveryMode), so a channel list converts one to one.
type DeliveryMode uint8

// Delivery modes, as data channels carry them.
const (
	// ReliableOrdered: an ordered, reliable data channel.
	ReliableOrdered DeliveryMode = iota
	// ReliableUnordered: an unordered, reliable data channel.
	ReliableUnordered
	// Unreliable: an unordered data channel with maxRetransmits 0.
	Unreliable
	// UnreliableSequenced: as Unreliable, plus a 4-byte sequence number in
	// front of each message; the receiver drops a message older than the
	// newest it delivered on that channel.
	UnreliableSequenced
)

func (m DeliveryMode) String() string {
	switch m {
	case ReliableOrdered:
		return "reliable-ordered"
	case ReliableUnordered:
		return "reliable-unordered"
	case Unreliable:
		return "unreliable"
	case UnreliableSequenced:
		return "unreliable-sequenced"
	}
	return fmt.Sprintf("DeliveryMode(%d)", uint8(m))
}

func (m DeliveryMode) reliable() bool { return m == ReliableOrdered || m == ReliableUnordered }

// Limits and defaults.
const (
	// MaxChannels is the most channels a Config may list.
	MaxChannels = 64
	// DefaultMaxMessageSize is Config.MaxMessageSize's default: 256 KiB,
	// what Chromium and Firefox accept on a data channel
	// (a=max-message-size:262144), less the sequence header.
	DefaultMaxMessageSize = 256<<10 - seqHeaderLen
	// MaxMessageSizeLimit is the largest Config.MaxMessageSize: 1 MiB,
	// netcode's default; above 256 KiB only native peers can receive it.
	MaxMessageSizeLimit = 1 << 20
	// MaxReasonLen bounds the reason of CloseWithReason, in bytes.
	MaxReasonLen = 256
)

// controlID is the SCTP stream of the control channel (close, ping, pong):
// reliable and ordered, after the application's channels 0..MaxChannels-1.
const controlID = MaxChannels

// seqHeaderLen is the sequence number in front of UnreliableSequenced
// messages.
const seqHeaderLen = 4

// engineChannels is the engine's channel layout: one channel per delivery
// mode, numbered as the modes (engine.EndpointConfig gives netcode the
// same list).
var engineChannels = []DeliveryMode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced}

// EngineConfig returns cfg with the channel layout of the engine (package
// engine): the Config of a webrtc.Server that an engine.Server serves
// (Server.Serve), and of a client that connects through
// engine.ClientConfig.Dial. Both sides must use it.
func EngineConfig(cfg Config) Config {
	cfg.Channels = append([]DeliveryMode(nil), engineChannels...)
	return cfg
}

// Config configures connections, on both sides. The zero value works;
// Channels must be the same on both sides (the server refuses a client
// whose list differs). A Config must not change after use.
type Config struct {
	// Channels lists the delivery mode of each channel, numbered from 0.
	// Channel i is the negotiated data channel with SCTP stream id i.
	// Default: one ReliableOrdered channel. At most MaxChannels.
	Channels []DeliveryMode
	// MaxMessageSize bounds one message, in bytes (Send refuses larger
	// ones; larger ones received end the data channel). Default
	// DefaultMaxMessageSize, at most MaxMessageSizeLimit.
	MaxMessageSize int
	// SendQueueBytes bounds the bytes a channel may hold unsent or
	// unacknowledged (its data channel's bufferedAmount); Send beyond it
	// returns ErrQueueFull. Default 1 MiB.
	SendQueueBytes int
	// ReceiveQueueBytes bounds the bytes received but not yet taken by
	// Receive. When full, messages on unreliable channels are dropped
	// (Stats.DropQueueFull); on reliable channels a native connection
	// stops reading that channel (SCTP flow control then holds the
	// sender back), and a browser connection, which cannot, ends with
	// CodeReceiveOverflow. Default 4 MiB.
	ReceiveQueueBytes int
	// HandshakeTimeout bounds the time from the signaling exchange until
	// every channel is open (ICE, DTLS, SCTP); an unfinished peer
	// connection is then closed and freed. Default 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout ends a connection that received nothing (a ping is sent
	// every KeepAlive) for this long, with CodeTimeout. Default 10 s.
	IdleTimeout time.Duration
	// KeepAlive is the interval of pings on the control channel; they
	// measure Stats.RTT. Default 1 s.
	KeepAlive time.Duration
	// Certificate is this side's identity: its key's fingerprint is what
	// PeerFingerprint returns at the other side. A netcode identity
	// (netcode.LoadKeyFile) can be used, so one key has one fingerprint
	// on both transports. Default: a new ECDSA P-256 key.
	Certificate *tls.Certificate
	// IPFilter, if set, restricts ICE to local addresses it keeps (both
	// sides; e.g. loopback only in tests). On a server, candidates are
	// also restricted to the address its UDP socket is bound to.
	IPFilter func(netip.Addr) bool
	// ICEServers are the STUN and TURN servers a peer's ICE asks for
	// server-reflexive and relayed candidates, so that peers behind NATs
	// reach each other (ConnectPeer) and Dial works from behind a NAT that
	// the server's host candidates cannot cross. Default none: host
	// candidates only, enough on a LAN and toward a public Server. A
	// Server (ICE-lite, reached at its own addresses) ignores them. At
	// most MaxICEServers.
	ICEServers []ICEServer
}

// MaxICEServers is the most servers Config.ICEServers may list.
const MaxICEServers = 8

// ICEServer is a STUN or TURN server, as RTCIceServer describes one.
type ICEServer struct {
	// URLs are the server's addresses: "stun:host:port",
	// "turn:host:port?transport=udp", "turns:host:port" (RFC 7064,
	// RFC 7065). At least one.
	URLs []string
	// Username and Credential are a TURN server's long-term credential
	// (RFC 8489 §9.2; with a rendezvous, time-limited ones it hands out).
	// STUN needs none.
	Username   string
	Credential string
}

type config struct {
	Config
	channels []DeliveryMode
}

func (c *Config) resolve() (*config, error) {
	var d Config
	if c != nil {
		d = *c
	}
	r := &config{Config: d}
	r.channels = d.Channels
	if len(r.channels) == 0 {
		r.channels = []DeliveryMode{ReliableOrdered}
	}
	if len(r.channels) > MaxChannels {
		return nil, fmt.Errorf("webrtc: %d channels, at most %d", len(r.channels), MaxChannels)
	}
	for i, m := range r.channels {
		if m > UnreliableSequenced {
			return nil, fmt.Errorf("webrtc: channel %d: unknown delivery mode %d", i, m)
		}
	}
	if len(d.ICEServers) > MaxICEServers {
		return nil, fmt.Errorf("webrtc: %d ICE servers, at most %d", len(d.ICEServers), MaxICEServers)
	}
	for i, s := range d.ICEServers {
		if len(s.URLs) == 0 {
			return nil, fmt.Errorf("webrtc: ICE server %d has no URL", i)
		}
		for _, u := range s.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return nil, fmt.Errorf("webrtc: ICE server %d: %q is not a stun:, stuns:, turn: or turns: URL", i, u)
			}
		}
	}
	switch {
	case r.MaxMessageSize == 0:
		r.MaxMessageSize = DefaultMaxMessageSize
	case r.MaxMessageSize < 0 || r.MaxMessageSize > MaxMessageSizeLimit:
		return nil, fmt.Errorf("webrtc: MaxMessageSize %d, want 1..%d", r.MaxMessageSize, MaxMessageSizeLimit)
	}
	if r.SendQueueBytes <= 0 {
		r.SendQueueBytes = 1 << 20
	}
	if r.ReceiveQueueBytes <= 0 {
		r.ReceiveQueueBytes = 4 << 20
	}
	if r.HandshakeTimeout <= 0 {
		r.HandshakeTimeout = 10 * time.Second
	}
	if r.IdleTimeout <= 0 {
		r.IdleTimeout = 10 * time.Second
	}
	if r.KeepAlive <= 0 {
		r.KeepAlive = time.Second
	}
	return r, nil
}

// sameChannels reports whether a peer's channel list is ours.
func (c *config) sameChannels(other []DeliveryMode) bool {
	if len(other) == 0 {
		other = []DeliveryMode{ReliableOrdered}
	}
	if len(other) != len(c.channels) {
		return false
	}
	for i := range other {
		if other[i] != c.channels[i] {
			return false
		}
	}
	return true
}

// Fingerprint is a peer's identity: the SHA-256 of its certificate's public
// key (DER SubjectPublicKeyInfo), as netcode.Fingerprint, so the same key
// has the same fingerprint on both transports. (The a=fingerprint line of
// SDP is a hash of the whole certificate instead; WebRTC checks that one
// during the DTLS handshake.)
type Fingerprint = netcode.Fingerprint

// ParseFingerprint parses the 64-hex-digit form (case-insensitive; ':'
// separators are accepted).
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	clean := make([]byte, 0, 64)
	for i := 0; i < len(s) && len(clean) <= 64; i++ {
		if s[i] != ':' {
			clean = append(clean, s[i])
		}
	}
	if len(clean) != 64 {
		return f, errors.New("webrtc: fingerprint must be 64 hex digits")
	}
	if _, err := hex.Decode(f[:], clean); err != nil {
		return f, fmt.Errorf("webrtc: fingerprint: %w", err)
	}
	return f, nil
}

// FingerprintOf returns the fingerprint of a DER certificate.
func FingerprintOf(der []byte) (Fingerprint, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("webrtc: parse certificate: %w", err)
	}
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo), nil
}

// Errors returned by this package. Match them with errors.Is.
var (
	// ErrQueueFull is returned by Send when the channel's send buffer
	// (Config.SendQueueBytes) cannot take the message. Send never blocks.
	ErrQueueFull = errors.New("webrtc: send queue full")
	// ErrMessageTooLarge is returned by Send for a message above
	// Config.MaxMessageSize.
	ErrMessageTooLarge = errors.New("webrtc: message too large")
	// ErrNoChannel is returned by Send for a channel the Config lacks.
	ErrNoChannel = errors.New("webrtc: no such channel")
	// ErrHandshake wraps every reason a connection could not be made.
	ErrHandshake = errors.New("webrtc: handshake failed")
	// ErrFingerprintMismatch means the server's key is not the pinned one.
	ErrFingerprintMismatch = errors.New("webrtc: peer key fingerprint mismatch")
	// ErrTimeout means the peer stopped answering, or a handshake did not
	// finish within Config.HandshakeTimeout. It is netcode.ErrTimeout, so
	// one check serves both transports.
	ErrTimeout = netcode.ErrTimeout
	// ErrRefused means the server refused the offer: busy (503: every
	// pending-handshake slot taken), this source address's limit (429:
	// ServerConfig.MaxHandshakesPerIP), or a different channel list (409).
	// Busy and per-address refusals pass once pending handshakes end
	// (within Config.HandshakeTimeout): a client may retry.
	ErrRefused = errors.New("webrtc: refused")
	// ErrServerClosed is returned by Accept after Close.
	ErrServerClosed = errors.New("webrtc: server closed")
)

// CloseCode says why a connection ended: netcode's codes, so that the
// engine reads one vocabulary whatever the transport.
type CloseCode = netcode.CloseCode

// Close codes (netcode's).
const (
	CodeNormal            = netcode.CodeNormal            // Close or Shutdown by the application
	CodeTimeout           = netcode.CodeTimeout           // nothing from the peer for Config.IdleTimeout
	CodeProtocolViolation = netcode.CodeProtocolViolation // the peer broke the protocol
	CodeServerBusy        = netcode.CodeServerBusy        // the accept queue was full
	CodeEndpointClosed    = netcode.CodeEndpointClosed    // the server was closed
	CodeInternal          = netcode.CodeInternal          // a local failure (ICE failed, data channel error)
	CodeUnsentData        = netcode.CodeUnsentData        // Close discarded reliable data not yet delivered
	CodeReceiveOverflow   = netcode.CodeReceiveOverflow   // a browser's receive queue overflowed (no flow control)
	CodeApplication       = netcode.CodeApplication
)

// CloseError is the reason a connection ended (netcode's type). Conn.Err
// returns one; it matches net.ErrClosed with errors.Is, and ErrTimeout
// when Code is CodeTimeout.
type CloseError = netcode.CloseError
