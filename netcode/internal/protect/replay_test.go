package protect

import (
	"math/rand/v2"
	"testing"
)

// refWindow is the replay window written the obvious way, as a reference.
type refWindow struct {
	seen    map[uint64]bool
	largest uint64
	have    bool
}

func (r *refWindow) fresh(pn uint64) bool {
	if !r.have || pn > r.largest {
		return true
	}
	return pn+ReplayWindow > r.largest && !r.seen[pn]
}

func (r *refWindow) mark(pn uint64) {
	r.seen[pn] = true
	if !r.have || pn > r.largest {
		r.largest, r.have = pn, true
	}
}

// TestReplayWindowMatchesReference drives the bitmap window and the map
// reference with the same random packet numbers: small steps, big jumps and
// duplicates, around the window's edge.
func TestReplayWindowMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var w replayWindow
	ref := refWindow{seen: map[uint64]bool{}}
	base := uint64(1<<32 - 5000)
	for i := range 200000 {
		var pn uint64
		switch rng.IntN(10) {
		case 0: // far jump ahead
			base += uint64(rng.IntN(3 * ReplayWindow))
			pn = base
		case 1, 2: // near the lower edge
			if ref.have && ref.largest >= ReplayWindow+2 {
				pn = ref.largest - ReplayWindow - 1 + uint64(rng.IntN(4))
			}
		default:
			base += uint64(rng.IntN(3))
			pn = base - uint64(rng.IntN(ReplayWindow+200))
		}
		got, want := w.fresh(pn), ref.fresh(pn)
		if got != want {
			t.Fatalf("step %d pn %d (largest %d): fresh = %v, reference %v", i, pn, ref.largest, got, want)
		}
		if got && rng.IntN(4) != 0 {
			w.mark(pn)
			ref.mark(pn)
		}
	}
}

func TestReplayWindowEdges(t *testing.T) {
	var w replayWindow
	if !w.fresh(0) || !w.fresh(1<<40) {
		t.Fatal("empty window rejects")
	}
	w.mark(5000)
	for pn, want := range map[uint64]bool{
		5000:                    false,
		5001:                    true,
		5000 - ReplayWindow + 1: true,
		5000 - ReplayWindow:     false,
		0:                       false,
		5000 + 10*ReplayWindow:  true,
	} {
		if got := w.fresh(pn); got != want {
			t.Errorf("fresh(%d) = %v, want %v", pn, got, want)
		}
	}
	// A jump of exactly ReplayWindow must clear the old bit at the same index.
	w.mark(5000 + ReplayWindow)
	if !w.fresh(5000+ReplayWindow-1) || w.fresh(5000+ReplayWindow) {
		t.Fatal("window after a jump of ReplayWindow is wrong")
	}
}
