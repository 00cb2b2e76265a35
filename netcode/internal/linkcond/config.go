package linkcond

import (
	"errors"
	"fmt"
	"time"
)

// Defaults applied to a Direction whose corresponding feature is on.
const (
	// DefaultQueueBytes is the bandwidth queue bound used when Bandwidth > 0
	// and QueueBytes is 0.
	DefaultQueueBytes = 64 << 10
	// MinReorderDelay is the smallest default ReorderDelay; the default is
	// max(2*Jitter, MinReorderDelay).
	MinReorderDelay = 2 * time.Millisecond
	// MaxDuration bounds every duration in a Direction, so that sums of them
	// cannot overflow.
	MaxDuration = time.Hour
)

// ErrInvalidConfig is wrapped by the errors of Config.Validate, Wrap and
// SetConfig for a Config they reject.
var ErrInvalidConfig = errors.New("linkcond: invalid config")

// Direction describes what happens to datagrams travelling one way. The zero
// value passes them through unchanged, in order and with no added delay.
//
// Per datagram, in this order: the Gilbert-Elliott chain steps and may drop
// it (burst loss); independent Loss may drop it; the bandwidth queue may drop
// it (tail drop) or hold it for its serialisation time; then it is delayed by
// Latency ± Jitter, plus ReorderDelay if picked for reordering; and with
// probability Duplicate a second copy follows, delayed independently.
type Direction struct {
	// Latency is the one-way delay added to every datagram.
	Latency time.Duration
	// Jitter spreads the delay: each datagram waits Latency + uniform(-Jitter,
	// +Jitter), clamped at 0. Jitter larger than the gap between datagrams
	// reorders them, as on a real path.
	Jitter time.Duration
	// Loss is the probability, in [0, 1], that a datagram is dropped,
	// independently of every other.
	Loss float64
	// BurstEnter is the Gilbert-Elliott probability, per datagram, of moving
	// from the good state to the bad state. 0 turns burst loss off.
	BurstEnter float64
	// BurstExit is the probability, per datagram, of moving from the bad state
	// back to the good state; the mean burst lasts 1/BurstExit datagrams. It
	// must be > 0 when BurstEnter > 0.
	BurstExit float64
	// BurstLoss is the loss probability in the bad state. 0 means 1 (every
	// datagram in a burst is lost) when BurstEnter > 0.
	BurstLoss float64
	// Duplicate is the probability that a datagram is delivered twice; the
	// copy gets its own Latency ± Jitter delay.
	Duplicate float64
	// Reorder is the probability that a datagram is held back ReorderDelay
	// longer than it would otherwise be, so that later ones overtake it.
	Reorder float64
	// ReorderDelay is the extra hold of a reordered datagram. 0 means
	// max(2*Jitter, MinReorderDelay).
	ReorderDelay time.Duration
	// Bandwidth caps the link in bytes (of UDP payload) per second; 0 means
	// unlimited. Each datagram occupies the link for len/Bandwidth seconds,
	// first in first out, before its latency starts.
	Bandwidth int64
	// QueueBytes bounds the bytes waiting for the bandwidth-capped link,
	// counting the rest of the datagram being sent; a datagram that does not
	// fit is dropped (drop-tail). 0 means DefaultQueueBytes. Unused when
	// Bandwidth is 0.
	QueueBytes int
}

// Config is the link conditioner's configuration: one Direction for
// datagrams written through the Conn and one for datagrams read from it. The
// zero Config passes traffic through unchanged.
type Config struct {
	// Send applies to datagrams written with WriteToUDPAddrPort.
	Send Direction
	// Receive applies to datagrams read with ReadFromUDPAddrPort.
	Receive Direction
	// Seed seeds the random choices, so that a run can be repeated; 0 picks a
	// random seed. Wrap reads it; SetConfig ignores it and keeps the running
	// random streams.
	Seed uint64
}

// Validate reports whether c is usable: every probability in [0, 1], every
// duration in [0, MaxDuration], Bandwidth and QueueBytes not negative, and
// BurstExit > 0 when BurstEnter > 0. Errors name the field and wrap
// ErrInvalidConfig. Validate does not block and is safe for concurrent use.
func (c Config) Validate() error {
	if err := c.Send.validate("Send"); err != nil {
		return err
	}
	return c.Receive.validate("Receive")
}

func (d Direction) validate(dir string) error {
	probs := []struct {
		name string
		p    float64
	}{
		{"Loss", d.Loss}, {"BurstEnter", d.BurstEnter}, {"BurstExit", d.BurstExit},
		{"BurstLoss", d.BurstLoss}, {"Duplicate", d.Duplicate}, {"Reorder", d.Reorder},
	}
	for _, f := range probs {
		if !(f.p >= 0 && f.p <= 1) { // also rejects NaN
			return fmt.Errorf("%w: %s.%s = %v, want a probability in [0, 1]", ErrInvalidConfig, dir, f.name, f.p)
		}
	}
	durs := []struct {
		name string
		d    time.Duration
	}{
		{"Latency", d.Latency}, {"Jitter", d.Jitter}, {"ReorderDelay", d.ReorderDelay},
	}
	for _, f := range durs {
		if f.d < 0 || f.d > MaxDuration {
			return fmt.Errorf("%w: %s.%s = %v, want between 0 and %v", ErrInvalidConfig, dir, f.name, f.d, MaxDuration)
		}
	}
	if d.Bandwidth < 0 {
		return fmt.Errorf("%w: %s.Bandwidth = %d, must not be negative", ErrInvalidConfig, dir, d.Bandwidth)
	}
	if d.QueueBytes < 0 {
		return fmt.Errorf("%w: %s.QueueBytes = %d, must not be negative", ErrInvalidConfig, dir, d.QueueBytes)
	}
	if d.BurstEnter > 0 && d.BurstExit == 0 {
		return fmt.Errorf("%w: %s.BurstExit = 0 with BurstEnter = %v: a burst would never end", ErrInvalidConfig, dir, d.BurstEnter)
	}
	return nil
}

// withDefaults returns d with its documented defaults filled in.
func (d Direction) withDefaults() Direction {
	if d.BurstEnter > 0 && d.BurstLoss == 0 {
		d.BurstLoss = 1
	}
	if d.Reorder > 0 && d.ReorderDelay == 0 {
		d.ReorderDelay = max(2*d.Jitter, MinReorderDelay)
	}
	if d.Bandwidth > 0 && d.QueueBytes == 0 {
		d.QueueBytes = DefaultQueueBytes
	}
	return d
}
