package lobby

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/rendezvous"
	"github.com/pumpnet/pumpnet/webrtc"
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
	// every multicast-capable interface. On an internet session it is the
	// interface whose addresses ICE gathers host candidates on (nil: every
	// interface's).
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

	// Rendezvous, when set, makes the session an internet session (see
	// the package doc's "Over the internet"): the base URL of a
	// rendezvous server ("https://rdv.example.org", or
	// "http://127.0.0.1:7777" for a local one without TLS); a bare
	// "host:port" means "https://host:port". Discovery is then the
	// room's roster instead of mDNS, and peers connect over WebRTC with
	// ICE (direct through the NATs when they allow, else through a TURN
	// relay). It needs Room or CreateRoom; ListenAddr and PollInterval are
	// LAN settings and must be left zero.
	Rendezvous string
	// Room is the code of the room to join (as rendezvous.ParseCode
	// reads it: case and separators do not matter). Exclusive with
	// CreateRoom; needs Rendezvous.
	Room string
	// CreateRoom creates a room instead of joining one; Session.Room
	// returns its code, which the other players type in. Exclusive with
	// Room; needs Rendezvous.
	CreateRoom bool
	// PublicRoom lists the created room in the rendezvous's public list
	// of this ServiceType (rendezvous.Client.List). Needs CreateRoom.
	PublicRoom bool
	// ICEServers are STUN and TURN servers for ICE (at most
	// webrtc.MaxICEServers), besides those the rendezvous hands out, and
	// asked first: STUN finds this peer's public address, TURN relays when
	// no direct path exists (a symmetric NAT). Without any from either,
	// only peers that can reach each other's host addresses connect.
	// Needs Rendezvous.
	ICEServers []webrtc.ICEServer
}

// internet reports whether the session meets its peers through a
// rendezvous.
func (c *Config) internet() bool { return c.Rendezvous != "" }

// validateInternet checks the internet settings: Room and CreateRoom are
// exclusive, each needs Rendezvous, which needs one of them, and the LAN
// settings stay zero on an internet session.
func (c *Config) validateInternet() error {
	if c.Rendezvous == "" {
		switch {
		case c.Room != "":
			return fmt.Errorf("%w: Room %q needs Rendezvous (the rendezvous server's URL)", ErrConfig, c.Room)
		case c.CreateRoom:
			return fmt.Errorf("%w: CreateRoom needs Rendezvous (the rendezvous server's URL)", ErrConfig)
		case c.PublicRoom:
			return fmt.Errorf("%w: PublicRoom needs Rendezvous and CreateRoom", ErrConfig)
		case len(c.ICEServers) > 0:
			return fmt.Errorf("%w: ICEServers are for internet sessions: they need Rendezvous", ErrConfig)
		}
		return nil
	}
	if !strings.Contains(c.Rendezvous, "://") { // host:port means HTTPS
		host, port, err := net.SplitHostPort(c.Rendezvous)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || host == "" || perr != nil {
			return fmt.Errorf("%w: Rendezvous %q: want host:port or http(s)://host[:port]", ErrConfig, c.Rendezvous)
		}
		c.Rendezvous = "https://" + c.Rendezvous
	}
	u, err := url.Parse(c.Rendezvous)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: Rendezvous %q: want host:port or http(s)://host[:port]", ErrConfig, c.Rendezvous)
	}
	switch {
	case c.Room != "" && c.CreateRoom:
		return fmt.Errorf("%w: Room and CreateRoom are exclusive: join a room by its code, or create one", ErrConfig)
	case c.Room == "" && !c.CreateRoom:
		return fmt.Errorf("%w: Rendezvous needs Room (a code to join) or CreateRoom", ErrConfig)
	case c.PublicRoom && !c.CreateRoom:
		return fmt.Errorf("%w: PublicRoom needs CreateRoom (a joined room is listed or not by its creator)", ErrConfig)
	case c.ListenAddr != "":
		return fmt.Errorf("%w: ListenAddr is a LAN setting; an internet session's ICE picks its ports", ErrConfig)
	case c.PollInterval != 0:
		return fmt.Errorf("%w: PollInterval is a LAN setting; an internet session long-polls its rendezvous", ErrConfig)
	case c.Net.PSK != nil:
		return fmt.Errorf("%w: an internet session needs a key pair (its identity in the room), not a PSK", ErrConfig)
	}
	if c.Room != "" {
		code, err := rendezvous.ParseCode(c.Room)
		if err != nil {
			return fmt.Errorf("%w: Room: %w", ErrConfig, err)
		}
		c.Room = code
	}
	if len(c.ICEServers) > webrtc.MaxICEServers {
		return fmt.Errorf("%w: %d ICEServers, at most %d", ErrConfig, len(c.ICEServers), webrtc.MaxICEServers)
	}
	for i, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("%w: ICEServers[%d] has no URL", ErrConfig, i)
		}
		for _, u := range s.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return fmt.Errorf("%w: ICEServers[%d]: %q is not a stun:, stuns:, turn: or turns: URL", ErrConfig, i, u)
			}
		}
	}
	return nil
}

func (c *Config) validate() error {
	if err := ValidateDisplayName(c.DisplayName); err != nil {
		return err
	}
	if _, err := discovery.ServiceName(c.ServiceType); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.validateInternet(); err != nil {
		return err
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.MaxPeers < MinPeers || c.MaxPeers > DefaultMaxPeers {
		return fmt.Errorf("%w: MaxPeers %d outside %d..%d", ErrConfig, c.MaxPeers, MinPeers, DefaultMaxPeers)
	}
	if !c.internet() {
		if c.PollInterval == 0 {
			c.PollInterval = 500 * time.Millisecond
		}
		if c.PollInterval < 50*time.Millisecond {
			return fmt.Errorf("%w: PollInterval %v below 50ms", ErrConfig, c.PollInterval)
		}
		if c.ListenAddr == "" {
			c.ListenAddr = ":0"
		}
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
