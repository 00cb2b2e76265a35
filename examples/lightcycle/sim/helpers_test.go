package sim

import (
	"fmt"
	"testing"
)

// bike places a player for a hand-built test board.
type bike struct {
	at    Cell
	h     Heading
	robot bool
}

// board returns a game whose players "p0", "p1", ... (in that ID order) sit
// at the given cells and headings instead of their start positions.
func board(t *testing.T, bikes ...bike) *Game {
	t.Helper()
	var pcs []PlayerConfig
	for i, b := range bikes {
		pcs = append(pcs, PlayerConfig{ID: fmt.Sprintf("p%d", i), Colour: i, Robot: b.robot})
	}
	g, err := New(Config{Seed: 1, Players: pcs})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bikes {
		p := &g.players[i]
		p.Head, p.Heading, p.trail = b.at, b.h, []Cell{b.at}
		if !IsWall(b.at) {
			g.grid[b.at.Y*Size+b.at.X] = uint8(i + 1)
		}
	}
	return g
}

// lay gives player i a trail through cells, ending at its head, which moves
// to the last cell.
func lay(g *Game, i int, cells ...Cell) {
	p := &g.players[i]
	for _, c := range cells {
		g.grid[c.Y*Size+c.X] = uint8(i + 1)
		p.trail = append(p.trail, c)
		p.Head = c
	}
}

// line returns the cells from a to b inclusive along a row or column.
func line(a, b Cell) []Cell {
	var out []Cell
	dx, dy := sign(b.X-a.X), sign(b.Y-a.Y)
	for c := a; ; c = (Cell{c.X + dx, c.Y + dy}) {
		out = append(out, c)
		if c == b {
			return out
		}
	}
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// mustStep runs one step and fails the test if the round was over.
func mustStep(t *testing.T, g *Game) Outcome {
	t.Helper()
	o, ok := g.Step()
	if !ok {
		t.Fatal("Step: round already over")
	}
	return o
}

// deathOf returns player i's death in o, if any.
func deathOf(o Outcome, i int) (Death, bool) {
	for _, d := range o.Deaths {
		if d.Player == i {
			return d, true
		}
	}
	return Death{}, false
}

// owned counts the cells of the playable area owned by player i.
func owned(g *Game, i int) int {
	n := 0
	for y := 1; y < Size-1; y++ {
		for x := 1; x < Size-1; x++ {
			if g.Owner(Cell{x, y}) == i {
				n++
			}
		}
	}
	return n
}

// robots returns a config of n robots with the given seed.
func robots(seed uint64, n int) Config {
	cfg := Config{Seed: seed}
	for i := range n {
		cfg.Players = append(cfg.Players, PlayerConfig{ID: fmt.Sprintf("bot%d", i), Colour: i, Robot: true})
	}
	return cfg
}
