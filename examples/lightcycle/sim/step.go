package sim

import (
	"fmt"
	"math/bits"
)

// RobotTurnChance is the chance, in percent, that a robot whose way ahead is
// open still picks a new direction in a step.
const RobotTurnChance = 2

// step decides the next step of the round and commits it.
func (g *Game) step() Outcome {
	o := g.decide()
	g.commit(&o)
	return o
}

// decide computes the outcome of the next step from the current board
// without changing anything but the turn queues.
//
// Every living bike's next cell is computed first; then each bike that
// enters a wall, enters a trail (any player's, its own included, heads
// included), enters the same cell as another bike or swaps cells with
// another bike dies where it stands. All checks use the board as it was
// before the step, so the order players are visited in does not matter.
func (g *Game) decide() Outcome {
	n := len(g.players)
	o := Outcome{Round: g.round, Step: g.steps + 1, Winner: -1}
	g.seedStep(o.Step)
	var next [MaxPlayers]Cell
	var heading [MaxPlayers]Heading
	var moving [MaxPlayers]bool
	for i := range g.players {
		p := &g.players[i]
		if !p.Alive || p.leaving {
			continue
		}
		if p.Robot {
			heading[i] = g.robotHeading(p)
		} else {
			heading[i] = p.Heading.Turn(p.popTurn())
		}
		next[i] = p.Head.Next(heading[i])
		moving[i] = true
	}
	for i := range n {
		p := &g.players[i]
		if !p.Alive {
			continue
		}
		if p.leaving {
			o.Deaths = append(o.Deaths, Death{Player: i, Cell: p.Head, Cause: CauseLeft})
			continue
		}
		cause := Cause(0)
		if IsWall(next[i]) {
			cause = CauseWall
		}
		for j := range n {
			if cause != 0 {
				break
			}
			if j == i || !moving[j] {
				continue
			}
			if next[j] == next[i] || (next[i] == g.players[j].Head && next[j] == p.Head) {
				cause = CauseHeadOn
			}
		}
		if cause == 0 && g.deadly(next[i]) {
			cause = CauseTrail
		}
		if cause != 0 {
			o.Deaths = append(o.Deaths, Death{Player: i, Cell: p.Head, Cause: cause})
		} else {
			o.Heads = append(o.Heads, Head{Player: i, Cell: next[i], Heading: heading[i]})
		}
	}
	o.Over, o.Winner = g.result(o.Heads)
	return o
}

// result returns whether the round is over after a step in which the bikes
// in heads survived, and its winner (-1 for a draw or a running round).
func (g *Game) result(heads []Head) (over bool, winner int) {
	switch {
	case len(heads) == 0:
		return true, -1
	case len(heads) == 1 && len(g.players) > 1:
		return true, heads[0].Player
	}
	return false, -1
}

// commit applies a decided or validated outcome to the game.
func (g *Game) commit(o *Outcome) {
	g.steps = o.Step
	g.ticks = o.Step * StepTicks
	for _, h := range o.Heads {
		p := &g.players[h.Player]
		p.Head, p.Heading = h.Cell, h.Heading
		p.trail = append(p.trail, h.Cell)
		g.grid[h.Cell.Y*Size+h.Cell.X] = uint8(h.Player + 1)
	}
	for _, d := range o.Deaths {
		p := &g.players[d.Player]
		p.Alive = false
		p.qlen = 0
		if d.Cause == CauseLeft {
			p.Left = true
			p.leaving = false
		}
		own := uint8(d.Player + 1)
		for _, c := range p.trail {
			if onBoard(c) && g.grid[c.Y*Size+c.X] == own {
				g.grid[c.Y*Size+c.X] = 0
			}
		}
		p.trail = nil
	}
	if o.Over {
		g.over, g.winner = true, o.Winner
		if o.Winner >= 0 {
			g.players[o.Winner].Score++
		}
	}
}

// seedStep reseeds the game's generator for a step. The stream depends only
// on Config.Seed, the round and the step, not on earlier draws, so an
// instance that has followed the host with Apply draws the same numbers
// when it takes over.
func (g *Game) seedStep(step int) {
	g.pcg.Seed(g.seed, mix64(uint64(g.round)<<32|uint64(uint32(step))))
}

// mix64 is the SplitMix64 finalizer: it spreads nearby inputs apart.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// randN returns a number in [0, n) from the game's generator. It reduces the
// PCG output itself (multiply-high), so the result depends only on the PCG
// algorithm, which math/rand/v2 fixes.
func (g *Game) randN(n int) int {
	hi, _ := bits.Mul64(g.pcg.Uint64(), uint64(n))
	return int(hi)
}

// robotHeading chooses a robot's heading for the next step. The robot keeps
// going unless the cell ahead is deadly or a RobotTurnChance percent draw
// says so; then it picks uniformly among the open directions (left, straight,
// right, in that order, those whose next cell is not wall or trail), and goes
// straight if none is open. Every robot makes the percent draw every step.
func (g *Game) robotHeading(p *player) Heading {
	straight := p.Heading
	change := g.randN(100) < RobotTurnChance
	if !change && !g.deadly(p.Head.Next(straight)) {
		return straight
	}
	var open [3]Heading
	k := 0
	for _, h := range [3]Heading{straight.Turn(TurnLeft), straight, straight.Turn(TurnRight)} {
		if !g.deadly(p.Head.Next(h)) {
			open[k] = h
			k++
		}
	}
	if k == 0 {
		return straight
	}
	return open[g.randN(k)]
}

// Apply checks that o is the next step of this game and follows the rules,
// and applies it, as the host's Step did. An instance that follows the host
// calls Apply for each Outcome it receives, in order; its turn queues are
// not used. Apply checks that o is for this round and the next step, that
// every living bike appears exactly once, in player order, either in Heads
// (having turned at most once and moved one cell onto a free playable cell,
// no two on the same cell) or in Deaths (at its head), and that Over and
// Winner follow. It does not re-derive why a bike died or how a robot
// steered: that is the host's call. On error, wrapping ErrOutcome, the game
// is unchanged.
func (g *Game) Apply(o Outcome) error {
	if err := g.check(&o); err != nil {
		return fmt.Errorf("%w: round %d step %d: %v", ErrOutcome, o.Round, o.Step, err)
	}
	g.commit(&o)
	return nil
}

func (g *Game) check(o *Outcome) error {
	switch {
	case g.over:
		return fmt.Errorf("round %d is over", g.round)
	case o.Round != g.round || o.Step != g.steps+1:
		return fmt.Errorf("want round %d step %d", g.round, g.steps+1)
	}
	var seen [MaxPlayers]bool
	var cells [MaxPlayers]Cell
	last := -1
	for k, h := range o.Heads {
		if h.Player <= last || h.Player >= len(g.players) {
			return fmt.Errorf("head %d: player %d out of order or range", k, h.Player)
		}
		last = h.Player
		p := &g.players[h.Player]
		switch {
		case !p.Alive:
			return fmt.Errorf("player %d is not alive", h.Player)
		case h.Heading != p.Heading && h.Heading != p.Heading.Turn(TurnLeft) && h.Heading != p.Heading.Turn(TurnRight):
			return fmt.Errorf("player %d turned from %v to %v", h.Player, p.Heading, h.Heading)
		case h.Cell != p.Head.Next(h.Heading):
			return fmt.Errorf("player %d moved from %v to %v heading %v", h.Player, p.Head, h.Cell, h.Heading)
		case g.deadly(h.Cell):
			return fmt.Errorf("player %d survived entering %v", h.Player, h.Cell)
		}
		for j := range k {
			if cells[j] == h.Cell {
				return fmt.Errorf("two bikes survived entering %v", h.Cell)
			}
		}
		cells[k] = h.Cell
		seen[h.Player] = true
	}
	last = -1
	for k, d := range o.Deaths {
		if d.Player <= last || d.Player >= len(g.players) {
			return fmt.Errorf("death %d: player %d out of order or range", k, d.Player)
		}
		last = d.Player
		p := &g.players[d.Player]
		switch {
		case !p.Alive || seen[d.Player]:
			return fmt.Errorf("player %d died but was not alive or also moved", d.Player)
		case d.Cell != p.Head:
			return fmt.Errorf("player %d died at %v, its head is at %v", d.Player, d.Cell, p.Head)
		case !d.Cause.Valid():
			return fmt.Errorf("player %d died of invalid cause %d", d.Player, d.Cause)
		}
		seen[d.Player] = true
	}
	for i, p := range g.players {
		if p.Alive && !seen[i] {
			return fmt.Errorf("player %d is alive but neither moved nor died", i)
		}
	}
	over, winner := g.result(o.Heads)
	if o.Over != over || (over && o.Winner != winner) {
		return fmt.Errorf("result over=%v winner=%d, want over=%v winner=%d", o.Over, o.Winner, over, winner)
	}
	return nil
}
