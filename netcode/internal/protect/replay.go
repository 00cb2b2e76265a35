package protect

// ReplayWindow is the number of packet numbers, ending at the largest
// authenticated one, that the replay window remembers (PROTOCOL.md §3).
// Anything older is dropped as a replay.
const ReplayWindow = 1024

// replayWindow remembers which of the last ReplayWindow packet numbers have
// been authenticated. Bit pn%ReplayWindow of bits stands for pn, for pn in
// (largest-ReplayWindow, largest].
type replayWindow struct {
	bits    [ReplayWindow / 64]uint64
	largest uint64
	have    bool // whether any packet has been marked
}

// fresh reports whether pn may still be accepted: it is newer than the
// largest, or inside the window and not yet marked. It changes nothing.
func (w *replayWindow) fresh(pn uint64) bool {
	if !w.have || pn > w.largest {
		return true
	}
	if w.largest-pn >= ReplayWindow {
		return false
	}
	return w.bits[(pn%ReplayWindow)/64]&(1<<(pn%64)) == 0
}

// mark records pn as authenticated, advancing the window if pn is the new
// largest. The caller has checked fresh(pn).
func (w *replayWindow) mark(pn uint64) {
	switch {
	case !w.have:
		w.bits = [ReplayWindow / 64]uint64{}
		w.largest, w.have = pn, true
	case pn > w.largest:
		if pn-w.largest >= ReplayWindow {
			w.bits = [ReplayWindow / 64]uint64{}
		} else {
			for p := w.largest + 1; p <= pn; p++ {
				w.bits[(p%ReplayWindow)/64] &^= 1 << (p % 64)
			}
		}
		w.largest = pn
	}
	w.bits[(pn%ReplayWindow)/64] |= 1 << (pn % 64)
}
