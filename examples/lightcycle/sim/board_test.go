package sim

import "testing"

type start struct {
	c Cell
	h Heading
}

// Every start position for n = 1..8, with gap = 400/n and distance
// gap/3 + i*gap in integer (rounding down) arithmetic. n = 2 and n = 4 are
// the examples in EXAMPLES.md.
var startTable = map[int][]start{
	1: {{Cell{0, 66}, Right}},                                           // gap 400, d 133
	2: {{Cell{33, 99}, Up}, {Cell{66, 0}, Down}},                        // gap 200, d 66, 266
	3: {{Cell{55, 99}, Up}, {Cell{0, 22}, Right}, {Cell{99, 10}, Left}}, // gap 133, d 44, 177, 310
	4: {{Cell{66, 99}, Up}, {Cell{0, 66}, Right}, {Cell{33, 0}, Down}, {Cell{99, 33}, Left}},
	5: {{Cell{73, 99}, Up}, {Cell{0, 93}, Right}, {Cell{0, 13}, Right}, {Cell{66, 0}, Down}, {Cell{99, 46}, Left}},
	6: {{Cell{77, 99}, Up}, {Cell{11, 99}, Up}, {Cell{0, 45}, Right}, {Cell{20, 0}, Down}, {Cell{86, 0}, Down}, {Cell{99, 52}, Left}},
	7: {{Cell{80, 99}, Up}, {Cell{23, 99}, Up}, {Cell{0, 66}, Right}, {Cell{0, 9}, Right}, {Cell{47, 0}, Down}, {Cell{99, 4}, Left}, {Cell{99, 61}, Left}},
	8: {{Cell{83, 99}, Up}, {Cell{33, 99}, Up}, {Cell{0, 83}, Right}, {Cell{0, 33}, Right}, {Cell{16, 0}, Down}, {Cell{66, 0}, Down}, {Cell{99, 16}, Left}, {Cell{99, 66}, Left}},
}

func TestStartPositionsExact(t *testing.T) {
	for n := 1; n <= MaxPlayers; n++ {
		for i, want := range startTable[n] {
			c, h := StartPosition(i, n)
			if c != want.c || h != want.h {
				t.Errorf("n=%d i=%d: got %v %v, want %v %v", n, i, c, h, want.c, want.h)
			}
		}
	}
}

func TestStartPositionsOnWallDistinctInward(t *testing.T) {
	for n := 1; n <= MaxPlayers; n++ {
		seen := map[Cell]bool{}
		for i := range n {
			c, h := StartPosition(i, n)
			if !IsWall(c) || !onBoard(c) {
				t.Errorf("n=%d i=%d: start %v not on the wall ring", n, i, c)
			}
			if IsWall(c.Next(h)) {
				t.Errorf("n=%d i=%d: start %v heading %v does not lead into the board", n, i, c, h)
			}
			if seen[c] {
				t.Errorf("n=%d: start %v used twice", n, c)
			}
			seen[c] = true
		}
	}
}

func TestNewPlacesPlayersSortedByID(t *testing.T) {
	g, err := New(Config{Players: []PlayerConfig{
		{ID: "d", Colour: 3}, {ID: "b", Colour: 1}, {ID: "c", Colour: 2}, {ID: "a", Colour: 0},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ps := g.Players()
	for i, id := range []string{"a", "b", "c", "d"} {
		if ps[i].ID != id || g.Index(id) != i {
			t.Fatalf("player %d is %q (Index %d), want %q", i, ps[i].ID, g.Index(id), id)
		}
		if want := startTable[4][i]; ps[i].Head != want.c || ps[i].Heading != want.h || !ps[i].Alive {
			t.Errorf("%s at %v %v alive=%v, want %v %v", id, ps[i].Head, ps[i].Heading, ps[i].Alive, want.c, want.h)
		}
		if tr := g.Trail(nil, i); len(tr) != 1 || tr[0] != ps[i].Head {
			t.Errorf("%s trail %v, want just the start cell", id, tr)
		}
	}
	if g.Index("e") != -1 {
		t.Error("Index of an unknown ID is not -1")
	}
}

func TestHeadingTurn(t *testing.T) {
	for h := Up; h <= Left; h++ {
		if got := h.Turn(TurnRight).Turn(TurnLeft); got != h {
			t.Errorf("%v right then left = %v", h, got)
		}
	}
	if Up.Turn(TurnRight) != Right || Up.Turn(TurnLeft) != Left || Left.Turn(TurnRight) != Up || Right.Turn(TurnRight) != Down {
		t.Error("right is not clockwise or left not counter-clockwise")
	}
	if c := (Cell{5, 5}); c.Next(Up) != (Cell{5, 4}) || c.Next(Right) != (Cell{6, 5}) || c.Next(Down) != (Cell{5, 6}) || c.Next(Left) != (Cell{4, 5}) {
		t.Error("Next moves the wrong way")
	}
}

func TestIsWall(t *testing.T) {
	for _, c := range []Cell{{0, 5}, {99, 5}, {5, 0}, {5, 99}, {-1, 5}, {100, 100}} {
		if !IsWall(c) {
			t.Errorf("%v is not wall", c)
		}
	}
	for _, c := range []Cell{{1, 1}, {98, 98}, {1, 98}, {50, 50}} {
		if IsWall(c) {
			t.Errorf("%v is wall", c)
		}
	}
}
