package ackhandler

import (
	"encoding/binary"
	"math/bits"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// DefaultMaxAckDelay is how long a ReceivedTracker may hold an
// acknowledgement for ack-eliciting packets that arrived in order: longer
// than a game's tick at 60 Hz (16.7 ms) and 40 Hz, so that the
// acknowledgement rides in the receiver's next packet of its own (a state
// or an input) instead of a datagram of its own. QUIC's default
// max_ack_delay (RFC 9000 §18.2) is the same.
const DefaultMaxAckDelay = 25 * time.Millisecond

// FirstAckedPackets is how many of a connection's first ack-eliciting
// packets netcode has acknowledged at once (SetAckFrequency), so that the
// peer's first RTT sample, which the ack delay is not subtracted from, is
// not padded by it.
const FirstAckedPackets = 4

// AckRange is the number of packet numbers an ACK frame can describe: the
// largest and the 8*wire.MaxAckMaskBytes below it.
const AckRange = 1 + 8*wire.MaxAckMaskBytes

const maskWords = wire.MaxAckMaskBytes / 8

// bitset holds one bit per packet below the largest: bit i stands for packet
// largest-1-i, laid out as the ACK frame's mask (little-endian words).
type bitset [maskWords]uint64

func (s *bitset) get(i uint64) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s *bitset) set(i uint64)      { s[i/64] |= 1 << (i % 64) }

// shift moves every bit d places up (packets grow older as the largest
// advances); bits pushed past the end are dropped.
func (s *bitset) shift(d uint64) {
	if d >= 64*maskWords {
		*s = bitset{}
		return
	}
	ws, bs := int(d/64), uint(d%64)
	for w := maskWords - 1; w >= 0; w-- {
		src := w - ws
		var v uint64
		if src >= 0 {
			v = s[src] << bs
			if bs > 0 && src > 0 {
				v |= s[src-1] >> (64 - bs)
			}
		}
		s[w] = v
	}
}

// clearFrom clears bits i >= k.
func (s *bitset) clearFrom(k uint64) {
	for w := range maskWords {
		lo := uint64(w) * 64
		switch {
		case k <= lo:
			s[w] = 0
		case k < lo+64:
			s[w] &= 1<<(k-lo) - 1
		}
	}
}

func (s *bitset) empty() bool { return *s == bitset{} }

// ReceivedTracker records which packets arrived and decides when an
// acknowledgement is owed (RFC 9000 §13.2, simplified). Its zero value is
// ready to use with DefaultMaxAckDelay. It is not safe for concurrent use.
//
// It remembers the latest AckRange packet numbers. An acknowledgement is
// owed after any ack-eliciting packet; it is due at once when an
// ack-eliciting packet arrives out of order (below the largest, or above it
// leaving a gap), after two unacknowledged ack-eliciting packets (or the
// count SetAckFrequency sets, except in the packets after a gap), and
// otherwise MaxAckDelay after the first unacknowledged ack-eliciting packet
// arrived.
//
// Piggybacking: the connection calls FillAck for every packet it sends while
// there is history, and calls OnAckSent once the packet is sent. An ACK thus
// rides on every data packet, and a lost ACK is healed by the next one, which
// repeats the same history. A packet carrying only an ACK is sent only when
// AckDeadline has passed and no other packet is going out before it; since
// ack-only packets are not ack-eliciting, they are never acknowledged
// themselves (no ACK ping-pong), and at most one is owed per MaxAckDelay or
// per two ack-eliciting packets received (or SetAckFrequency's count).
type ReceivedTracker struct {
	maxAckDelay time.Duration

	has       bool
	largest   uint64
	largestAt time.Time
	seen      bitset // packets received below largest
	report    bitset // packets to report below largest (seen minus IgnoreBelow)
	// reportLargest is false only after IgnoreBelow passed the largest.
	reportLargest bool

	unacked int       // ack-eliciting packets since the last OnAckSent
	first   time.Time // arrival of the first of them
	due     time.Time // zero when no ack is owed
	// SetAckFrequency's: every (0: 2), recovery, first; eliciting counts
	// ack-eliciting packets up to firstAcked; recoverUntil: below this
	// largest, ack every second packet (a gap).
	every, recovery, firstAcked int
	eliciting                   int
	recoverUntil                uint64
}

// SetAckFrequency makes an acknowledgement due at once after every
// unacknowledged ack-eliciting packets instead of two, except in the
// recovery packets after a gap and for the first ack-eliciting packets
// received, which are acknowledged at once. Call it before the first
// Received.
func (t *ReceivedTracker) SetAckFrequency(every, recovery, first int) {
	t.every, t.recovery, t.firstAcked = max(every, 1), max(recovery, 0), max(first, 0)
}

// NewReceivedTracker returns a tracker that holds an acknowledgement for up
// to maxAckDelay (DefaultMaxAckDelay if maxAckDelay <= 0). The peer must use
// the same value in SentHistory.OnAck and RTT.PTO.
func NewReceivedTracker(maxAckDelay time.Duration) *ReceivedTracker {
	return &ReceivedTracker{maxAckDelay: maxAckDelay}
}

// MaxAckDelay returns the longest time the tracker holds an acknowledgement.
func (t *ReceivedTracker) MaxAckDelay() time.Duration {
	if t.maxAckDelay <= 0 {
		return DefaultMaxAckDelay
	}
	return t.maxAckDelay
}

// Received records that packet pn arrived at now, and whether it carried an
// ack-eliciting frame. It reports whether pn was newly recorded: false for a
// duplicate or for a packet more than AckRange-1 below the largest, which can
// no longer be acknowledged (the peer has declared it lost). The replay
// window before decryption is the authority on duplicates; Received's answer
// is only about acknowledgement.
func (t *ReceivedTracker) Received(pn uint64, ackEliciting bool, now time.Time) bool {
	var outOfOrder bool
	switch {
	case !t.has:
		t.has = true
		t.largest, t.largestAt, t.reportLargest = pn, now, true
		outOfOrder = pn > 0 // packets number from 0: the ones before are missing
	case pn > t.largest:
		d := pn - t.largest
		t.seen.shift(d)
		t.report.shift(d)
		if d-1 < AckRange-1 {
			t.seen.set(d - 1)
			if t.reportLargest {
				t.report.set(d - 1)
			}
		}
		t.largest, t.largestAt, t.reportLargest = pn, now, true
		outOfOrder = d > 1
	case pn == t.largest:
		return false
	default:
		i := t.largest - 1 - pn
		if i >= AckRange-1 || t.seen.get(i) {
			return false
		}
		t.seen.set(i)
		t.report.set(i)
		outOfOrder = true
	}
	if !ackEliciting {
		return true
	}
	t.unacked++
	if t.unacked == 1 {
		t.first = now
	}
	if outOfOrder {
		t.recoverUntil = t.largest + uint64(t.recovery)
	}
	every := 2
	if t.every > 0 && t.largest >= t.recoverUntil {
		every = t.every
	}
	if t.eliciting < t.firstAcked {
		t.eliciting++
		outOfOrder = true // acknowledged at once
	}
	due := t.first.Add(t.MaxAckDelay())
	if outOfOrder || t.unacked >= every {
		due = now
	}
	if t.due.IsZero() || due.Before(t.due) {
		t.due = due
	}
	return true
}

// AckDeadline returns when an acknowledgement is due, or the zero time if
// none is owed. A deadline at or before now means: send one now.
func (t *ReceivedTracker) AckDeadline() time.Time { return t.due }

// FillAck fills f with the largest packet received, how long ago it arrived
// (DelayMicros, from now) and the mask of the packets received below it. It
// returns false, leaving f untouched, if there is nothing to acknowledge.
// It does not change the tracker: call OnAckSent once the ACK is sent.
func (t *ReceivedTracker) FillAck(now time.Time, f *wire.AckFrame) bool {
	if !t.has || (!t.reportLargest && t.report.empty()) {
		return false
	}
	f.Largest = t.largest
	f.DelayMicros = uint64(max(now.Sub(t.largestAt), 0) / time.Microsecond)
	f.MaskLen = 0
	for w, v := range t.report {
		binary.LittleEndian.PutUint64(f.Mask[w*8:], v)
		if v != 0 {
			f.MaskLen = uint8(w*8 + (bits.Len64(v)+7)/8)
		}
	}
	return true
}

// OnAckSent records that an ACK filled by FillAck was sent: no
// acknowledgement is owed until the next ack-eliciting packet arrives. The
// history stays, so later ACKs repeat it.
func (t *ReceivedTracker) OnAckSent() {
	t.unacked = 0
	t.due = time.Time{}
	t.first = time.Time{}
}

// IgnoreBelow stops reporting packets below pn that were received so far.
// The connection calls it when the peer acknowledges a packet that carried
// an ACK frame whose Largest was pn-1 (the peer now knows about them; RFC
// 9000 §13.2.4), which keeps ACK frames short in steady state. A packet
// below pn that arrives later is reported again. It is an optimisation: at
// worst a packet is not acknowledged and the peer resends what it carried.
func (t *ReceivedTracker) IgnoreBelow(pn uint64) {
	if !t.has {
		return
	}
	if pn > t.largest {
		t.report = bitset{}
		t.reportLargest = false
		return
	}
	t.report.clearFrom(t.largest - pn)
}

// Largest returns the largest packet number received and whether any packet
// was received.
func (t *ReceivedTracker) Largest() (uint64, bool) { return t.largest, t.has }
