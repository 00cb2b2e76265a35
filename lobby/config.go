package lobby

import (
	"errors"
	"fmt"
	"net"
	"time"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// Limits of a session's configuration (Multipeer's rules).
const (
	MaxDisplayName     = 63   // bytes of UTF-8
	MaxServiceType     = 15   // characters of a-z, 0-9, '-'
	MaxInitialDataSize = 4096 // bytes, encoded
	MinPeers           = 2
	DefaultMaxPeers    = 8
	// ProtocolVersion is advertised and checked in every hello.
	ProtocolVersion = 2
)

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("lobby: invalid config")

// Offer is a peer asking to join: what Config.Accept decides on.
type Offer struct {
	ID          netcode.Fingerprint
	Name        string
	initialData []byte
	codec       codec.Codec
}

// InitialData decodes the offering peer's initial data into v.
func (o Offer) InitialData(v any) error {
	if len(o.initialData) == 0 {
		return errors.New("lobby: no initial data")
	}
	return decodeInitial(o.codec, o.initialData, v)
}

// Config configures a session. DisplayName and ServiceType are required.
type Config struct {
	// DisplayName is shown to other peers: 1..63 bytes of UTF-8. Names
	// need not be unique; identities (key fingerprints) are.
	DisplayName string
	// ServiceType names the game: 1..15 characters of a-z, 0-9 and '-',
	// not starting or ending with '-'. Peers find peers of the same type.
	ServiceType string
	// InitialData is sent to each peer in the hello after the handshake
	// (never in the LAN advertisement): any value the codec can encode,
	// at most 4 KiB encoded.
	InitialData any
	// MaxPeers is the session size including this peer: 2..8, default 8.
	MaxPeers int
	// Accept decides on each peer that asks to join (nil: accept all). A
	// non-nil error refuses the peer; its text is the reason the peer sees.
	// It runs inside Pump; a panic in it is recovered, reported as an
	// "error" event, and refuses the peer ("accept hook failed").
	Accept func(Offer) error
	// Interface is the network interface to advertise and browse on. Nil:
	// every multicast-capable interface.
	Interface *net.Interface
	// ListenAddr is the UDP address the session listens on. Default ":0".
	ListenAddr string
	// PollInterval is how often the LAN is browsed. Default 500 ms.
	PollInterval time.Duration
	// Net configures the transport (timeouts, limits, link conditioner).
	// Its Channels and Application fields are ignored.
	Net netcode.Config
	// Codec encodes messages. Default msgpack. Peers of another codec are
	// closed at connect (engine.ApplicationProtocol).
	Codec codec.Codec
	// Streams declares named streams that the session opens with every
	// peer as it is admitted (peerpy's initialize_streams), each a byte
	// stream or fixed-size (StreamConfig.ChunkSize): at most MaxStreams,
	// names unique. Every peer of the session should declare the same.
	Streams []StreamConfig
}

func (c *Config) validate() error {
	if err := ValidateDisplayName(c.DisplayName); err != nil {
		return err
	}
	if _, err := discovery.ServiceName(c.ServiceType); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.MaxPeers < MinPeers || c.MaxPeers > DefaultMaxPeers {
		return fmt.Errorf("%w: MaxPeers %d outside %d..%d", ErrConfig, c.MaxPeers, MinPeers, DefaultMaxPeers)
	}
	if c.PollInterval == 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.PollInterval < 50*time.Millisecond {
		return fmt.Errorf("%w: PollInterval %v below 50ms", ErrConfig, c.PollInterval)
	}
	if c.ListenAddr == "" {
		c.ListenAddr = ":0"
	}
	if c.Codec == nil {
		c.Codec = codec.Default()
	}
	return validateStreams(c.Streams)
}

// ValidateDisplayName checks Multipeer's rule: 1..63 bytes of valid UTF-8,
// no control characters.
func ValidateDisplayName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty display name", ErrConfig)
	case len(name) > MaxDisplayName:
		return fmt.Errorf("%w: display name of %d bytes, at most %d", ErrConfig, len(name), MaxDisplayName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: display name is not valid UTF-8", ErrConfig)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: display name contains control character %U", ErrConfig, r)
		}
	}
	return nil
}
