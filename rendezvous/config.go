package rendezvous

import (
	"fmt"
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
		"MaxTrackedIPs": float64(c.MaxTrackedIPs),
	} {
		if v < 0 {
			return c, fmt.Errorf("rendezvous: Config.%s is negative", name)
		}
	}
	if c.MaxSignalBytes > c.MaxQueuedBytes {
		return c, fmt.Errorf("rendezvous: Config.MaxSignalBytes %d exceeds MaxQueuedBytes %d", c.MaxSignalBytes, c.MaxQueuedBytes)
	}
	return c, nil
}
