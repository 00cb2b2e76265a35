package linkcond

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDelayLinePopsInDueThenArrivalOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h delayLine
	var want []packet
	for seq := range uint64(2000) {
		p := packet{due: rng.Int64N(50), seq: seq}
		want = append(want, p)
		h.push(p)
		if rng.IntN(4) == 0 { // interleave pops with pushes
			got := h.pop()
			i := 0 // the earliest by (due, seq), by linear scan
			for j, q := range want {
				if q.due < want[i].due || q.due == want[i].due && q.seq < want[i].seq {
					i = j
				}
			}
			if got.due != want[i].due || got.seq != want[i].seq {
				t.Fatalf("pop = (%d,%d), want (%d,%d)", got.due, got.seq, want[i].due, want[i].seq)
			}
			want = slices.Delete(want, i, i+1)
		}
	}
	slices.SortFunc(want, func(a, b packet) int {
		if a.due != b.due {
			return int(a.due - b.due)
		}
		return int(a.seq) - int(b.seq)
	})
	for _, w := range want {
		if got := h.pop(); got.due != w.due || got.seq != w.seq {
			t.Fatalf("pop = (%d,%d), want (%d,%d)", got.due, got.seq, w.due, w.seq)
		}
	}
	if h.len() != 0 {
		t.Fatalf("len = %d after popping everything", h.len())
	}
}

func TestDelayLinePushReportsNewEarliest(t *testing.T) {
	var h delayLine
	if !h.push(packet{due: 10, seq: 1}) {
		t.Error("first push is the earliest")
	}
	if h.push(packet{due: 10, seq: 2}) {
		t.Error("an equal due time arriving later is not the earliest")
	}
	if !h.push(packet{due: 5, seq: 3}) {
		t.Error("an earlier due time is the earliest")
	}
}

func TestFIFOWrapsAndGrows(t *testing.T) {
	var q fifo
	next, out := uint64(0), uint64(0)
	for round := range 100 {
		for range round % 37 {
			q.push(packet{seq: next})
			next++
		}
		for range round % 23 {
			if q.len() == 0 {
				break
			}
			if p := q.pop(); p.seq != out {
				t.Fatalf("pop = %d, want %d", p.seq, out)
			}
			out++
		}
	}
	for q.len() > 0 {
		if p := q.pop(); p.seq != out {
			t.Fatalf("pop = %d, want %d", p.seq, out)
		}
		out++
	}
	if out != next {
		t.Fatalf("popped %d, pushed %d", out, next)
	}
}

func TestFreeListRecyclesAndBounds(t *testing.T) {
	var f freeList
	b := f.get(100)
	if len(b) != 100 || cap(b) < minBufCap {
		t.Fatalf("get(100): len %d cap %d", len(b), cap(b))
	}
	f.put(b)
	if c := f.get(50); &c[:1][0] != &b[:1][0] {
		t.Error("a returned buffer was not reused")
	}
	big := f.get(minBufCap * 4)
	if len(big) != minBufCap*4 {
		t.Fatalf("get(big) len %d", len(big))
	}
	for range maxFreeBufs + 10 {
		f.put(make([]byte, 1))
	}
	if len(f.bufs) != maxFreeBufs {
		t.Fatalf("free list holds %d, want the bound %d", len(f.bufs), maxFreeBufs)
	}
}

func TestBandwidthArithmetic(t *testing.T) {
	if got := serialisation(1000, 3000); got != 333333334 {
		t.Errorf("serialisation(1000, 3000) = %d, want 333333334 (rounded up)", got)
	}
	if got := backlogBytes(333333334, 3000); got != 1000 {
		t.Errorf("backlogBytes = %d, want 1000", got)
	}
	if got := backlogBytes(-5, 3000); got != 0 {
		t.Errorf("backlogBytes(negative) = %d, want 0", got)
	}
	if got := backlogBytes(1<<62, 1<<40); got < 1<<62 {
		t.Errorf("backlogBytes overflowed to %d", got)
	}
}

func TestZeroDirectionDrawsNoRandomNumbers(t *testing.T) {
	m := newModel(1, 1)
	ref := newModel(1, 1)
	var d Direction
	for i := range 100 {
		v := m.decide(&d, int64(i), 100)
		if v.drop != keep || v.copies != 1 || v.due[0] != int64(i) || v.reordered {
			t.Fatalf("zero direction verdict %+v", v)
		}
	}
	if m.rng.Uint64() != ref.rng.Uint64() {
		t.Error("a zero Direction consumed random numbers")
	}
}
