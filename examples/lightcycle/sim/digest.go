package sim

// Digest returns a 64-bit FNV-1a hash of the state instances must agree on:
// the round and step, each player's ID, colour, robot flag, alive flag,
// head, heading and score, every trail cell with its owner, and the round's
// result. Instances that compare digests after the same step agree on the
// game if they are equal. Local bookkeeping is not included: turn queues,
// Remove calls not yet applied by a step, and Player.Left (each instance
// learns of leaves from its own lobby, possibly at different times). Nor is
// the generator, which is reseeded from Config.Seed every step.
func (g *Game) Digest() uint64 {
	h := fnv64{sum: 14695981039346656037}
	h.int(g.round)
	h.int(g.steps)
	h.int(len(g.players))
	for _, p := range g.players {
		h.int(len(p.ID))
		for k := 0; k < len(p.ID); k++ {
			h.byte(p.ID[k])
		}
		h.int(p.Colour)
		h.bool(p.Robot)
		h.bool(p.Alive)
		h.int(p.Head.X)
		h.int(p.Head.Y)
		h.byte(byte(p.Heading))
		h.int(p.Score)
	}
	for _, c := range g.grid {
		h.byte(c)
	}
	h.bool(g.over)
	h.int(g.winner)
	return h.sum
}

type fnv64 struct{ sum uint64 }

func (h *fnv64) byte(c byte) {
	h.sum ^= uint64(c)
	h.sum *= 1099511628211
}

func (h *fnv64) int(v int) {
	u := uint64(v)
	for range 8 {
		h.byte(byte(u))
		u >>= 8
	}
}

func (h *fnv64) bool(b bool) {
	if b {
		h.byte(1)
	} else {
		h.byte(0)
	}
}
