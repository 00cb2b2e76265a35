package view

import (
	"fmt"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

func TestFacingPointsTheStartHeadingUp(t *testing.T) {
	for h := sim.Up; h <= sim.Left; h++ {
		if got := Facing(h).Heading(h); got != sim.Up {
			t.Errorf("Facing(%v).Heading(%v) = %v, want up", h, h, got)
		}
	}
}

// TestEveryPlayerStartsAtTheBottomHeadingUp is the rule "each view is
// rotated so the local player starts at the bottom heading up", for every
// seat of every round size.
func TestEveryPlayerStartsAtTheBottomHeadingUp(t *testing.T) {
	for n := 1; n <= sim.MaxPlayers; n++ {
		players := make([]sim.PlayerConfig, n)
		for i := range players {
			players[i] = sim.PlayerConfig{ID: fmt.Sprintf("p%d", i), Colour: i}
		}
		g, err := sim.New(sim.Config{Players: players})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range g.Players() {
			o := ForPlayer(g, p.ID)
			c := o.Cell(p.Head)
			if c.Y != sim.Size-1 || o.Heading(p.Heading) != sim.Up {
				t.Errorf("n=%d player %d: start %v %v is drawn at %v heading %v, want bottom row heading up",
					n, i, p.Head, p.Heading, c, o.Heading(p.Heading))
			}
		}
	}
}

func TestForPlayerSpectatorIsUnrotated(t *testing.T) {
	g, err := sim.New(sim.Config{Players: []sim.PlayerConfig{{ID: "a"}, {ID: "b", Colour: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if o := ForPlayer(g, "nobody"); o != 0 {
		t.Errorf("spectator orientation = %d, want 0", o)
	}
	if o := ForPlayer(nil, "a"); o != 0 {
		t.Errorf("nil game orientation = %d, want 0", o)
	}
	if o := ForPlayer(g, "b"); o != 2 { // n=2: b starts at (66,0) heading down
		t.Errorf("ForPlayer(b) = %d, want 2", o)
	}
}

func TestOrientationCellTurnsClockwise(t *testing.T) {
	tl := sim.Cell{X: 0, Y: 0}
	want := []sim.Cell{at(0, 0), at(99, 0), at(99, 99), at(0, 99)} // top-left goes round clockwise
	for o := range Orientation(4) {
		if got := o.Cell(tl); got != want[o] {
			t.Errorf("Orientation(%d).Cell(0,0) = %v, want %v", o, got, want[o])
		}
	}
}

// TestOrientationKeepsTheBoardWhole: rotation is a bijection of the board
// that moves neighbours to neighbours, and headings rotate with cells.
func TestOrientationKeepsTheBoardWhole(t *testing.T) {
	for o := range Orientation(4) {
		seen := map[sim.Cell]bool{}
		for y := range sim.Size {
			for x := range sim.Size {
				c := sim.Cell{X: x, Y: y}
				s := o.Cell(c)
				if s.X < 0 || s.Y < 0 || s.X >= sim.Size || s.Y >= sim.Size || seen[s] {
					t.Fatalf("Orientation(%d).Cell(%v) = %v: off the board or repeated", o, c, s)
				}
				seen[s] = true
				if sim.IsWall(c) != sim.IsWall(s) {
					t.Fatalf("Orientation(%d) moves wall cell %v to %v", o, c, s)
				}
				for h := sim.Up; h <= sim.Left; h++ {
					if got, want := o.Cell(c.Next(h)), s.Next(o.Heading(h)); got != want {
						t.Fatalf("Orientation(%d): step %v from %v lands on %v, want %v", o, h, c, got, want)
					}
				}
			}
		}
	}
}

func TestFitGrid(t *testing.T) {
	b := FitGrid(10, 50, 800, 700, 1)
	if b.Cell != 7 || b.Size() != 700 || b.X != 60 || b.Y != 50 || b.Orient != 1 {
		t.Errorf("FitGrid(10,50,800,700) = %+v", b)
	}
	// Too small for whole-pixel cells: fractional cells, still fits.
	small := FitGrid(0, 0, 50, 80, 0)
	if small.Size() > 50 || small.Cell <= 0 {
		t.Errorf("FitGrid(50x80) = %+v, size %v", small, small.Size())
	}
	x, y := b.Centre(sim.Cell{X: 0, Y: 0}) // drawn at the top-right after a clockwise turn
	if x != 60+99.5*7 || y != 50+0.5*7 {
		t.Errorf("Centre(0,0) = (%v,%v)", x, y)
	}
	if !b.Contains(60, 50) || b.Contains(760, 50) || b.Contains(59, 60) {
		t.Error("Contains is wrong at the edges")
	}
}
