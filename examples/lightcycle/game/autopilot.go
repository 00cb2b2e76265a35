package game

import (
	"hash/fnv"
	"math/rand/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// autopilot steers the local player's bike by the robots' rule (see
// sim): it turns when the cell ahead is deadly, or with
// sim.RobotTurnChance percent chance anyway, choosing uniformly among left,
// straight and right those whose next cell is free. Its turns travel to the
// host like a human's, decided on the state this peer has (on a follower,
// one network delay behind the host's).
type autopilot struct {
	rng     *rand.Rand
	waiting bool // a turn was sent and has not shown yet
	heading sim.Heading
	step    int
}

func (a *autopilot) seed(seed uint64, id string) {
	h := fnv.New64a()
	h.Write([]byte(id))
	a.rng = rand.New(rand.NewPCG(seed, h.Sum64()))
}

func (a *autopilot) reset() { a.waiting = false }

// decide returns the turn to make now, if any, for player seat.
func (a *autopilot) decide(b *sim.Game, seat int) (sim.Turn, bool) {
	p := b.Players()[seat]
	if !p.Alive {
		return 0, false
	}
	if a.waiting {
		if p.Heading == a.heading && b.Steps() < a.step+3 {
			return 0, false
		}
		a.waiting = false
	}
	free := func(t sim.Turn) bool {
		c := p.Head.Next(p.Heading.Turn(t))
		return !sim.IsWall(c) && b.Owner(c) < 0
	}
	change := a.rng.IntN(100) < sim.RobotTurnChance
	if !change && free(0) {
		return 0, false
	}
	var open []sim.Turn
	for _, t := range []sim.Turn{sim.TurnLeft, 0, sim.TurnRight} {
		if free(t) {
			open = append(open, t)
		}
	}
	if len(open) == 0 {
		return 0, false
	}
	t := open[a.rng.IntN(len(open))]
	if t == 0 {
		return 0, false
	}
	a.waiting, a.heading, a.step = true, p.Heading, b.Steps()
	return t, true
}
