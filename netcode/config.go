package netcode

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/delivery"
	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
	"github.com/pumpnet/pumpnet/netcode/internal/protect"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// DeliveryMode is how a channel delivers its messages.
type DeliveryMode uint8

// Delivery modes.
const (
	// ReliableOrdered delivers every message exactly once, in the order sent.
	ReliableOrdered DeliveryMode = iota
	// ReliableUnordered delivers every message exactly once, as it arrives.
	ReliableUnordered
	// Unreliable delivers a message at most once, as it arrives; lost
	// messages are not resent.
	Unreliable
	// UnreliableSequenced delivers at most once and never a message older
	// than one already delivered on the channel (newest wins).
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

func (m DeliveryMode) internal() (delivery.Mode, error) {
	switch m {
	case ReliableOrdered:
		return delivery.ReliableOrdered, nil
	case ReliableUnordered:
		return delivery.ReliableUnordered, nil
	case Unreliable:
		return delivery.Unreliable, nil
	case UnreliableSequenced:
		return delivery.UnreliableSequenced, nil
	}
	return 0, fmt.Errorf("netcode: unknown delivery mode %d", uint8(m))
}

// Suite is the AEAD that protects packets after the handshake.
type Suite = protect.Suite

// AEAD suites. Both peers must use the same one.
const (
	AES128GCM        = protect.AES128GCM
	ChaCha20Poly1305 = protect.ChaCha20Poly1305
)

// LinkConditions describes an impaired link (latency, jitter, loss, bursty
// loss, duplication, reordering, bandwidth) per direction; see
// Config.Link. It works in release builds as well as tests.
type LinkConditions = linkcond.Config

// LinkDirection is one direction of LinkConditions.
type LinkDirection = linkcond.Direction

// PSKCallback returns the pre-shared key for an identity (server side: the
// client's identity; client side: the server's hint, usually empty).
type PSKCallback func(identity []byte) ([]byte, error)

// Config configures an Endpoint and every connection it makes. The zero
// value works: a fresh self-signed identity, one reliable-ordered channel,
// AES-128-GCM, and the defaults documented on each field. A Config must not
// be modified after it is passed to Listen, Dial or NewEndpoint.
type Config struct {
	// Certificate is the endpoint's identity. Nil: a self-signed ECDSA
	// P-256 certificate is generated (GenerateCertificate); its
	// Fingerprint is what peers pin. Ignored in PSK mode.
	Certificate *tls.Certificate
	// KeyFile, when set (and Certificate is nil), is the path of a PEM file
	// holding the endpoint's private key, so that its Fingerprint — what
	// every connect string and pinned peer names — survives restarts. The
	// file is read when the Config is first used, or created (a new ECDSA
	// P-256 key, mode 0600) if it does not exist; see LoadKeyFile.
	KeyFile string
	// RootCAs, when set, switches dialing to CA-verified mode: the server's
	// chain must verify against these roots for DialOptions.ServerName.
	RootCAs *x509.CertPool
	// PSK, when set, switches the endpoint to pre-shared-key mode
	// (ECDHE-PSK suites; no certificates). Both sides need it.
	PSK PSKCallback
	// PSKIdentity is what a dialing client presents in PSK mode (and what a
	// server hints). Required with PSK.
	PSKIdentity []byte

	// Suite is the packet AEAD. Default AES128GCM.
	Suite Suite
	// Channels lists the delivery mode of each channel, numbered from 0.
	// Default: one ReliableOrdered channel. At most 256. Both peers must
	// configure the same channels.
	Channels []DeliveryMode

	// MaxDatagramSize is the budget of one UDP datagram on the wire,
	// 576..65000. Default 1200.
	MaxDatagramSize int
	// MaxMessageSize bounds one message; larger ones are fragmented up to
	// this size. Default 1 MiB.
	MaxMessageSize int
	// SendQueueBytes bounds a connection's queued plus unacknowledged
	// bytes; Send returns ErrQueueFull beyond it. Default 8 MiB.
	SendQueueBytes int
	// RecvBufferBytes bounds a connection's received-but-undelivered and
	// reassembly bytes; beyond it the peer's reliable data waits (flow
	// control). Default 8 MiB.
	RecvBufferBytes int
	// ReliableWindow is the number of reliable messages in flight per
	// channel. Default 1024.
	ReliableWindow int

	// HandshakeTimeout bounds a handshake. Default 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that received nothing for this long.
	// Default 10 s.
	IdleTimeout time.Duration
	// KeepAlive is how long a connection may send nothing before it sends
	// a PING. Default 1 s; must be below IdleTimeout.
	KeepAlive time.Duration
	// FlushDelay is how long queued messages wait for an explicit Flush
	// before a timer sends them. Default 5 ms.
	FlushDelay time.Duration

	// MaxHandshakes caps handshake slots per endpoint: handshakes in
	// flight plus established connections waiting for room in the accept
	// backlog. Default 128. When every slot is taken, a new client's
	// ClientHello may take the slot of a handshake that stalled (its
	// client sent no second flight within 1 s, or did not finish within
	// 5 s), from the source IP that holds and failed the most; else it is
	// dropped and the client knocks again (PROTOCOL.md §1.1).
	MaxHandshakes int
	// MaxHandshakesPerIP caps the slots one source IP (for IPv6, one /64)
	// may hold at a time. Default 32.
	MaxHandshakesPerIP int
	// MaxFailedHandshakesPerIP stops a source IP (IPv6: /64) from
	// starting handshakes for the rest of a minute once this many of its
	// handshakes failed within that minute: evicted, or ended after the
	// server answered and before the client's second flight came.
	// Handshakes that complete, and ones that end while the server itself
	// is slow, do not count. Default 30.
	MaxFailedHandshakesPerIP int
	// AcceptBacklog bounds established connections queued for Accept.
	// Default 64. Beyond it a connection is not refused: it waits, still
	// holding its handshake slot, until Accept makes room (so a server
	// that falls behind slows new handshakes down instead of ending them).
	AcceptBacklog int

	// MaxAuthFailures closes a connection once this many of its packets
	// failed authentication. Default 2^20.
	MaxAuthFailures uint64
	// KeyUpdateInterval is the number of packets sent under one key
	// before a key update. Default 2^20; must be below 2^23.
	KeyUpdateInterval uint64

	// Application names the protocol the application speaks over the
	// connection (at most MaxApplicationLen bytes; the engine sets
	// "pumpnet engine 0, codec msgpack" and the like). Both peers must
	// name the same one: it travels in KEYS_READY (parameters version 1,
	// PROTOCOL.md §5), and a peer naming another one, or none, is closed
	// with CodeConfigMismatch before either side is established, with a
	// reason that names both. Empty: no application protocol is sent
	// (parameters version 0, as older pumpnet sends).
	Application string

	// Link, when set, puts a link conditioner between the endpoint and its
	// socket (tests, and games' -lag/-loss flags).
	Link *LinkConditions

	// SendBufferBytes and ReceiveBufferBytes are the socket buffer sizes
	// an endpoint asks the OS for on a UDP socket, as quic-go does: a
	// server's broadcast must fit its send buffer, and a peer's bursts
	// the receive buffer, or they are lost before netcode sees them.
	// -1 leaves the OS default (about 208 KiB on Linux).
	//
	// SendBufferBytes defaults to 7 MiB. ReceiveBufferBytes defaults to
	// the OS default: a deep receive queue is a latency queue for a game
	// that falls behind (states and inputs wait there instead of being
	// dropped, and newer ones behind them), and on a server it lets a
	// handshake flood keep every handshake slot fresh (its resends, which a
	// small buffer drops, wait and take each slot that frees: a legitimate
	// client waited 1-2 s instead of 0.25 s in
	// TestHandshakeFloodLegitClientConnects with 1-7 MiB). Set it (quic-go
	// uses 7 MiB) on an endpoint that receives bulk data.
	//
	// When the OS grants less than asked (Linux caps at net.core.rmem_max
	// and wmem_max unless the process has CAP_NET_ADMIN), Logger gets one
	// warning per process saying so and how to raise the limit.
	// EndpointStats reports what was granted.
	SendBufferBytes, ReceiveBufferBytes int
	// Logger receives netcode's rare operational warnings (today only the
	// socket buffer one). Nil: slog.Default(). Handshake details are never
	// logged.
	Logger *slog.Logger

	// Notify, when set, receives a value (never blocking: a full channel
	// is skipped) whenever the endpoint's Wake would: a connection has
	// messages, ended, or is ready to Accept. It lets a caller wait on one
	// channel of its own without a relaying goroutine.
	Notify chan<- struct{}
}

// config is a validated Config with defaults applied.
type config struct {
	Config
	cert        *tls.Certificate
	fingerprint Fingerprint
	modes       []delivery.Mode
}

func (c *Config) resolve() (*config, error) {
	var r config
	if c != nil {
		r.Config = *c
	}
	d := &r.Config
	setDefault(&d.MaxDatagramSize, 1200)
	setDefault(&d.MaxMessageSize, 1<<20)
	setDefault(&d.SendQueueBytes, 8<<20)
	setDefault(&d.RecvBufferBytes, 8<<20)
	setDefault(&d.ReliableWindow, 1024)
	setDefault(&d.HandshakeTimeout, 10*time.Second)
	setDefault(&d.IdleTimeout, 10*time.Second)
	setDefault(&d.KeepAlive, time.Second)
	setDefault(&d.FlushDelay, 5*time.Millisecond)
	setDefault(&d.MaxHandshakes, 128)
	setDefault(&d.MaxHandshakesPerIP, defaultMaxHandshakesPerIP)
	setDefault(&d.MaxFailedHandshakesPerIP, 30)
	setDefault(&d.AcceptBacklog, 64)
	setDefault(&d.SendBufferBytes, defaultSocketBuffer)
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	setDefault(&d.MaxAuthFailures, 1<<20)
	setDefault(&d.KeyUpdateInterval, 1<<20)
	switch {
	case d.MaxDatagramSize < 576 || d.MaxDatagramSize > 65000:
		return nil, fmt.Errorf("netcode: MaxDatagramSize %d outside 576..65000", d.MaxDatagramSize)
	case d.SendQueueBytes < d.MaxMessageSize:
		return nil, fmt.Errorf("netcode: SendQueueBytes %d below MaxMessageSize %d", d.SendQueueBytes, d.MaxMessageSize)
	case d.KeepAlive >= d.IdleTimeout:
		return nil, fmt.Errorf("netcode: KeepAlive %v must be below IdleTimeout %v", d.KeepAlive, d.IdleTimeout)
	case d.KeyUpdateInterval >= 1<<23:
		return nil, fmt.Errorf("netcode: KeyUpdateInterval %d must be below 2^23 (AES-GCM limit)", d.KeyUpdateInterval)
	case d.PSK != nil && len(d.PSKIdentity) == 0:
		return nil, errors.New("netcode: PSK mode needs PSKIdentity")
	case len(d.Application) > MaxApplicationLen:
		return nil, fmt.Errorf("netcode: Application is %d bytes, at most %d", len(d.Application), MaxApplicationLen)
	case len(d.Channels) > 256:
		return nil, fmt.Errorf("netcode: %d channels, at most 256", len(d.Channels))
	}
	if d.Suite != AES128GCM && d.Suite != ChaCha20Poly1305 {
		return nil, fmt.Errorf("netcode: unknown suite %d", d.Suite)
	}
	if d.Link != nil {
		if err := d.Link.Validate(); err != nil {
			return nil, fmt.Errorf("netcode: Link: %w", err)
		}
	}
	modes := d.Channels
	if len(modes) == 0 {
		modes = []DeliveryMode{ReliableOrdered}
	}
	for i, m := range modes {
		im, err := m.internal()
		if err != nil {
			return nil, fmt.Errorf("netcode: channel %d: %w", i, err)
		}
		r.modes = append(r.modes, im)
	}
	// The channel layer has its own constraints (e.g. RecvBufferBytes must
	// hold one message of MaxMessageSize): check them now, not at the first
	// handshake.
	if _, err := delivery.NewSender(r.deliveryConfig()); err != nil {
		return nil, fmt.Errorf("netcode: %w", err)
	}
	if _, err := delivery.NewReceiver(r.deliveryConfig()); err != nil {
		return nil, fmt.Errorf("netcode: %w", err)
	}
	if d.PSK == nil {
		r.cert = d.Certificate
		if r.cert == nil && d.KeyFile != "" {
			c, _, err := LoadKeyFile(d.KeyFile)
			if err != nil {
				return nil, err
			}
			r.cert = &c
		}
		if r.cert == nil {
			c, err := GenerateCertificate()
			if err != nil {
				return nil, err
			}
			r.cert = &c
		}
		fp, err := certFingerprint(r.cert)
		if err != nil {
			return nil, err
		}
		r.fingerprint = fp
	}
	return &r, nil
}

func (c *config) deliveryConfig() delivery.Config {
	return delivery.Config{
		Modes:           c.modes,
		MaxMessageSize:  c.MaxMessageSize,
		MaxFramePayload: c.MaxDatagramSize - wire.HeaderLen - wire.TagLen,
		SendQueueBytes:  c.SendQueueBytes,
		Window:          c.ReliableWindow,
		RecvBufferBytes: c.RecvBufferBytes,
	}
}

// defaultMaxHandshakesPerIP is Config.MaxHandshakesPerIP's default.
const defaultMaxHandshakesPerIP = 32

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
