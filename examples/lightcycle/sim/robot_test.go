package sim

import (
	"testing"
)

// play runs a robot game to the end of its round (or maxSteps) and returns
// the digest after every step.
func play(t *testing.T, cfg Config, maxSteps int) (*Game, []uint64) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var digests []uint64
	for range maxSteps {
		o, ok := g.Step()
		if !ok {
			break
		}
		digests = append(digests, g.Digest())
		if o.Over {
			break
		}
	}
	return g, digests
}

func TestRobotGamesRepeatWithSeed(t *testing.T) {
	_, a := play(t, robots(42, 8), 5000)
	_, b := play(t, robots(42, 8), 5000)
	if len(a) != len(b) {
		t.Fatalf("same seed: %d steps vs %d", len(a), len(b))
	}
	for k := range a {
		if a[k] != b[k] {
			t.Fatalf("same seed: digests differ at step %d", k+1)
		}
	}
	_, c := play(t, robots(43, 8), 5000)
	same := len(a) == len(c)
	for k := 0; same && k < len(a); k++ {
		same = a[k] == c[k]
	}
	if same {
		t.Fatal("seeds 42 and 43 played the same game")
	}
}

// TestRobotGolden pins a whole robot game: if it fails, robots no longer
// play the same way as before (an algorithm changed), which would split a
// network game between instances built from different versions.
func TestRobotGolden(t *testing.T) {
	g, d := play(t, robots(1, 4), 5000)
	winner, over := g.Result()
	const wantSteps, wantDigest, wantWinner = 496, 0x783100578bc2f108, 1
	if !over || len(d) != wantSteps || d[len(d)-1] != wantDigest || winner != wantWinner {
		t.Fatalf("robot game changed: %d steps, digest %#x, winner %d; want %d, %#x, %d",
			len(d), d[len(d)-1], winner, wantSteps, uint64(wantDigest), wantWinner)
	}
}

// openHeadings lists the headings among left/straight/right of player i
// whose next cell is not deadly on the current board.
func openHeadings(g *Game, i int) []Heading {
	p := &g.players[i]
	var out []Heading
	for _, h := range []Heading{p.Heading.Turn(TurnLeft), p.Heading, p.Heading.Turn(TurnRight)} {
		if !g.deadly(p.Head.Next(h)) {
			out = append(out, h)
		}
	}
	return out
}

func TestRobotNeverPicksDeadlyWhenOpenExists(t *testing.T) {
	checked := 0
	for seed := range uint64(12) {
		g, err := New(robots(seed, 8))
		if err != nil {
			t.Fatal(err)
		}
		for {
			var open [MaxPlayers][]Heading
			for i, p := range g.players {
				if p.Alive {
					open[i] = openHeadings(g, i)
				}
			}
			o, ok := g.Step()
			if !ok {
				break
			}
			for _, h := range o.Heads {
				if !containsHeading(open[h.Player], h.Heading) {
					t.Fatalf("seed %d step %d: robot %d went %v, open %v", seed, o.Step, h.Player, h.Heading, open[h.Player])
				}
				checked++
			}
			for _, d := range o.Deaths {
				if d.Cause != CauseHeadOn && len(open[d.Player]) > 0 {
					t.Fatalf("seed %d step %d: robot %d died (%v) with %v open", seed, o.Step, d.Player, d.Cause, open[d.Player])
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d robot moves checked", checked)
	}
}

func containsHeading(hs []Heading, h Heading) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func TestRobotTurnsWhenBlockedAndTurnsSometimes(t *testing.T) {
	// Facing the wall with the cell to its right taken: only left is open.
	for seed := range uint64(50) {
		g := board(t, bike{at: Cell{50, 1}, h: Up, robot: true}, bike{at: Cell{51, 1}, h: Down})
		g.seed = seed
		o := mustStep(t, g)
		if len(o.Heads) == 0 || o.Heads[0].Player != 0 || o.Heads[0].Heading != Left {
			t.Fatalf("seed %d: blocked robot did not turn left: %+v", seed, o)
		}
	}
	// In the open a robot mostly goes straight but sometimes turns: about
	// RobotTurnChance% of steps times 2/3 (straight is one of the choices).
	turns, steps := 0, 0
	for seed := range uint64(400) {
		g := board(t, bike{at: Cell{50, 90}, h: Up, robot: true}, bike{at: Cell{10, 10}, h: Down})
		g.seed = seed
		for range 20 {
			o := mustStep(t, g)
			if o.Heads[0].Heading != Up {
				turns++
				break
			}
			steps++
		}
	}
	if rate := float64(turns) / float64(steps+turns); rate < 0.005 || rate > 0.03 {
		t.Fatalf("robots turned in %d of %d open steps (%.3f), want about %.3f", turns, steps+turns, rate, RobotTurnChance/100.0*2/3)
	}
}
