package wire

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteAcks is the set of packet numbers an ACK frame acknowledges, built
// from PROTOCOL.md §5 directly: largest, and largest-1-i for each set bit i
// (bit i%8 of byte i/8) that names a packet number >= 0.
func bruteAcks(largest uint64, mask []byte) map[uint64]bool {
	set := map[uint64]bool{largest: true}
	for i := range uint64(len(mask)) * 8 {
		if mask[i/8]>>(i%8)&1 == 1 && i+1 <= largest {
			set[largest-1-i] = true
		}
	}
	return set
}

func TestAckProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	largests := []uint64{0, 1, 7, 8, 9, 255, 256, 257, 1000, math.MaxUint64}
	for range 300 {
		largests = append(largests, rng.Uint64N(600), rng.Uint64())
	}
	for _, largest := range largests {
		var f AckFrame
		f.Largest = largest
		f.MaskLen = uint8(rng.IntN(MaxAckMaskBytes + 1))
		for i := range f.MaskLen {
			switch rng.IntN(3) {
			case 0:
				f.Mask[i] = 0xff
			case 1:
				f.Mask[i] = byte(rng.Uint32())
			}
		}
		// Bits past MaskLen must be ignored.
		for i := int(f.MaskLen); i < MaxAckMaskBytes; i++ {
			f.Mask[i] = 0xff
		}
		set := bruteAcks(largest, f.Mask[:f.MaskLen])

		// Every packet number from 300 below largest to 5 above (as far
		// as uint64 goes). Loops count steps so that none wraps.
		lo := largest - min(largest, 300)
		steps := largest - lo + min(math.MaxUint64-largest, 5)
		for k := range steps + 1 {
			pn := lo + k
			if got := f.Acks(pn); got != set[pn] {
				t.Fatalf("largest %d mask %x: Acks(%d) = %v, want %v", largest, f.Mask[:f.MaskLen], pn, got, set[pn])
			}
		}

		// Smallest: no acknowledged packet below it, and it is the
		// bottom of the range the mask covers.
		want := uint64(0)
		if span := uint64(f.MaskLen) * 8; largest > span {
			want = largest - span
		}
		if got := f.Smallest(); got != want {
			t.Fatalf("largest %d masklen %d: Smallest() = %d, want %d", largest, f.MaskLen, got, want)
		}
		for pn := range set {
			if pn < f.Smallest() {
				t.Fatalf("largest %d: Acks(%d) but Smallest() = %d", largest, pn, f.Smallest())
			}
		}
		// A full mask acknowledges exactly Smallest..Largest.
		g := f
		g.Mask = fullMask()
		for k := range largest - g.Smallest() + 1 {
			if pn := g.Smallest() + k; !g.Acks(pn) {
				t.Fatalf("largest %d full mask len %d: Acks(%d) false", largest, g.MaskLen, pn)
			}
		}
		if g.Smallest() > 0 && g.Acks(g.Smallest()-1) {
			t.Fatalf("largest %d full mask len %d: acks Smallest-1", largest, g.MaskLen)
		}

		// The encoding carries exactly that set.
		enc := AppendAck(nil, &f)
		var p Frame
		if _, err := ParseFrame(enc, &p); err != nil {
			t.Fatal(err)
		}
		for k := range largest - lo + 1 {
			if pn := lo + k; p.Ack.Acks(pn) != set[pn] {
				t.Fatalf("largest %d: parsed frame Acks(%d) = %v", largest, pn, p.Ack.Acks(pn))
			}
		}
	}
}

func TestAckMaskLenClamped(t *testing.T) {
	// A hand-built frame with MaskLen above the limit must not panic, and
	// Acks, Smallest, AckFrameLen and AppendAck must agree that only
	// MaxAckMaskBytes bytes count.
	f := AckFrame{Largest: 10000, MaskLen: 200, Mask: fullMask()}
	clamped := f
	clamped.MaskLen = MaxAckMaskBytes
	for pn := uint64(9000); pn <= 10000; pn++ {
		if f.Acks(pn) != clamped.Acks(pn) {
			t.Fatalf("Acks(%d) differs between MaskLen 200 and %d", pn, MaxAckMaskBytes)
		}
	}
	if f.Smallest() != clamped.Smallest() || f.Smallest() != 10000-8*MaxAckMaskBytes {
		t.Fatalf("Smallest() = %d, want %d", f.Smallest(), 10000-8*MaxAckMaskBytes)
	}
	enc := AppendAck(nil, &f)
	if len(enc) != AckFrameLen(&f) {
		t.Fatalf("AppendAck wrote %d bytes, AckFrameLen says %d", len(enc), AckFrameLen(&f))
	}
	var p Frame
	if _, err := ParseFrame(enc, &p); err != nil || p.Ack.MaskLen != MaxAckMaskBytes {
		t.Fatalf("parsed %+v, %v", p.Ack, err)
	}
}

func TestParseAckClearsStaleMask(t *testing.T) {
	var f Frame
	f.Ack.Mask = fullMask()
	enc := AppendAck(nil, &AckFrame{Largest: 100, MaskLen: 1, Mask: [MaxAckMaskBytes]byte{0x01}})
	if _, err := ParseFrame(enc, &f); err != nil {
		t.Fatal(err)
	}
	for i, c := range f.Ack.Mask[1:] {
		if c != 0 {
			t.Fatalf("Mask[%d] = %#x left over from before the parse", i+1, c)
		}
	}
}
