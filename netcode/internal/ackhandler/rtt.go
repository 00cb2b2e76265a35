package ackhandler

import "time"

// InitialRTT is the round-trip time assumed before the first sample. RFC 9002
// uses 333 ms, a safe guess for the whole Internet; pumpnet's first peers are
// usually on the same LAN or a nearby server, and the first packets of a
// connection (KEYS_READY) are retransmitted on a probe timeout derived from
// this value, so 100 ms keeps a lost first packet from stalling the start of
// a game for a second while staying well above any LAN or regional RTT.
const InitialRTT = 100 * time.Millisecond

// Granularity is the timer granularity of RFC 9002 (kGranularity): the floor
// of the variance term of the probe timeout and of the time-threshold loss
// delay.
const Granularity = time.Millisecond

const maxRTTSample = time.Hour

// RTT estimates the round-trip time as RFC 9002 §5 does. Its zero value is
// ready to use and reports InitialRTT until the first sample. It is not safe
// for concurrent use.
type RTT struct {
	hasSample bool
	latest    time.Duration
	min       time.Duration
	smoothed  time.Duration
	rttvar    time.Duration
	prev      time.Duration // previous adjusted sample, for Jitter
	jitter    time.Duration
}

// Update adds a round-trip sample: the time from sending the packet to
// receiving its acknowledgement, and the delay the peer reported holding that
// acknowledgement. The caller clamps ackDelay to the peer's maximum ack delay
// (SentHistory.OnAck does). A negative sample is ignored; a negative ackDelay
// counts as zero. As in RFC 9002 §5.3, the ack delay is subtracted only if
// that leaves the sample at or above the minimum RTT.
func (r *RTT) Update(sample, ackDelay time.Duration) {
	if sample < 0 {
		return
	}
	sample = min(sample, maxRTTSample)
	ackDelay = min(max(ackDelay, 0), maxRTTSample)
	r.latest = sample
	if !r.hasSample {
		r.hasSample = true
		r.min = sample
		r.smoothed = sample
		r.rttvar = sample / 2
		r.prev = sample
		r.jitter = 0
		return
	}
	r.min = min(r.min, sample)
	adjusted := sample
	if sample-r.min >= ackDelay {
		adjusted = sample - ackDelay
	}
	r.rttvar = (3*r.rttvar + absDuration(r.smoothed-adjusted)) / 4
	r.smoothed = (7*r.smoothed + adjusted) / 8
	r.jitter += (absDuration(adjusted-r.prev) - r.jitter) / 16
	r.prev = adjusted
}

// HasSample reports whether Update has taken at least one sample.
func (r *RTT) HasSample() bool { return r.hasSample }

// Smoothed returns the smoothed RTT (RFC 9002 smoothed_rtt), InitialRTT
// before the first sample.
func (r *RTT) Smoothed() time.Duration {
	if !r.hasSample {
		return InitialRTT
	}
	return r.smoothed
}

// Var returns the RTT variation (RFC 9002 rttvar), InitialRTT/2 before the
// first sample.
func (r *RTT) Var() time.Duration {
	if !r.hasSample {
		return InitialRTT / 2
	}
	return r.rttvar
}

// Min returns the smallest sample seen, without ack-delay adjustment (RFC
// 9002 min_rtt), or 0 before the first sample.
func (r *RTT) Min() time.Duration { return r.min }

// Latest returns the most recent sample, without ack-delay adjustment (RFC
// 9002 latest_rtt), or 0 before the first sample.
func (r *RTT) Latest() time.Duration { return r.latest }

// Jitter returns the mean absolute difference between consecutive samples,
// each sample taken after ack-delay adjustment (so that it measures the path,
// not the peer's ack scheduling), smoothed with gain 1/16 as RFC 3550 §6.4.1
// does for interarrival jitter: J += (|S_i - S_{i-1}| - J) / 16. It is 0
// until the second sample.
func (r *RTT) Jitter() time.Duration { return r.jitter }

// PTO returns the probe timeout of RFC 9002 §6.2.1 for a peer that may delay
// its acknowledgements by up to maxAckDelay:
// Smoothed + max(4*Var, Granularity) + maxAckDelay (a negative maxAckDelay
// counts as 0, one above an hour as an hour).
func (r *RTT) PTO(maxAckDelay time.Duration) time.Duration {
	return r.Smoothed() + max(4*r.Var(), Granularity) + min(max(maxAckDelay, 0), maxRTTSample)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
