package ackhandler

import (
	"errors"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// ackOf builds an ACK frame for the given packet numbers (the largest first
// or anywhere; all within 256 of it).
func ackOf(pns ...uint64) *wire.AckFrame {
	f := &wire.AckFrame{}
	for _, pn := range pns {
		f.Largest = max(f.Largest, pn)
	}
	for _, pn := range pns {
		if pn == f.Largest {
			continue
		}
		i := f.Largest - 1 - pn
		f.Mask[i/8] |= 1 << (i % 8)
		f.MaskLen = max(f.MaskLen, uint8(i/8+1))
	}
	return f
}

// refCounter counts acked and lost callbacks per ref.
type refCounter struct {
	acked, lost map[int]int
}

func newRefCounter() *refCounter    { return &refCounter{acked: map[int]int{}, lost: map[int]int{}} }
func (c *refCounter) onAcked(r int) { c.acked[r]++ }
func (c *refCounter) onLost(r int)  { c.lost[r]++ }

func mustSend(t *testing.T, h *SentHistory[int], pn uint64, now time.Time, size int, eliciting bool, refs ...int) {
	t.Helper()
	if err := h.Sent(pn, now, size, eliciting, refs); err != nil {
		t.Fatalf("Sent(%d): %v", pn, err)
	}
}

const mad = 5 * time.Millisecond // the peer's max ack delay in these tests

func TestSentAckedOncePerRef(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	for pn := range uint64(10) {
		mustSend(t, h, pn, at(float64(pn)), 100, true, int(pn)*10, int(pn)*10+1)
	}
	if h.Len() != 10 || h.BytesInFlight() != 1000 {
		t.Fatalf("Len %d BytesInFlight %d", h.Len(), h.BytesInFlight())
	}
	// Acks arrive, overlap and repeat; 0..9 all acked in the end.
	for _, f := range []*wire.AckFrame{ackOf(0, 1), ackOf(0, 1, 2), ackOf(1, 2, 3, 4), ackOf(0, 1, 2, 3, 4), ackOf(5, 6, 7, 8, 9, 4, 3, 2, 1, 0)} {
		if _, err := h.OnAck(f, at(12), &rtt, mad, c.onAcked, c.onLost); err != nil {
			t.Fatal(err)
		}
	}
	for pn := range 10 {
		for _, r := range []int{pn * 10, pn*10 + 1} {
			if c.acked[r] != 1 || c.lost[r] != 0 {
				t.Fatalf("ref %d: acked %d times, lost %d times", r, c.acked[r], c.lost[r])
			}
		}
	}
	if h.Len() != 0 || h.BytesInFlight() != 0 {
		t.Fatalf("after all acked: Len %d BytesInFlight %d", h.Len(), h.BytesInFlight())
	}
	if !h.NextDeadline(&rtt, mad).IsZero() {
		t.Fatal("deadline armed with nothing in flight")
	}
}

func TestSentAckResult(t *testing.T) {
	h := NewSentHistory[int](0)
	var rtt RTT
	mustSend(t, h, 0, at(0), 100, true, 1)
	mustSend(t, h, 1, at(1), 50, false, 2) // non-eliciting with a ref: recorded, not in flight
	mustSend(t, h, 2, at(2), 30, false)    // neither: not recorded
	mustSend(t, h, 3, at(3), 200, true, 3)
	if h.Len() != 3 || h.BytesInFlight() != 300 {
		t.Fatalf("Len %d BytesInFlight %d, want 3 and 300", h.Len(), h.BytesInFlight())
	}
	res, err := h.OnAck(ackOf(1, 2, 3), at(13), &rtt, mad, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 0 is PacketThreshold below 3: lost.
	want := AckResult{AckedPackets: 2, AckedBytes: 200, LostPackets: 1, LostBytes: 100, RTTSampled: true}
	if res != want || !res.Loss() {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if rtt.Latest() != 10*time.Millisecond {
		t.Fatalf("RTT sample %v, want 10ms (sent at 3, acked at 13)", rtt.Latest())
	}
	if h.Len() != 0 || h.BytesInFlight() != 0 {
		t.Fatalf("Len %d BytesInFlight %d", h.Len(), h.BytesInFlight())
	}
	if l, ok := h.LargestAcked(); !ok || l != 3 {
		t.Fatalf("LargestAcked %d %v", l, ok)
	}
}

func TestSentRTTSampleRules(t *testing.T) {
	h := NewSentHistory[int](0)
	var rtt RTT
	mustSend(t, h, 0, at(0), 10, true, 0)
	mustSend(t, h, 1, at(1), 10, false, 1) // largest will be non-eliciting
	res, _ := h.OnAck(ackOf(0, 1), at(20), &rtt, mad, nil, nil)
	if res.RTTSampled || rtt.HasSample() {
		t.Fatal("sampled although the largest acknowledged was not ack-eliciting")
	}
	mustSend(t, h, 2, at(30), 10, true, 2)
	f := ackOf(2)
	f.DelayMicros = 1 << 62 // hostile: clamped to maxAckDelay
	res, _ = h.OnAck(f, at(50), &rtt, mad, nil, nil)
	if !res.RTTSampled || rtt.Latest() != 20*time.Millisecond {
		t.Fatalf("sample %v sampled %v, want 20ms", rtt.Latest(), res.RTTSampled)
	}
	mustSend(t, h, 3, at(60), 10, true, 3)
	f = ackOf(3)
	f.DelayMicros = 1 << 62
	h.OnAck(f, at(80), &rtt, mad, nil, nil)
	// Second sample 20 ms with ack delay clamped to 5 ms: adjusted 15 ms.
	var ref RTT
	ref.Update(20*time.Millisecond, 0)
	ref.Update(20*time.Millisecond, mad)
	if rtt.Smoothed() != ref.Smoothed() {
		t.Fatalf("smoothed %v, want %v (ack delay clamped to %v)", rtt.Smoothed(), ref.Smoothed(), mad)
	}
	// A repeated ACK of the same largest takes no new sample.
	res, _ = h.OnAck(ackOf(3), at(500), &rtt, mad, nil, nil)
	if res.RTTSampled || rtt.Latest() != 20*time.Millisecond {
		t.Fatal("repeated ACK took a sample")
	}
}

func TestSentPacketThreshold(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	rtt.Update(100*time.Millisecond, 0) // time threshold far away
	for pn := range uint64(6) {
		mustSend(t, h, pn, at(float64(pn)), 10, true, int(pn))
	}
	res, _ := h.OnAck(ackOf(4), at(10), &rtt, mad, c.onAcked, c.onLost)
	// 4-0 and 4-1 are >= 3: lost. 2 and 3 wait for the time threshold.
	if res.LostPackets != 2 || c.lost[0] != 1 || c.lost[1] != 1 || c.lost[2] != 0 || c.lost[3] != 0 || c.acked[4] != 1 {
		t.Fatalf("result %+v lost %v acked %v", res, c.lost, c.acked)
	}
	wantLoss := at(2).Add(lossDelay(&rtt)) // the oldest remaining below the largest acked
	if got := h.NextDeadline(&rtt, mad); !got.Equal(wantLoss) {
		t.Fatalf("NextDeadline %v, want loss time %v", got.Sub(t0), wantLoss.Sub(t0))
	}
	// Acknowledging 5 makes 2 lost by packet threshold, 3 still waits.
	h.OnAck(ackOf(5, 4), at(11), &rtt, mad, c.onAcked, c.onLost)
	if c.lost[2] != 1 || c.lost[3] != 0 {
		t.Fatalf("lost %v", c.lost)
	}
	// Spurious: an ACK of a packet already declared lost is ignored.
	res, err := h.OnAck(ackOf(5, 4, 3, 2, 1, 0), at(12), &rtt, mad, c.onAcked, c.onLost)
	if err != nil {
		t.Fatal(err)
	}
	if res.AckedPackets != 1 || c.acked[0]+c.acked[1]+c.acked[2] != 0 || c.acked[3] != 1 {
		t.Fatalf("spurious ack: result %+v acked %v", res, c.acked)
	}
	if h.Len() != 0 {
		t.Fatalf("Len %d", h.Len())
	}
}

func TestSentTimeThreshold(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	rtt.Update(8*time.Millisecond, 0) // loss delay 9 ms
	mustSend(t, h, 0, at(0), 10, true, 0)
	mustSend(t, h, 1, at(5), 10, true, 1)
	// 1 is acked at 13: 0 was sent 13 ms ago; max(srtt, latest) = 8 ms.
	h.OnAck(ackOf(1), at(13), &rtt, mad, c.onAcked, c.onLost)
	if c.lost[0] != 1 {
		t.Fatalf("packet 0 not lost by time threshold (loss delay %v)", lossDelay(&rtt))
	}

	// Now one that is not old enough yet at the ACK, lost later by OnTimeout.
	mustSend(t, h, 2, at(20), 10, true, 2)
	mustSend(t, h, 3, at(22), 10, true, 3)
	h.OnAck(ackOf(3), at(28), &rtt, mad, c.onAcked, c.onLost) // sample 6 ms; srtt ~7.75 ms
	if c.lost[2] != 0 {
		t.Fatal("packet 2 lost too early")
	}
	delay := lossDelay(&rtt)
	deadline := at(20).Add(delay)
	if got := h.NextDeadline(&rtt, mad); !got.Equal(deadline) {
		t.Fatalf("NextDeadline %v, want %v", got.Sub(t0), deadline.Sub(t0))
	}
	if n := h.OnTimeout(deadline.Add(-1), &rtt, mad, c.onLost); n != 0 || c.lost[2] != 0 {
		t.Fatal("OnTimeout before the loss time declared a loss")
	}
	if n := h.OnTimeout(deadline, &rtt, mad, c.onLost); n != 1 || c.lost[2] != 1 {
		t.Fatalf("OnTimeout at the loss time: %d lost, lost %v", n, c.lost)
	}
	if h.PTOBackoff() != 0 {
		t.Fatal("a time-threshold loss backed off the PTO")
	}
	if !h.NextDeadline(&rtt, mad).IsZero() {
		t.Fatal("deadline still armed")
	}
}

func TestSentPTOBackoff(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	rtt.Update(10*time.Millisecond, 0)
	pto := rtt.PTO(mad)
	now := at(0)
	pn := uint64(0)
	for i := range MaxPTOBackoff + 3 {
		mustSend(t, h, pn, now, 10, true, int(pn))
		want := now.Add(pto << min(i, MaxPTOBackoff))
		if got := h.NextDeadline(&rtt, mad); !got.Equal(want) {
			t.Fatalf("timeout %d: NextDeadline %v, want %v", i, got.Sub(now), want.Sub(now))
		}
		if n := h.OnTimeout(want.Add(-1), &rtt, mad, c.onLost); n != 0 {
			t.Fatalf("timeout %d: early OnTimeout declared %d lost", i, n)
		}
		if n := h.OnTimeout(want, &rtt, mad, c.onLost); n != 1 || c.lost[int(pn)] != 1 {
			t.Fatalf("timeout %d: OnTimeout declared %d lost", i, n)
		}
		if got := h.PTOBackoff(); got != min(i+1, MaxPTOBackoff) {
			t.Fatalf("backoff %d after %d timeouts", got, i+1)
		}
		now = want
		pn++
	}
	// An ACK that newly acknowledges a packet resets the backoff.
	mustSend(t, h, pn, now, 10, true, int(pn))
	h.OnAck(ackOf(pn-1), now, &rtt, mad, nil, nil) // already lost: not new
	if h.PTOBackoff() != MaxPTOBackoff {
		t.Fatal("an ACK of nothing new reset the backoff")
	}
	mustSend(t, h, pn+1, now, 10, true, int(pn+1))
	h.OnAck(ackOf(pn), now.Add(time.Millisecond), &rtt, mad, nil, nil)
	if h.PTOBackoff() != 0 {
		t.Fatalf("backoff %d after an ACK", h.PTOBackoff())
	}
	// The PTO is armed from the newest unacknowledged ack-eliciting packet.
	if got, want := h.NextDeadline(&rtt, mad), now.Add(rtt.PTO(mad)); !got.Equal(want) {
		t.Fatalf("NextDeadline %v, want %v", got.Sub(now), want.Sub(now))
	}
}

func TestSentPTODeclaresBurstLostTogether(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	rtt.Update(10*time.Millisecond, 0)
	for pn := range uint64(10) {
		mustSend(t, h, pn, at(float64(pn)*0.1), 10, true, int(pn))
	}
	mustSend(t, h, 10, at(1), 40, false) // ack-only after the burst: not recorded
	deadline := at(0.9).Add(rtt.PTO(mad))
	if got := h.NextDeadline(&rtt, mad); !got.Equal(deadline) {
		t.Fatalf("NextDeadline %v, want %v", got.Sub(t0), deadline.Sub(t0))
	}
	if n := h.OnTimeout(deadline, &rtt, mad, c.onLost); n != 10 || len(c.lost) != 10 {
		t.Fatalf("PTO declared %d lost (%d refs), want the whole burst", n, len(c.lost))
	}
	if h.Len() != 0 || h.BytesInFlight() != 0 || h.PTOBackoff() != 1 {
		t.Fatalf("Len %d BytesInFlight %d backoff %d", h.Len(), h.BytesInFlight(), h.PTOBackoff())
	}
}

func TestSentPTONonEliciting(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	mustSend(t, h, 0, at(0), 10, false, 7) // non-eliciting with a ref
	if !h.NextDeadline(&rtt, mad).IsZero() {
		t.Fatal("PTO armed without an ack-eliciting packet")
	}
	mustSend(t, h, 1, at(1), 10, true, 8)
	deadline := at(1).Add(rtt.PTO(mad))
	if n := h.OnTimeout(deadline, &rtt, mad, c.onLost); n != 2 || c.lost[7] != 1 || c.lost[8] != 1 {
		t.Fatalf("OnTimeout: %d lost, %v", n, c.lost)
	}
}

func TestSentErrAckUnsent(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	if _, err := h.OnAck(ackOf(0), at(0), &rtt, mad, c.onAcked, c.onLost); !errors.Is(err, ErrAckUnsent) {
		t.Fatalf("ACK before any packet: err %v", err)
	}
	mustSend(t, h, 0, at(0), 10, true, 0)
	mustSend(t, h, 1, at(0), 10, true, 1)
	mustSend(t, h, 2, at(0), 10, false) // ack-only: its acknowledgement is legitimate
	if _, err := h.OnAck(ackOf(2), at(1), &rtt, mad, c.onAcked, c.onLost); err != nil {
		t.Fatalf("ACK of an unrecorded sent packet: %v", err)
	}
	_, err := h.OnAck(ackOf(0, 1, 3), at(1), &rtt, mad, c.onAcked, c.onLost)
	if !errors.Is(err, ErrAckUnsent) {
		t.Fatalf("ACK of 3, never sent: err %v", err)
	}
	if len(c.acked) != 0 || h.Len() != 2 {
		t.Fatalf("a rejected ACK changed state: acked %v Len %d", c.acked, h.Len())
	}
}

func TestSentPacketNumberOrder(t *testing.T) {
	h := NewSentHistory[int](0)
	mustSend(t, h, 5, at(0), 10, true, 0)
	for _, pn := range []uint64{5, 4} {
		for _, elicit := range []bool{true, false} {
			if err := h.Sent(pn, at(0), 10, elicit, nil); !errors.Is(err, ErrPacketNumber) {
				t.Fatalf("Sent(%d, eliciting %v) after 5: err %v", pn, elicit, err)
			}
		}
	}
	if h.Len() != 1 {
		t.Fatalf("Len %d", h.Len())
	}
}

func TestSentCapacity(t *testing.T) {
	const capacity = 8
	h := NewSentHistory[int](capacity)
	c := newRefCounter()
	var rtt RTT
	if h.Cap() != capacity {
		t.Fatalf("Cap %d", h.Cap())
	}
	for pn := range uint64(capacity) {
		if h.Full() {
			t.Fatalf("Full after %d records", pn)
		}
		mustSend(t, h, pn, at(0), 10, true, int(pn))
	}
	if !h.Full() {
		t.Fatal("not Full at capacity")
	}
	if err := h.Sent(capacity, at(0), 10, true, []int{99}); !errors.Is(err, ErrHistoryFull) {
		t.Fatalf("Sent when full: err %v", err)
	}
	if err := h.Sent(capacity, at(0), 10, false, []int{99}); !errors.Is(err, ErrHistoryFull) {
		t.Fatalf("Sent with refs when full: err %v", err)
	}
	// Ack-only packets need no record and are still allowed.
	mustSend(t, h, capacity, at(0), 10, false)
	// Acknowledging a packet in the middle frees no room: 0 still encloses it.
	h.OnAck(ackOf(1), at(1), &rtt, mad, c.onAcked, c.onLost)
	if !h.Full() {
		t.Fatal("room freed in the middle of the ring")
	}
	// Acknowledging the oldest does.
	h.OnAck(ackOf(0), at(1), &rtt, mad, c.onAcked, c.onLost)
	if h.Full() || h.Len() != capacity-2 {
		t.Fatalf("Full %v Len %d after acking the two oldest", h.Full(), h.Len())
	}
	mustSend(t, h, capacity+1, at(2), 10, true, 100)
	mustSend(t, h, capacity+2, at(2), 10, true, 101)
	if !h.Full() {
		t.Fatal("not Full again")
	}
	// Wrapped around: everything still resolves exactly once.
	h.OnAck(ackOf(2, 3, 4, 5, 6, 7, 8, 9, 10), at(3), &rtt, mad, c.onAcked, c.onLost)
	for _, r := range []int{0, 1, 2, 3, 4, 5, 6, 7, 100, 101} {
		if c.acked[r] != 1 {
			t.Fatalf("ref %d acked %d times", r, c.acked[r])
		}
	}
	if h.Len() != 0 || h.Full() {
		t.Fatalf("Len %d Full %v", h.Len(), h.Full())
	}
}

func TestSentRefsCopied(t *testing.T) {
	h := NewSentHistory[int](0)
	c := newRefCounter()
	var rtt RTT
	refs := []int{1, 2, 3}
	mustSend(t, h, 0, at(0), 10, true, refs...)
	refs[0] = 42
	h.OnAck(ackOf(0), at(1), &rtt, mad, c.onAcked, c.onLost)
	if c.acked[1] != 1 || c.acked[42] != 0 {
		t.Fatalf("refs not copied: %v", c.acked)
	}
}

// TestSentSteadyStateAllocs sends and acknowledges packets with refs past the
// ring's growth and checks that a Sent+OnAck cycle allocates nothing.
func TestSentSteadyStateAllocs(t *testing.T) {
	h := NewSentHistory[int](256)
	var rtt RTT
	var sum int
	acked := func(r int) { sum += r }
	refs := []int{1, 2, 3, 4}
	var f wire.AckFrame
	pn := uint64(0)
	now := at(0)
	cycle := func() {
		h.Sent(pn, now, 1200, true, refs)
		now = now.Add(time.Millisecond)
		if pn >= 20 { // ack with a lag of 20 packets, one missing in 16
			f = wire.AckFrame{Largest: pn - 20, MaskLen: 2, Mask: [32]byte{0xff, 0x7f}}
			if _, err := h.OnAck(&f, now, &rtt, mad, acked, acked); err != nil {
				t.Fatal(err)
			}
		}
		pn++
	}
	for range 1000 {
		cycle()
	}
	if n := testing.AllocsPerRun(1000, cycle); n != 0 {
		t.Fatalf("Sent+OnAck allocates %v times per packet", n)
	}
	if n := testing.AllocsPerRun(100, func() { h.NextDeadline(&rtt, mad); h.OnTimeout(now, &rtt, mad, acked) }); n != 0 {
		t.Fatalf("NextDeadline+OnTimeout allocates %v times", n)
	}
	if sum == 0 {
		t.Fatal("callbacks never ran")
	}
}

func BenchmarkSentOnAck(b *testing.B) {
	h := NewSentHistory[int](0)
	var rtt RTT
	acked := func(int) {}
	refs := []int{1, 2, 3, 4}
	var f wire.AckFrame
	now := at(0)
	b.ReportAllocs()
	pn := uint64(0)
	for b.Loop() {
		h.Sent(pn, now, 1200, true, refs)
		now = now.Add(100 * time.Microsecond)
		if pn >= 20 {
			f = wire.AckFrame{Largest: pn - 20, MaskLen: 2, Mask: [32]byte{0xff, 0xff}}
			h.OnAck(&f, now, &rtt, mad, acked, acked)
		}
		pn++
	}
}

func TestSentCapacityFreedAtTheNewestEnd(t *testing.T) {
	h := NewSentHistory[int](4)
	var rtt RTT
	rtt.Update(time.Second, 0) // no time-threshold losses
	for pn := range uint64(4) {
		mustSend(t, h, pn, at(0), 10, true, int(pn))
	}
	// 0 is lost (3 below 3), 2 and 3 acknowledged, 1 stays: one record.
	h.OnAck(ackOf(2, 3), at(1), &rtt, mad, nil, nil)
	if h.Len() != 1 {
		t.Fatalf("Len %d, want 1", h.Len())
	}
	for pn := uint64(4); pn < 7; pn++ {
		if h.Full() {
			t.Fatalf("Full with %d live records of 4", h.Len())
		}
		mustSend(t, h, pn, at(2), 10, true, int(pn))
	}
	if !h.Full() {
		t.Fatal("not Full with 4 live records")
	}
}

func TestSentPTOClearsLossTime(t *testing.T) {
	h := NewSentHistory[int](0)
	var rtt RTT
	for range 20 {
		rtt.Update(10*time.Millisecond, 0)
	}
	rtt.Update(100*time.Millisecond, 0) // latest far above smoothed: long loss delay
	mustSend(t, h, 0, at(0), 10, true, 0)
	mustSend(t, h, 1, at(0.1), 10, false, 1)
	h.OnAck(ackOf(1), at(1), &rtt, 0, nil, nil) // 0 not lost yet: loss time armed
	lossTime := at(0).Add(lossDelay(&rtt))
	pto := at(0).Add(rtt.PTO(0))
	if !pto.Before(lossTime) {
		t.Fatalf("setup: PTO %v not before loss time %v", pto.Sub(t0), lossTime.Sub(t0))
	}
	if got := h.NextDeadline(&rtt, 0); !got.Equal(pto) {
		t.Fatalf("NextDeadline %v, want PTO %v", got.Sub(t0), pto.Sub(t0))
	}
	if n := h.OnTimeout(pto, &rtt, 0, nil); n != 1 {
		t.Fatalf("PTO declared %d lost", n)
	}
	if d := h.NextDeadline(&rtt, 0); !d.IsZero() {
		t.Fatalf("NextDeadline %v with nothing in flight", d.Sub(t0))
	}
}
