package ackhandler

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

// checkAckAgainstSet fails unless f acknowledges exactly the packets of want
// within the frame's reach (Largest-256..Largest) and nothing else.
func checkAckAgainstSet(t *testing.T, f *wire.AckFrame, want map[uint64]bool) {
	t.Helper()
	if !want[f.Largest] {
		t.Fatalf("Largest %d was not received", f.Largest)
	}
	for pn := range want {
		if pn > f.Largest {
			t.Fatalf("received %d above Largest %d", pn, f.Largest)
		}
	}
	lo := uint64(0)
	if f.Largest >= AckRange-1 {
		lo = f.Largest - (AckRange - 1)
	}
	for pn := lo; pn <= f.Largest; pn++ {
		if got := f.Acks(pn); got != want[pn] {
			t.Fatalf("Acks(%d) = %v, received = %v (Largest %d, MaskLen %d)", pn, got, want[pn], f.Largest, f.MaskLen)
		}
	}
	if lo > 0 && f.Acks(lo-1) {
		t.Fatalf("acks %d, beyond the window", lo-1)
	}
	if f.MaskLen > 0 && f.Mask[f.MaskLen-1] == 0 {
		t.Fatalf("MaskLen %d not minimal: last byte is zero", f.MaskLen)
	}
	for i := int(f.MaskLen); i < wire.MaxAckMaskBytes; i++ {
		if f.Mask[i] != 0 {
			t.Fatalf("mask byte %d beyond MaskLen %d is %#x", i, f.MaskLen, f.Mask[i])
		}
	}
}

func TestReceivedInOrder(t *testing.T) {
	tr := NewReceivedTracker(0)
	var f wire.AckFrame
	if tr.FillAck(at(0), &f) {
		t.Fatal("FillAck true before any packet")
	}
	want := map[uint64]bool{}
	for pn := range uint64(10) {
		if !tr.Received(pn, true, at(float64(pn))) {
			t.Fatalf("Received(%d) = false", pn)
		}
		want[pn] = true
	}
	if !tr.FillAck(at(9.5), &f) {
		t.Fatal("FillAck false")
	}
	if f.Largest != 9 || f.MaskLen != 2 || f.Mask[0] != 0xff || f.Mask[1] != 0x01 {
		t.Fatalf("ack = largest %d masklen %d mask % x", f.Largest, f.MaskLen, f.Mask[:2])
	}
	if f.DelayMicros != 500 {
		t.Fatalf("DelayMicros = %d, want 500 (arrival of 9 at 9 ms, now 9.5 ms)", f.DelayMicros)
	}
	checkAckAgainstSet(t, &f, want)
}

func TestReceivedGapsAndReordering(t *testing.T) {
	tr := NewReceivedTracker(0)
	want := map[uint64]bool{}
	var f wire.AckFrame
	for i, pn := range []uint64{0, 1, 3, 5, 4, 20, 2, 19, 12} {
		tr.Received(pn, true, at(float64(i)))
		want[pn] = true
		if !tr.FillAck(at(float64(i)), &f) {
			t.Fatal("FillAck false")
		}
		checkAckAgainstSet(t, &f, want)
	}
}

func TestReceivedDuplicates(t *testing.T) {
	tr := NewReceivedTracker(0)
	tr.Received(5, true, at(0))
	tr.Received(3, true, at(1))
	tr.OnAckSent()
	for _, pn := range []uint64{5, 3} {
		if tr.Received(pn, true, at(2)) {
			t.Fatalf("duplicate %d reported new", pn)
		}
	}
	if !tr.AckDeadline().IsZero() {
		t.Fatal("a duplicate made an ack owed")
	}
	var f wire.AckFrame
	tr.FillAck(at(2), &f)
	if f.DelayMicros != 2000 {
		t.Fatalf("duplicate of the largest moved its arrival time: delay %dus", f.DelayMicros)
	}
}

func TestReceivedFarBehind(t *testing.T) {
	tr := NewReceivedTracker(0)
	tr.Received(300, false, at(0))
	if tr.Received(300-AckRange, true, at(1)) { // 257 behind: beyond the window
		t.Fatal("packet 257 behind the largest was recorded")
	}
	if !tr.AckDeadline().IsZero() {
		t.Fatal("an unrecordable packet made an ack owed")
	}
	if !tr.Received(300-(AckRange-1), true, at(1)) { // 256 behind: last bit
		t.Fatal("packet 256 behind the largest was not recorded")
	}
	var f wire.AckFrame
	tr.FillAck(at(1), &f)
	checkAckAgainstSet(t, &f, map[uint64]bool{300: true, 300 - (AckRange - 1): true})
	if f.MaskLen != wire.MaxAckMaskBytes {
		t.Fatalf("MaskLen %d, want %d", f.MaskLen, wire.MaxAckMaskBytes)
	}

	// A jump of more than the window forgets everything below.
	tr.Received(300+1000, true, at(2))
	tr.FillAck(at(2), &f)
	checkAckAgainstSet(t, &f, map[uint64]bool{1300: true})
	// And a jump of exactly the window keeps the old largest in the last bit.
	tr.Received(1300+AckRange-1, true, at(3))
	tr.FillAck(at(3), &f)
	checkAckAgainstSet(t, &f, map[uint64]bool{1300: true, 1300 + AckRange - 1: true})
}

func TestReceivedAckDeadline(t *testing.T) {
	const delay = 7 * time.Millisecond
	type arrival struct {
		pn        uint64
		eliciting bool
		ms        float64
	}
	tests := []struct {
		name     string
		arrivals []arrival
		want     time.Time // zero: none owed
	}{
		{"nothing", nil, time.Time{}},
		{"non-eliciting only", []arrival{{0, false, 0}, {1, false, 1}}, time.Time{}},
		{"one eliciting in order", []arrival{{0, true, 2}}, at(2).Add(delay)},
		{"non-eliciting then eliciting", []arrival{{0, false, 0}, {1, true, 3}}, at(3).Add(delay)},
		{"two eliciting: immediately", []arrival{{0, true, 1}, {1, true, 4}}, at(4)},
		{"eliciting plus non-eliciting stays delayed", []arrival{{0, true, 1}, {1, false, 2}}, at(1).Add(delay)},
		{"gap: immediately", []arrival{{0, false, 0}, {2, true, 1}}, at(1)},
		{"gap after an owed ack: immediately", []arrival{{0, true, 0}, {1, false, 1}, {3, true, 2}}, at(2)},
		{"first packet not 0: immediately", []arrival{{3, true, 1}}, at(1)},
		{"reordered: immediately", []arrival{{0, false, 0}, {2, false, 1}, {1, true, 2}}, at(2)},
		{"non-eliciting gap: not immediate", []arrival{{0, true, 0}, {5, false, 1}}, at(0).Add(delay)},
		{"earlier deadline kept", []arrival{{0, true, 0}, {1, true, 20}}, at(0).Add(delay)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewReceivedTracker(delay)
			for _, a := range tt.arrivals {
				tr.Received(a.pn, a.eliciting, at(a.ms))
			}
			if got := tr.AckDeadline(); !got.Equal(tt.want) {
				t.Fatalf("AckDeadline = %v, want %v", got.Sub(t0), tt.want.Sub(t0))
			}
		})
	}
}

func TestReceivedOnAckSent(t *testing.T) {
	tr := NewReceivedTracker(0)
	if tr.MaxAckDelay() != DefaultMaxAckDelay {
		t.Fatalf("default MaxAckDelay = %v", tr.MaxAckDelay())
	}
	tr.Received(0, true, at(0))
	tr.Received(1, true, at(1))
	tr.OnAckSent()
	if !tr.AckDeadline().IsZero() {
		t.Fatal("ack still owed after OnAckSent")
	}
	// One more in-order packet: delayed again, counted from its arrival.
	tr.Received(2, true, at(10))
	if got, want := tr.AckDeadline(), at(10).Add(DefaultMaxAckDelay); !got.Equal(want) {
		t.Fatalf("AckDeadline = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	// The history survives OnAckSent: the next ACK repeats 0 and 1.
	var f wire.AckFrame
	tr.FillAck(at(11), &f)
	checkAckAgainstSet(t, &f, map[uint64]bool{0: true, 1: true, 2: true})
}

func TestReceivedFillAckMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		tr := NewReceivedTracker(0)
		got := map[uint64]bool{}
		var largest uint64
		var f wire.AckFrame
		next := uint64(rng.IntN(3))
		for i := range 2000 {
			var pn uint64
			switch r := rng.IntN(10); {
			case r < 6: // mostly forward, with gaps
				pn = next
				next += 1 + uint64(rng.IntN(3))
			case r < 9 && next > 0: // reordered, sometimes beyond the window
				pn = next - 1 - uint64(rng.IntN(300))%next
			default: // a jump
				pn = next + uint64(rng.IntN(400))
				next = pn + 1
			}
			isNew := !got[pn] && (len(got) == 0 || pn+AckRange > largest)
			if rec := tr.Received(pn, rng.IntN(2) == 0, at(float64(i))); rec != isNew {
				t.Fatalf("round %d: Received(%d) = %v, want %v (largest %d)", round, pn, rec, isNew, largest)
			}
			if isNew {
				got[pn] = true
				largest = max(largest, pn)
			}
			if !tr.FillAck(at(float64(i)), &f) {
				t.Fatal("FillAck false")
			}
			checkAckAgainstSet(t, &f, got)
		}
	}
}

func TestReceivedIgnoreBelow(t *testing.T) {
	tr := NewReceivedTracker(0)
	tr.IgnoreBelow(5) // before anything: no effect
	for pn := range uint64(20) {
		if pn != 12 {
			tr.Received(pn, true, at(float64(pn)))
		}
	}
	var f wire.AckFrame
	tr.FillAck(at(20), &f)
	if f.MaskLen != 3 {
		t.Fatalf("MaskLen %d before IgnoreBelow, want 3", f.MaskLen)
	}
	tr.IgnoreBelow(15) // the peer has our ACK with Largest 14
	tr.FillAck(at(20), &f)
	want := map[uint64]bool{15: true, 16: true, 17: true, 18: true, 19: true}
	checkAckAgainstSet(t, &f, want)
	if f.MaskLen != 1 {
		t.Fatalf("MaskLen %d after IgnoreBelow(15), want 1", f.MaskLen)
	}
	// A late packet below the floor is reported again.
	tr.Received(12, true, at(21))
	tr.FillAck(at(21), &f)
	want[12] = true
	checkAckAgainstSet(t, &f, want)

	// Passing the largest: nothing left to report until a new packet.
	tr.IgnoreBelow(20)
	if tr.FillAck(at(22), &f) {
		t.Fatalf("FillAck true with nothing new: %+v", f)
	}
	tr.Received(21, false, at(23))
	tr.FillAck(at(23), &f)
	checkAckAgainstSet(t, &f, map[uint64]bool{21: true})
	if l, ok := tr.Largest(); !ok || l != 21 {
		t.Fatalf("Largest = %d, %v", l, ok)
	}
	// Duplicates of ignored packets are still duplicates.
	if tr.Received(3, true, at(24)) || tr.Received(19, true, at(24)) {
		t.Fatal("duplicate of an ignored packet reported new")
	}
}

func TestReceivedAllocs(t *testing.T) {
	tr := NewReceivedTracker(0)
	var f wire.AckFrame
	pn := uint64(0)
	n := testing.AllocsPerRun(1000, func() {
		tr.Received(pn, true, at(float64(pn)))
		pn += 1 + pn%3
		tr.FillAck(at(float64(pn)), &f)
		tr.OnAckSent()
	})
	if n != 0 {
		t.Fatalf("Received+FillAck allocates %v times", n)
	}
}

func BenchmarkFillAck(b *testing.B) {
	tr := NewReceivedTracker(0)
	for pn := range uint64(300) {
		if pn%7 != 0 {
			tr.Received(pn, true, t0)
		}
	}
	var f wire.AckFrame
	b.ReportAllocs()
	for b.Loop() {
		tr.FillAck(t0, &f)
	}
}

func BenchmarkReceived(b *testing.B) {
	tr := NewReceivedTracker(0)
	b.ReportAllocs()
	pn := uint64(0)
	for b.Loop() {
		tr.Received(pn, true, t0)
		pn++
	}
}
