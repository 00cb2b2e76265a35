package wire

import (
	"math/rand/v2"
	"testing"
)

func TestExpandPNTable(t *testing.T) {
	const w = uint64(1) << 32
	tests := []struct {
		name      string
		largest   uint64
		have      bool
		truncated uint32
		want      uint64
	}{
		{"nothing yet, first packet", 0, false, 0, 0},
		{"nothing yet, packet 5", 0, false, 5, 5},
		{"nothing yet, largest truncated", 0, false, 0xffffffff, 0xffffffff},
		{"after 0, next", 0, true, 1, 1},
		{"after 0, old 0 again", 0, true, 0, 0},
		{"near 0 the window cannot go below 0", 10, true, 0xfffffff0, 0xfffffff0},
		{"in order", 1000, true, 1001, 1001},
		{"reordered a little", 1000, true, 990, 990},
		// RFC 9000 A.3's example scaled: the truncated value wraps across a
		// multiple of 2^32 going up.
		{"wrap up across 2^32", w - 2, true, 3, w + 3},
		{"wrap up across 2^33", 2*w - 1, true, 0, 2 * w},
		// ... and going down: a late packet from before the wrap.
		{"wrap down across 2^32", w + 2, true, 0xfffffffe, w - 2},
		{"wrap down across 2^33", 2*w + 5, true, 0xffffff00, 2*w - 0x100},
		// The half-window edges: expected = largest+1; a value exactly
		// 2^31 above expected stays above, exactly 2^31 below moves up.
		{"expected+2^31 stays", 0x1_0000_0000, true, 0x8000_0001, 0x1_8000_0001},
		{"expected-2^31 moves up", 0x1_8000_0000, true, 0x0000_0001, 0x2_0000_0001},
		{"expected-2^31+1 stays", 0x1_8000_0000, true, 0x0000_0002, 0x1_0000_0002},
		// Near the 2^62 limit (PROTOCOL.md §3: closed before 2^62).
		{"near 2^62 in order", MaxPacketNumber - 10, true, 0xfffffff7, MaxPacketNumber - 9},
		{"near 2^62 last number", MaxPacketNumber - 2, true, 0xffffffff, MaxPacketNumber - 1},
		{"near 2^62 late packet", MaxPacketNumber - 2, true, 0x7fff_ffff, MaxPacketNumber - w + 0x7fff_ffff},
		{"near 2^62 no wrap past limit", MaxPacketNumber - 2, true, 0, MaxPacketNumber - w},
	}
	for _, tt := range tests {
		got := ExpandPN(tt.largest, tt.have, tt.truncated)
		if got != tt.want {
			t.Errorf("%s: ExpandPN(%#x, %v, %#x) = %#x, want %#x",
				tt.name, tt.largest, tt.have, tt.truncated, got, tt.want)
		}
	}
}

// checkExpand asserts the property for one largest and true packet number.
func checkExpand(t *testing.T, largest, pn uint64) {
	t.Helper()
	if got := ExpandPN(largest, true, uint32(pn)); got != pn {
		t.Fatalf("ExpandPN(%#x, true, %#x) = %#x, want %#x", largest, uint32(pn), got, pn)
	}
}

func TestExpandPNProperty(t *testing.T) {
	// For any largest L and any true pn < 2^62 with
	// L+1-2^31 < pn <= L+1+2^31, the truncated value expands back to pn.
	const hwin = uint64(1) << 31
	rng := rand.New(rand.NewPCG(1, 2))
	largests := []uint64{0, 1, hwin - 2, hwin - 1, hwin, 1<<32 - 1, 1 << 32, 1<<32 + 1,
		MaxPacketNumber - 1<<32 - 1, MaxPacketNumber - hwin - 1, MaxPacketNumber - 3, MaxPacketNumber - 2}
	for range 2000 {
		largests = append(largests, rng.Uint64N(MaxPacketNumber-1))
	}
	for _, l := range largests {
		expected := l + 1
		lo := uint64(0) // smallest pn in the window
		if expected >= hwin {
			lo = expected - hwin + 1
		}
		hi := min(expected+hwin, MaxPacketNumber-1) // largest
		// The edges of the window, the expected value, and random picks.
		for _, pn := range []uint64{lo, lo + 1, expected, hi - 1, hi, l} {
			if pn >= lo && pn <= hi {
				checkExpand(t, l, pn)
			}
		}
		for range 50 {
			checkExpand(t, l, lo+rng.Uint64N(hi-lo+1))
		}
		// Just outside the low edge the RFC picks the value 2^32 above.
		if expected >= hwin && expected-hwin+(1<<32) < MaxPacketNumber {
			pn := expected - hwin
			if got := ExpandPN(l, true, uint32(pn)); got != pn+1<<32 {
				t.Fatalf("ExpandPN(%#x, true, %#x) = %#x, want %#x (outside the window)", l, uint32(pn), got, pn+1<<32)
			}
		}
	}
}

func TestExpandPNBelowLimit(t *testing.T) {
	// With largest+1 < 2^62, no truncated value expands to 2^62 or more.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		l := MaxPacketNumber - 2 - rng.Uint64N(1<<34)
		if got := ExpandPN(l, true, rng.Uint32()); got >= MaxPacketNumber {
			t.Fatalf("ExpandPN(%#x, ...) = %#x >= 2^62", l, got)
		}
	}
}

func BenchmarkExpandPN(b *testing.B) {
	var sink uint64
	for i := 0; b.Loop(); i++ {
		sink += ExpandPN(uint64(i)+1<<32, true, uint32(i))
	}
	_ = sink
}
