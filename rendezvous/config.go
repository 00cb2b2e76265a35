package rendezvous

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Config sets a Server's bounds. The zero value works: every zero field
// takes the default named in its comment. A Config is read once by
// NewServer; changing it afterwards has no effect.
type Config struct {
	// MaxRooms bounds the rooms held at once. Default 10,000.
	MaxRooms int
	// MaxMembers bounds the members of one room. Default 8.
	MaxMembers int
	// MaxMembersPerIP bounds the memberships held at once from one source
	// (an IPv4 address or an IPv6 /64), and so the rooms one source can
	// create. Default 16.
	MaxMembersPerIP int
	// MaxListed bounds the rooms one list answer holds (newest first).
	// Default 100.
	MaxListed int
	// MaxBodyBytes bounds a request body; the server stops reading
	// (http.MaxBytesReader) beyond it. Default 32 KiB.
	MaxBodyBytes int64
	// MaxSignalBytes bounds one signal's payload. Default 16 KiB.
	MaxSignalBytes int
	// MaxQueuedSignals bounds the signals waiting for one member. A
	// signal beyond it is refused with ErrQueueFull (never the oldest
	// dropped: a lost SDP offer would stall a connection silently).
	// Default 32.
	MaxQueuedSignals int
	// MaxQueuedBytes bounds the payload bytes waiting for one member;
	// beyond it signals are refused with ErrQueueFull. Default 64 KiB.
	MaxQueuedBytes int
	// MaxQueuedTotal bounds the payload bytes waiting in the whole
	// server; beyond it signals are refused with ErrServerFull. Default
	// 64 MiB.
	MaxQueuedTotal int64
	// MaxPollsPerMember bounds one member's waiting polls. Default 2.
	MaxPollsPerMember int
	// MaxPollsPerIP bounds the waiting polls from one source. Default 32.
	MaxPollsPerIP int
	// PollTimeout is how long a poll waits for news before it answers
	// empty. An http.Server's WriteTimeout must be longer. Default 25 s.
	PollTimeout time.Duration
	// MemberTimeout removes a member that has made no request (and has no
	// poll waiting) for this long; a room goes when its last member does.
	// Default 60 s.
	MemberTimeout time.Duration
	// NonceTTL is how long an issued nonce can be used (once). Default
	// 30 s.
	NonceTTL time.Duration
	// MaxNonces bounds the nonces outstanding. Default 65,536.
	MaxNonces int
	// RequestRate is the requests per second one source may make on
	// average (token bucket). Default 20.
	RequestRate float64
	// RequestBurst is that bucket's size. Default 40.
	RequestBurst int
	// MissesPerMinute is the joins of unknown room codes one source may
	// make per minute (token bucket; a source that has none left is
	// refused every join, hit or miss, so guessing cannot go faster).
	// Default 10.
	MissesPerMinute float64
	// MissBurst is that bucket's size. Default 5.
	MissBurst int
	// GlobalMissesPerMinute bounds the joins of unknown codes from all
	// sources together, so many sources cannot guess faster either
	// (burst: a tenth of it, at least 1). Default 600.
	GlobalMissesPerMinute float64
	// MaxTrackedIPs bounds the sources whose rates are tracked; when it is
	// full and no source's bucket has refilled, new sources are refused
	// with ErrServerFull. Default 65,536.
	MaxTrackedIPs int
	// AllowOrigin is the Access-Control-Allow-Origin the server sends so
	// browser games can call it. Tokens travel in bodies, not cookies, so
	// "*" gives a page nothing it could not do itself. Default "*".
	AllowOrigin string

	// PublicSTUN is the host:port at which members reach ServeSTUN from
	// the internet (e.g. "rdv.example.org:7777"). When set, create and
	// join answers offer "stun:" PublicSTUN as an ICE server. Default "":
	// no STUN server offered.
	PublicSTUN string
	// TURN configures the embedded TURN relay (ServeTURN). Its zero value
	// offers none.
	TURN TURNConfig
	// ExternalTURN lists TURN servers run elsewhere (e.g. coturn) that
	// share a secret with the rendezvous in the TURN REST API scheme
	// (coturn's use-auth-secret and static-auth-secret): members get
	// time-limited credentials for them, and the TURN server needs no
	// user list. At most 6 (so that with STUN and the embedded TURN a
	// member gets at most 8 ICE servers, webrtc.MaxICEServers).
	ExternalTURN []ExternalTURN
	// CredentialTTL is how long the TURN credentials a member gets stay
	// valid for making new allocations (an allocation made in time lives
	// on while its client refreshes it, as with coturn). Poll answers
	// carry fresh credentials once those held are a third of it old. It
	// must be at least twice PollTimeout. Default 10 minutes.
	CredentialTTL time.Duration
}

// TURNConfig configures the TURN relay a Server embeds (pion/turn, run by
// ServeTURN). Public is required to run one; every other zero field takes
// the default named in its comment.
type TURNConfig struct {
	// Public is the host:port at which members reach ServeTURN's socket
	// from the internet; members are offered "turn:" Public
	// "?transport=udp" with credentials. Default "": no embedded TURN
	// (ServeTURN refuses to run).
	Public string
	// RelayIP is the public IP address relayed transport addresses are
	// given at: where peers send what is relayed to a member. Default:
	// Public's host if it is an IP address (otherwise RelayIP is
	// required).
	RelayIP netip.Addr
	// RelayBind is the local address relay sockets are bound to (a host
	// behind a 1:1 NAT, as cloud machines are, binds its private address
	// and gives RelayIP). Default: the unspecified address of RelayIP's
	// family (0.0.0.0 or ::).
	RelayBind netip.Addr
	// MinPort and MaxPort bound the UDP ports relay sockets use (open them
	// in the firewall). Default 49152 and 65535.
	MinPort, MaxPort int
	// Realm is the TURN realm. Default "pumpnet".
	Realm string
	// Secret is the key credentials are made with (HMAC-SHA1). Default:
	// 32 random bytes made by NewServer, so credentials do not outlive
	// the process (its allocations do not either). Set it to keep
	// credentials valid across restarts.
	Secret string
	// MaxAllocations bounds the allocations (relay sockets) held at once.
	// Default 1,024.
	MaxAllocations int
	// MaxAllocationsPerMember bounds the allocations one member (one
	// credential's member ID) holds at once; each peer connection's ICE
	// agent makes one. Default twice Config.MaxMembers.
	MaxAllocationsPerMember int
	// MaxAllocationsPerIP bounds the allocations held at once from one
	// source (an IPv4 address or an IPv6 /64). Default 64.
	MaxAllocationsPerIP int
	// Lifetime is an allocation's lifetime when its client asks for
	// none; a client refreshes it before it ends and may ask for up to an
	// hour (pion/turn's cap). Default 10 minutes.
	Lifetime time.Duration
	// AllowPeer reports whether the relay may send to and receive from a
	// peer address. Default: global unicast addresses that are not private
	// (no loopback, RFC 1918, ULA, link-local or multicast), so a relay on
	// a server cannot be turned against the server's own network.
	AllowPeer func(netip.Addr) bool
}

// ExternalTURN is a TURN server run beside the rendezvous that accepts
// credentials in the TURN REST API scheme (draft-uberti-behave-turn-rest):
// username "<expiry unix time>:<member ID>", password
// base64(HMAC-SHA1(Secret, username)). For coturn:
//
//	turnserver --use-auth-secret --static-auth-secret=SECRET --realm=example.org ...
type ExternalTURN struct {
	// URLs are the server's addresses as members use them:
	// "turn:host:port?transport=udp", "turns:host:port?transport=tcp".
	// 1 to 4 of them, each a turn: or turns: URL.
	URLs []string
	// Secret is the shared secret (coturn's static-auth-secret).
	// Required.
	Secret string
}

// maxExternalTURN bounds Config.ExternalTURN.
const maxExternalTURN = 6

// defaultAllowPeer is TURNConfig.AllowPeer's default.
func defaultAllowPeer(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate()
}

func (c Config) withDefaults() (Config, error) {
	setInt := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	setInt(&c.MaxRooms, 10000)
	setInt(&c.MaxMembers, 8)
	setInt(&c.MaxMembersPerIP, 16)
	setInt(&c.MaxListed, 100)
	setInt(&c.MaxSignalBytes, 16<<10)
	setInt(&c.MaxQueuedSignals, 32)
	setInt(&c.MaxQueuedBytes, 64<<10)
	setInt(&c.MaxPollsPerMember, 2)
	setInt(&c.MaxPollsPerIP, 32)
	setInt(&c.MaxNonces, 65536)
	setInt(&c.RequestBurst, 40)
	setInt(&c.MissBurst, 5)
	setInt(&c.MaxTrackedIPs, 65536)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 32 << 10
	}
	if c.MaxQueuedTotal == 0 {
		c.MaxQueuedTotal = 64 << 20
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = 25 * time.Second
	}
	if c.MemberTimeout == 0 {
		c.MemberTimeout = 60 * time.Second
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = 30 * time.Second
	}
	if c.RequestRate == 0 {
		c.RequestRate = 20
	}
	if c.MissesPerMinute == 0 {
		c.MissesPerMinute = 10
	}
	if c.GlobalMissesPerMinute == 0 {
		c.GlobalMissesPerMinute = 600
	}
	if c.AllowOrigin == "" {
		c.AllowOrigin = "*"
	}
	if c.CredentialTTL == 0 {
		c.CredentialTTL = 10 * time.Minute
	}
	if err := c.TURN.withDefaults(c.MaxMembers); err != nil {
		return c, err
	}
	for name, v := range map[string]float64{
		"MaxRooms": float64(c.MaxRooms), "MaxMembers": float64(c.MaxMembers),
		"MaxMembersPerIP": float64(c.MaxMembersPerIP), "MaxListed": float64(c.MaxListed),
		"MaxBodyBytes": float64(c.MaxBodyBytes), "MaxSignalBytes": float64(c.MaxSignalBytes),
		"MaxQueuedSignals": float64(c.MaxQueuedSignals), "MaxQueuedBytes": float64(c.MaxQueuedBytes),
		"MaxQueuedTotal": float64(c.MaxQueuedTotal), "MaxPollsPerMember": float64(c.MaxPollsPerMember),
		"MaxPollsPerIP": float64(c.MaxPollsPerIP), "PollTimeout": float64(c.PollTimeout),
		"MemberTimeout": float64(c.MemberTimeout), "NonceTTL": float64(c.NonceTTL),
		"MaxNonces": float64(c.MaxNonces), "RequestRate": c.RequestRate,
		"RequestBurst": float64(c.RequestBurst), "MissesPerMinute": c.MissesPerMinute,
		"MissBurst": float64(c.MissBurst), "GlobalMissesPerMinute": c.GlobalMissesPerMinute,
		"MaxTrackedIPs": float64(c.MaxTrackedIPs), "CredentialTTL": float64(c.CredentialTTL),
	} {
		if v < 0 {
			return c, fmt.Errorf("rendezvous: Config.%s is negative", name)
		}
	}
	if c.MaxSignalBytes > c.MaxQueuedBytes {
		return c, fmt.Errorf("rendezvous: Config.MaxSignalBytes %d exceeds MaxQueuedBytes %d", c.MaxSignalBytes, c.MaxQueuedBytes)
	}
	if c.CredentialTTL < 2*c.PollTimeout {
		return c, fmt.Errorf("rendezvous: Config.CredentialTTL %v is under twice PollTimeout (%v)", c.CredentialTTL, c.PollTimeout)
	}
	if c.PublicSTUN != "" {
		if err := checkHostPort(c.PublicSTUN); err != nil {
			return c, fmt.Errorf("rendezvous: Config.PublicSTUN: %w", err)
		}
	}
	if len(c.ExternalTURN) > maxExternalTURN {
		return c, fmt.Errorf("rendezvous: %d Config.ExternalTURN servers, at most %d", len(c.ExternalTURN), maxExternalTURN)
	}
	ext := make([]ExternalTURN, len(c.ExternalTURN))
	for i, e := range c.ExternalTURN {
		if e.Secret == "" {
			return c, fmt.Errorf("rendezvous: Config.ExternalTURN[%d] has no Secret", i)
		}
		if len(e.URLs) == 0 || len(e.URLs) > 4 {
			return c, fmt.Errorf("rendezvous: Config.ExternalTURN[%d] has %d URLs, want 1..4", i, len(e.URLs))
		}
		for _, u := range e.URLs {
			if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") || len(u) > maxICEURLLen {
				return c, fmt.Errorf("rendezvous: Config.ExternalTURN[%d]: %q is not a turn: or turns: URL of at most %d bytes", i, u, maxICEURLLen)
			}
		}
		ext[i] = ExternalTURN{URLs: append([]string(nil), e.URLs...), Secret: e.Secret}
	}
	c.ExternalTURN = ext // a copy: the caller's slices may change later
	return c, nil
}

// withDefaults fills in t's defaults (maxMembers is Config.MaxMembers's
// value) and checks it. A zero TURNConfig (no Public) stays zero.
func (t *TURNConfig) withDefaults(maxMembers int) error {
	if t.Public == "" {
		if t.RelayIP.IsValid() || t.Secret != "" || t.MinPort != 0 || t.MaxPort != 0 {
			return fmt.Errorf("rendezvous: Config.TURN has settings but no Public address")
		}
		return nil
	}
	if err := checkHostPort(t.Public); err != nil {
		return fmt.Errorf("rendezvous: Config.TURN.Public: %w", err)
	}
	if !t.RelayIP.IsValid() {
		host, _, _ := net.SplitHostPort(t.Public)
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("rendezvous: Config.TURN.RelayIP is required when Public (%q) is not an IP address", t.Public)
		}
		t.RelayIP = ip
	}
	t.RelayIP = t.RelayIP.Unmap()
	if t.RelayIP.IsUnspecified() {
		return fmt.Errorf("rendezvous: Config.TURN.RelayIP %v is unspecified: give the address peers reach", t.RelayIP)
	}
	if !t.RelayBind.IsValid() {
		if t.RelayIP.Is4() {
			t.RelayBind = netip.IPv4Unspecified()
		} else {
			t.RelayBind = netip.IPv6Unspecified()
		}
	}
	if t.RelayBind.Unmap().Is4() != t.RelayIP.Is4() {
		return fmt.Errorf("rendezvous: Config.TURN.RelayBind %v and RelayIP %v are of different families", t.RelayBind, t.RelayIP)
	}
	if t.MinPort == 0 {
		t.MinPort = 49152
	}
	if t.MaxPort == 0 {
		t.MaxPort = 65535
	}
	if t.MinPort < 1 || t.MaxPort > 65535 || t.MinPort > t.MaxPort {
		return fmt.Errorf("rendezvous: Config.TURN ports %d..%d, want 1 <= MinPort <= MaxPort <= 65535", t.MinPort, t.MaxPort)
	}
	if t.Realm == "" {
		t.Realm = "pumpnet"
	}
	if len(t.Realm) > 127 {
		return fmt.Errorf("rendezvous: Config.TURN.Realm longer than 127 bytes")
	}
	if t.Secret == "" {
		t.Secret = randomSecret()
	}
	if t.MaxAllocations == 0 {
		t.MaxAllocations = 1024
	}
	if t.MaxAllocationsPerMember == 0 {
		t.MaxAllocationsPerMember = 2 * maxMembers
	}
	if t.MaxAllocationsPerIP == 0 {
		t.MaxAllocationsPerIP = 64
	}
	if t.Lifetime == 0 {
		t.Lifetime = 10 * time.Minute
	}
	if t.MaxAllocations < 0 || t.MaxAllocationsPerMember < 0 || t.MaxAllocationsPerIP < 0 || t.Lifetime < 0 {
		return fmt.Errorf("rendezvous: Config.TURN has a negative bound")
	}
	if t.Lifetime < time.Second || t.Lifetime > time.Hour {
		return fmt.Errorf("rendezvous: Config.TURN.Lifetime %v, want 1 s..1 h", t.Lifetime)
	}
	if t.AllowPeer == nil {
		t.AllowPeer = defaultAllowPeer
	}
	return nil
}

// checkHostPort checks a "host:port" a member is told to reach.
func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return err
	}
	if host == "" || port == "" || len(hp) > 253 {
		return fmt.Errorf("%q: want host:port", hp)
	}
	return nil
}
