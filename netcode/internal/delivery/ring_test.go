package delivery

import "testing"

func TestRingFIFOAcrossGrowth(t *testing.T) {
	var q ring[int]
	next, want := 0, 0
	// Interleave pushes and pops so the head wraps while the buffer grows.
	for round := range 50 {
		for range round % 7 * 3 {
			q.push(next)
			next++
		}
		for range round % 5 {
			if q.len() == 0 {
				break
			}
			if f := q.front(); f != want {
				t.Fatalf("front %d, want %d", f, want)
			}
			if v := q.pop(); v != want {
				t.Fatalf("pop %d, want %d", v, want)
			}
			want++
		}
		if q.len() != next-want {
			t.Fatalf("len %d, want %d", q.len(), next-want)
		}
	}
	q.clear()
	if q.len() != 0 {
		t.Fatal("clear left elements")
	}
	q.push(42)
	if q.pop() != 42 {
		t.Fatal("ring unusable after clear")
	}
}

func TestRingPopZeroesSlot(t *testing.T) {
	var q ring[*int]
	x := 1
	q.push(&x)
	q.pop()
	for _, p := range q.buf {
		if p != nil {
			t.Fatal("popped slot still references its element")
		}
	}
}
