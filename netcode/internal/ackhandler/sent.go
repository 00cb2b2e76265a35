package ackhandler

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// DefaultSentCapacity is the number of packet records a SentHistory holds
// when its capacity is not given.
const DefaultSentCapacity = 4096

// MaxPTOBackoff is the largest exponent of the probe-timeout backoff: after
// consecutive timeouts the probe timeout is at most PTO * 2^MaxPTOBackoff.
const MaxPTOBackoff = 6

// PacketThreshold is RFC 9002's kPacketThreshold: an unacknowledged packet is
// lost once a packet sent PacketThreshold numbers after it is acknowledged.
const PacketThreshold = 3

// Errors returned by SentHistory. They are wrapped with detail; match them
// with errors.Is.
var (
	// ErrAckUnsent means an ACK frame acknowledged a packet number above the
	// largest sent: a protocol violation the connection closes on.
	ErrAckUnsent = errors.New("ackhandler: ACK of a packet never sent")
	// ErrPacketNumber means Sent was given a packet number not above the
	// previous one.
	ErrPacketNumber = errors.New("ackhandler: packet number not increasing")
	// ErrHistoryFull means Sent was called while Full reported true.
	ErrHistoryFull = errors.New("ackhandler: sent history full")
)

// AckResult is what one ACK frame did to a SentHistory, for congestion
// control and statistics. Bytes count ack-eliciting packets only (the bytes
// in flight); packet counts include every recorded packet.
type AckResult struct {
	// AckedPackets and AckedBytes count packets newly acknowledged.
	AckedPackets, AckedBytes int
	// LostPackets and LostBytes count packets newly declared lost.
	LostPackets, LostBytes int
	// RTTSampled reports whether the frame gave the RTT a sample.
	RTTSampled bool
}

// Loss reports whether the frame revealed any loss (a congestion event).
func (r AckResult) Loss() bool { return r.LostPackets > 0 }

// SentHistory records sent packets until they are acknowledged or declared
// lost, and carries each packet's refs (what it carried, opaque here) to the
// acked or lost callback exactly once. It is not safe for concurrent use.
//
// Loss detection follows RFC 9002 §6.1: once a packet is acknowledged, every
// earlier unacknowledged packet is lost if it is PacketThreshold numbers
// older, or was sent more than 9/8 * max(smoothed RTT, latest RTT) (at least
// Granularity) ago. A lost packet is forgotten; an acknowledgement that
// arrives for it later is ignored (the caller has resent its refs, and the
// new packet's acknowledgement is the one reported).
//
// The probe timeout (RFC 9002 §6.2) is armed, as in the RFC, from the newest
// unacknowledged ack-eliciting packet: PTO * 2^backoff after it was sent.
// Unlike QUIC, which sends a probe and waits, OnTimeout then declares lost
// every packet unacknowledged for longer than PTO * 2^backoff — at the
// deadline, all of them — so the caller resends their refs in new packets,
// which are the probes. Arming from the newest packet keeps a lost burst from
// being declared lost one packet per (ever longer) timeout. The backoff
// doubles with each probe timeout, up to 2^MaxPTOBackoff, and resets when an
// ACK newly acknowledges a packet. Records that are not ack-eliciting do not
// arm the probe timeout, but one that fires sweeps them too.
//
// The history is bounded: it holds at most its capacity of records, oldest to
// newest, counting acknowledged records still enclosed by unacknowledged
// ones. When Full reports true, the connection must not send packets that
// need a record (ack-eliciting ones, or ones with refs) until acknowledgements
// or timeouts free room; Sent never drops a record silently. A packet that is
// neither ack-eliciting nor carries refs (ack-only, CLOSE) needs no record:
// Sent only notes its number, so that its acknowledgement is legitimate.
type SentHistory[R any] struct {
	ring sentRing[R]

	live          int
	liveEliciting int
	bytesInFlight int

	hasSent      bool
	largestSent  uint64
	hasAcked     bool
	largestAcked uint64

	backoff  uint
	lossTime time.Time // earliest time-threshold loss deadline, zero if none
}

// NewSentHistory returns an empty history that holds up to capacity records
// (DefaultSentCapacity if capacity <= 0). Storage grows with use up to that
// capacity.
func NewSentHistory[R any](capacity int) *SentHistory[R] {
	if capacity <= 0 {
		capacity = DefaultSentCapacity
	}
	return &SentHistory[R]{ring: sentRing[R]{capacity: capacity}}
}

// Sent records packet pn, sent at now, size bytes on the wire, and the refs
// it carried (copied: the caller may reuse the slice). Packet numbers must
// increase from call to call. A packet that is not ack-eliciting and carries
// no refs is not recorded. A negative size counts as 0. Sent returns an error
// wrapping ErrPacketNumber or ErrHistoryFull, and records nothing, if the
// packet number does not increase or the history is full.
func (h *SentHistory[R]) Sent(pn uint64, now time.Time, size int, ackEliciting bool, refs []R) error {
	if h.hasSent && pn <= h.largestSent {
		return fmt.Errorf("%w: %d after %d", ErrPacketNumber, pn, h.largestSent)
	}
	if !ackEliciting && len(refs) == 0 {
		h.hasSent, h.largestSent = true, pn
		return nil
	}
	if h.ring.full() {
		return fmt.Errorf("%w: %d records", ErrHistoryFull, h.ring.capacity)
	}
	h.hasSent, h.largestSent = true, pn
	size = max(size, 0)
	p := h.ring.push()
	p.pn, p.sent, p.size, p.ackEliciting, p.live = pn, now, size, ackEliciting, true
	p.refs = append(p.refs[:0], refs...)
	h.live++
	if ackEliciting {
		h.liveEliciting++
		h.bytesInFlight += size
	}
	return nil
}

// OnAck processes an ACK frame received at now. It calls acked for each ref of
// each newly acknowledged packet; if the largest acknowledged packet is newly
// acknowledged and was ack-eliciting, it updates rtt with a sample whose ack
// delay is the frame's, clamped to maxAckDelay (the peer's); then it declares
// lost the packets that the frame shows to be lost (see SentHistory) and
// calls lost for each of their refs. Either callback may be nil. rtt must not
// be nil.
//
// A frame that acknowledges a packet number above the largest sent changes
// nothing and returns an error wrapping ErrAckUnsent.
func (h *SentHistory[R]) OnAck(f *wire.AckFrame, now time.Time, rtt *RTT, maxAckDelay time.Duration,
	acked func(R), lost func(R)) (AckResult, error) {
	var res AckResult
	if !h.hasSent || f.Largest > h.largestSent {
		return res, fmt.Errorf("%w: largest acknowledged %d, largest sent %d (any sent: %t)",
			ErrAckUnsent, f.Largest, h.largestSent, h.hasSent)
	}
	for k := h.ring.search(f.Smallest()); k < h.ring.n; k++ {
		p := h.ring.at(k)
		if p.pn > f.Largest {
			break
		}
		if !p.live || !f.Acks(p.pn) {
			continue
		}
		if sample := now.Sub(p.sent); p.pn == f.Largest && p.ackEliciting && sample >= 0 {
			rtt.Update(sample, ackDelay(f.DelayMicros, maxAckDelay))
			res.RTTSampled = true
		}
		res.AckedPackets++
		if p.ackEliciting {
			res.AckedBytes += p.size
		}
		h.remove(p, acked)
	}
	if !h.hasAcked || f.Largest > h.largestAcked {
		h.hasAcked, h.largestAcked = true, f.Largest
	}
	if res.AckedPackets > 0 {
		h.backoff = 0
	}
	res.LostPackets, res.LostBytes = h.detectLost(now, rtt, lost)
	h.ring.trim()
	return res, nil
}

// ackDelay converts the frame's delay to a duration no longer than
// maxAckDelay, without overflow.
func ackDelay(micros uint64, maxAckDelay time.Duration) time.Duration {
	maxAckDelay = max(maxAckDelay, 0)
	if micros >= uint64(math.MaxInt64/int64(time.Microsecond)) {
		return maxAckDelay
	}
	return min(time.Duration(micros)*time.Microsecond, maxAckDelay)
}

// remove forgets a live record, passing its refs to cb.
func (h *SentHistory[R]) remove(p *sentPacket[R], cb func(R)) {
	p.live = false
	h.live--
	if p.ackEliciting {
		h.liveEliciting--
		h.bytesInFlight -= p.size
	}
	if cb != nil {
		for _, r := range p.refs {
			cb(r)
		}
	}
	clear(p.refs) // let the refs be collected
	p.refs = p.refs[:0]
}

// lossDelay is RFC 9002's time threshold: 9/8 * max(smoothed, latest), at
// least Granularity.
func lossDelay(rtt *RTT) time.Duration {
	return max(max(rtt.Smoothed(), rtt.Latest())*9/8, Granularity)
}

// detectLost declares lost the live packets below the largest acknowledged
// that meet the packet or time threshold, and sets lossTime for the others.
func (h *SentHistory[R]) detectLost(now time.Time, rtt *RTT, lost func(R)) (packets, bytes int) {
	h.lossTime = time.Time{}
	if !h.hasAcked {
		return 0, 0
	}
	delay := lossDelay(rtt)
	lostSendTime := now.Add(-delay)
	for k := 0; k < h.ring.n; k++ {
		p := h.ring.at(k)
		if p.pn >= h.largestAcked {
			break
		}
		if !p.live {
			continue
		}
		if h.largestAcked-p.pn >= PacketThreshold || !p.sent.After(lostSendTime) {
			packets++
			if p.ackEliciting {
				bytes += p.size
			}
			h.remove(p, lost)
			continue
		}
		if t := p.sent.Add(delay); h.lossTime.IsZero() || t.Before(h.lossTime) {
			h.lossTime = t
		}
	}
	return packets, bytes
}

// newestAckEliciting returns the newest live ack-eliciting record, or nil.
func (h *SentHistory[R]) newestAckEliciting() *sentPacket[R] {
	if h.liveEliciting == 0 {
		return nil
	}
	for k := h.ring.n - 1; k >= 0; k-- {
		if p := h.ring.at(k); p.live && p.ackEliciting {
			return p
		}
	}
	return nil
}

// ProbeTimeout returns the probe timeout now in force: PTO * 2^backoff,
// for a peer that delays acknowledgements by up to maxAckDelay.
func (h *SentHistory[R]) ProbeTimeout(rtt *RTT, maxAckDelay time.Duration) time.Duration {
	return h.probeTimeout(rtt, maxAckDelay)
}

// probeTimeout returns PTO * 2^backoff.
func (h *SentHistory[R]) probeTimeout(rtt *RTT, maxAckDelay time.Duration) time.Duration {
	return rtt.PTO(maxAckDelay) << h.backoff
}

// OnTimeout runs the timers due at now. If the time-threshold loss deadline
// has passed, it declares lost the packets that reached it. If the probe
// timeout has passed (see SentHistory), it declares lost every packet
// unacknowledged for longer than PTO * 2^backoff and doubles the backoff. It calls lost for each ref of each lost
// packet (lost may be nil) and returns the number of packets declared lost;
// before any deadline it does nothing and returns 0. maxAckDelay is the
// peer's; rtt must not be nil.
func (h *SentHistory[R]) OnTimeout(now time.Time, rtt *RTT, maxAckDelay time.Duration, lost func(R)) int {
	n := 0
	swept := false
	if p := h.newestAckEliciting(); p != nil {
		timeout := h.probeTimeout(rtt, maxAckDelay)
		if !now.Before(p.sent.Add(timeout)) {
			// The newest ack-eliciting packet is among those expired, so
			// the timeout always backs off.
			expired := now.Add(-timeout)
			for k := 0; k < h.ring.n; k++ {
				p := h.ring.at(k)
				if !p.live || p.sent.After(expired) {
					continue
				}
				n++
				h.remove(p, lost)
			}
			if h.backoff < MaxPTOBackoff {
				h.backoff++
			}
			swept = true
		}
	}
	// After a sweep, the loss time is recomputed from what is left.
	if swept || (!h.lossTime.IsZero() && !now.Before(h.lossTime)) {
		lostNow, _ := h.detectLost(now, rtt, lost)
		n += lostNow
	}
	h.ring.trim()
	return n
}

// NextDeadline returns when OnTimeout should next run: the earlier of the
// time-threshold loss deadline and the probe timeout, or the zero time if
// neither is armed. maxAckDelay is the peer's; rtt must not be nil.
func (h *SentHistory[R]) NextDeadline(rtt *RTT, maxAckDelay time.Duration) time.Time {
	d := h.lossTime
	if p := h.newestAckEliciting(); p != nil {
		if pto := p.sent.Add(h.probeTimeout(rtt, maxAckDelay)); d.IsZero() || pto.Before(d) {
			d = pto
		}
	}
	return d
}

// BytesInFlight returns the size of the ack-eliciting packets neither
// acknowledged nor declared lost.
func (h *SentHistory[R]) BytesInFlight() int { return h.bytesInFlight }

// Len returns the number of packets neither acknowledged nor declared lost.
func (h *SentHistory[R]) Len() int { return h.live }

// Full reports whether the history has no room for another record: the
// connection must not send a packet that needs one (see SentHistory).
func (h *SentHistory[R]) Full() bool { return h.ring.full() }

// Cap returns the maximum number of records.
func (h *SentHistory[R]) Cap() int { return h.ring.capacity }

// LargestAcked returns the largest packet number acknowledged so far and
// whether any was.
func (h *SentHistory[R]) LargestAcked() (uint64, bool) { return h.largestAcked, h.hasAcked }

// PTOBackoff returns the current exponent of the probe-timeout backoff.
func (h *SentHistory[R]) PTOBackoff() int { return int(h.backoff) }
