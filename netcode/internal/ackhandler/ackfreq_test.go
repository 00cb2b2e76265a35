package ackhandler

import (
	"testing"
	"time"
)

// TestAckFrequency: with SetAckFrequency, in-order ack-eliciting packets
// are acknowledged once per `every` (or MaxAckDelay after the first of
// them), a gap is acknowledged at once and the packets after it every
// second one, and the connection's first packets at once.
func TestAckFrequency(t *testing.T) {
	const delay = 25 * time.Millisecond
	// A bulk receiver's ack frequency (netcode measured it, and keeps 2).
	const AckEveryPackets, RecoveryPackets = 10, 20
	newTracker := func() *ReceivedTracker {
		tr := NewReceivedTracker(delay)
		tr.SetAckFrequency(AckEveryPackets, RecoveryPackets, FirstAckedPackets)
		return tr
	}
	// immediate feeds pns (ack-eliciting, 1 ms apart from ms), sends the
	// ACK whenever one is due at once, and returns how many were, and the
	// last arrival's time.
	immediate := func(tr *ReceivedTracker, pns []uint64, ms float64) (int, float64) {
		n := 0
		for _, pn := range pns {
			ms++
			tr.Received(pn, true, at(ms))
			if d := tr.AckDeadline(); !d.IsZero() && !d.After(at(ms)) {
				n++
				tr.OnAckSent()
			}
		}
		return n, ms
	}
	seq := func(from, to uint64) []uint64 {
		var s []uint64
		for pn := from; pn < to; pn++ {
			s = append(s, pn)
		}
		return s
	}

	tr := newTracker()
	n, ms := immediate(tr, seq(0, FirstAckedPackets), 0)
	if n != FirstAckedPackets {
		t.Fatalf("first %d packets: %d immediate ACKs, want one each", FirstAckedPackets, n)
	}
	n, ms = immediate(tr, seq(FirstAckedPackets, FirstAckedPackets+10*AckEveryPackets), ms)
	if n != 10 {
		t.Fatalf("%d in-order packets: %d immediate ACKs, want 10 (one per %d)", 10*AckEveryPackets, n, AckEveryPackets)
	}
	// One packet more: delayed by MaxAckDelay, not acknowledged at once.
	next := uint64(FirstAckedPackets + 10*AckEveryPackets)
	tr.Received(next, true, at(ms+1))
	if got, want := tr.AckDeadline(), at(ms+1).Add(delay); !got.Equal(want) {
		t.Fatalf("single packet: AckDeadline %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	tr.OnAckSent()
	ms++
	// A gap (next+1 lost): the packet after it at once, then every second
	// one for RecoveryPackets, then every AckEveryPackets again.
	tr.Received(next+2, true, at(ms+1))
	if d := tr.AckDeadline(); !d.Equal(at(ms + 1)) {
		t.Fatalf("gap: AckDeadline %v, want now", d.Sub(t0))
	}
	tr.OnAckSent()
	ms++
	n, ms = immediate(tr, seq(next+3, next+2+RecoveryPackets), ms)
	if want := (RecoveryPackets - 1) / 2; n != want {
		t.Fatalf("after a gap: %d immediate ACKs in %d packets, want %d (every second)", n, RecoveryPackets-1, want)
	}
	from := next + 2 + RecoveryPackets
	n, _ = immediate(tr, seq(from, from+3*AckEveryPackets), ms)
	if n != 3 {
		t.Fatalf("recovered: %d immediate ACKs in %d packets, want 3", n, 3*AckEveryPackets)
	}
}
