package ackhandler

import (
	"errors"
	"fmt"
	"time"
)

// Congestion defaults (CongestionConfig), in bytes and bytes per second.
const (
	// DefaultInitialRate is the starting send rate: 1 MB/s.
	DefaultInitialRate = 1 << 20
	// DefaultMinRate is the floor of the send rate: 32 KB/s.
	DefaultMinRate = 32 << 10
	// DefaultMaxRate is the ceiling of the send rate: 100 MB/s.
	DefaultMaxRate = 100 << 20
	// DefaultMaxInFlight bounds the bytes in flight: 4 MiB.
	DefaultMaxInFlight = 4 << 20
	// DefaultMaxDatagram is the datagram budget of PROTOCOL.md §3.
	DefaultMaxDatagram = 1200
	// MinInFlightCap is the floor of the in-flight cap (unless MaxInFlight
	// is lower).
	MinInFlightCap = 64 << 10
	// BurstDatagrams is the token bucket's depth in datagrams.
	BurstDatagrams = 10
)

// Growth and back-off factors.
const (
	lossFactor      = 0.7 // rate multiplier on a loss event
	avoidanceGrowth = 1.1 // rate multiplier per RTT above the threshold
	slowStartGrowth = 2.0 // rate multiplier per RTT below the threshold
)

// ErrConfig means a CongestionConfig is inconsistent.
var ErrConfig = errors.New("ackhandler: invalid congestion config")

// CongestionConfig configures a Congestion. Its zero value gives the
// defaults; fields are in bytes and bytes per second.
type CongestionConfig struct {
	// InitialRate is the starting send rate (default DefaultInitialRate).
	InitialRate int
	// MinRate is the floor of the send rate (default DefaultMinRate).
	MinRate int
	// MaxRate is the ceiling of the send rate (default DefaultMaxRate).
	MaxRate int
	// MaxInFlight bounds the bytes in flight (default DefaultMaxInFlight).
	MaxInFlight int
	// MaxDatagram is the largest datagram (default DefaultMaxDatagram); the
	// token bucket holds BurstDatagrams of them.
	MaxDatagram int
}

// Congestion is a send-rate budget that backs off on loss and recovers, plus
// a bound on the bytes in flight. It is not safe for concurrent use.
//
// The rate is enforced by a token bucket that fills at Rate bytes per second
// and holds max(BurstDatagrams datagrams, one millisecond of Rate) (the
// second term lets a sender whose timers tick every millisecond reach high
// rates). The rate starts at InitialRate. Each RTT without loss in which the
// sender used at least half of its budget (so a light game sender does not
// inflate a rate it never tested, in the spirit of RFC 7661), it doubles
// while below the threshold and then grows by 10%, up to MaxRate. The
// threshold starts at MaxRate; a loss event multiplies the rate by 0.7, at
// most once per smoothed RTT, never below MinRate, and sets the threshold to
// the new rate. The bytes in flight are capped at
// max(2 * Rate * max(smoothed RTT, 1 ms), MinInFlightCap), at most
// MaxInFlight, using the smoothed RTT last passed to OnAcked or OnLoss
// (InitialRTT before).
//
// Ack-only and CLOSE packets bypass CanSend: the caller decides. Passing
// them to OnSent charges the bucket, so that data yields to them; the bucket
// may then go negative by up to one burst.
type Congestion struct {
	cfg CongestionConfig

	rate      float64 // bytes per second
	threshold float64
	srtt      time.Duration

	tokens     float64
	lastRefill time.Time

	epochStart time.Time // start of the current growth epoch
	epochSent  int       // bytes sent in the epoch
	lastLoss   time.Time // last reduction, zero if none
}

// NewCongestion returns a budget at cfg.InitialRate with a full bucket. It
// returns an error wrapping ErrConfig if a field is negative or the rates are
// not ordered MinRate <= InitialRate <= MaxRate (after defaults).
func NewCongestion(cfg CongestionConfig) (*Congestion, error) {
	if cfg.InitialRate < 0 || cfg.MinRate < 0 || cfg.MaxRate < 0 || cfg.MaxInFlight < 0 || cfg.MaxDatagram < 0 {
		return nil, fmt.Errorf("%w: negative field in %+v", ErrConfig, cfg)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.InitialRate, DefaultInitialRate)
	def(&cfg.MinRate, DefaultMinRate)
	def(&cfg.MaxRate, DefaultMaxRate)
	def(&cfg.MaxInFlight, DefaultMaxInFlight)
	def(&cfg.MaxDatagram, DefaultMaxDatagram)
	if cfg.MinRate > cfg.InitialRate || cfg.InitialRate > cfg.MaxRate {
		return nil, fmt.Errorf("%w: want MinRate %d <= InitialRate %d <= MaxRate %d",
			ErrConfig, cfg.MinRate, cfg.InitialRate, cfg.MaxRate)
	}
	c := &Congestion{
		cfg:       cfg,
		rate:      float64(cfg.InitialRate),
		threshold: float64(cfg.MaxRate),
		srtt:      InitialRTT,
	}
	c.tokens = c.burst()
	return c, nil
}

// Rate returns the current send rate in bytes per second.
func (c *Congestion) Rate() int { return int(c.rate) }

// Config returns the configuration in use, defaults filled in.
func (c *Congestion) Config() CongestionConfig { return c.cfg }

func (c *Congestion) burst() float64 {
	return max(float64(BurstDatagrams*c.cfg.MaxDatagram), c.rate/1000)
}

// InFlightCap returns the current bound on bytes in flight.
func (c *Congestion) InFlightCap() int {
	rtt := max(c.srtt, time.Millisecond)
	v := max(2*c.rate*rtt.Seconds(), MinInFlightCap)
	return int(min(v, float64(c.cfg.MaxInFlight)))
}

// refill adds the tokens earned since the last refill. Time that goes
// backwards earns nothing.
func (c *Congestion) refill(now time.Time) {
	if c.lastRefill.IsZero() {
		c.lastRefill = now
		return
	}
	if dt := now.Sub(c.lastRefill); dt > 0 {
		c.tokens = min(c.tokens+c.rate*dt.Seconds(), c.burst())
		c.lastRefill = now
	}
}

// need is the number of tokens a packet of size bytes waits for; a packet
// larger than the bucket waits for a full bucket.
func (c *Congestion) need(size int) float64 { return min(float64(size), c.burst()) }

// CanSend reports whether a packet of size bytes may be sent at now with
// bytesInFlight bytes already in flight: the bucket holds size tokens and the
// packet keeps the bytes in flight within InFlightCap.
func (c *Congestion) CanSend(now time.Time, bytesInFlight, size int) bool {
	c.refill(now)
	return c.tokens >= c.need(size) && bytesInFlight+size <= c.InFlightCap()
}

// OnSent charges a packet of size bytes sent at now to the bucket.
func (c *Congestion) OnSent(now time.Time, size int) {
	c.refill(now)
	size = max(size, 0)
	c.tokens = max(c.tokens-float64(size), -c.burst())
	c.epochSent += size
}

// NextSendTime returns when the bucket will hold a full datagram
// (MaxDatagram tokens); now if it already does. It does not consider the
// in-flight cap, which acknowledgements, not time, release.
func (c *Congestion) NextSendTime(now time.Time) time.Time {
	c.refill(now)
	missing := c.need(c.cfg.MaxDatagram) - c.tokens
	if missing <= 0 {
		return now
	}
	// Round up so that CanSend at the returned time succeeds.
	return now.Add(time.Duration(missing/c.rate*float64(time.Second)) + 1)
}

// OnAcked reports that ackedBytes of ack-eliciting packets were newly
// acknowledged at now (AckResult.AckedBytes) and that rtt is current. At the
// first acknowledgement that ends a round trip without loss it grows the rate
// (see Congestion); with ackedBytes <= 0 it only notes the RTT.
func (c *Congestion) OnAcked(now time.Time, ackedBytes int, rtt *RTT) {
	c.srtt = rtt.Smoothed()
	if ackedBytes <= 0 {
		return
	}
	if c.epochStart.IsZero() {
		c.startEpoch(now)
		return
	}
	elapsed := now.Sub(c.epochStart)
	if elapsed < max(c.srtt, Granularity) {
		return
	}
	budget := c.rate * elapsed.Seconds()
	if 2*float64(c.epochSent) >= budget {
		if c.rate < c.threshold {
			c.rate = min(c.rate*slowStartGrowth, c.threshold)
		} else {
			c.rate *= avoidanceGrowth
		}
		c.rate = min(c.rate, float64(c.cfg.MaxRate))
	}
	c.startEpoch(now)
}

func (c *Congestion) startEpoch(now time.Time) {
	c.epochStart = now
	c.epochSent = 0
}

// OnLoss reports a loss event at now (AckResult.Loss, or OnTimeout declaring
// packets lost). The rate drops to 0.7 of itself, not below MinRate, at most
// once per smoothed RTT; further losses within that RTT are part of the same
// event.
func (c *Congestion) OnLoss(now time.Time, rtt *RTT) {
	c.srtt = rtt.Smoothed()
	if !c.lastLoss.IsZero() && now.Sub(c.lastLoss) < c.srtt {
		return
	}
	c.lastLoss = now
	c.rate = max(c.rate*lossFactor, float64(c.cfg.MinRate))
	c.threshold = c.rate
	c.tokens = min(c.tokens, c.burst())
	c.startEpoch(now)
}
