package view

import (
	"slices"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

func cells(xy ...int) []sim.Cell {
	var out []sim.Cell
	for i := 0; i < len(xy); i += 2 {
		out = append(out, sim.Cell{X: xy[i], Y: xy[i+1]})
	}
	return out
}

func TestAppendSegments(t *testing.T) {
	tests := []struct {
		name  string
		trail []sim.Cell
		want  []Segment
	}{
		{"empty", nil, nil},
		{"start only", cells(33, 99), []Segment{{at(33, 99), at(33, 99)}}},
		{"straight", cells(33, 99, 33, 98, 33, 97, 33, 96),
			[]Segment{{at(33, 99), at(33, 96)}}},
		{"one corner", cells(33, 99, 33, 98, 33, 97, 32, 97, 31, 97),
			[]Segment{{at(33, 99), at(33, 97)}, {at(33, 97), at(31, 97)}}},
		{"u-turn", cells(5, 99, 5, 98, 4, 98, 4, 99),
			[]Segment{{at(5, 99), at(5, 98)}, {at(5, 98), at(4, 98)}, {at(4, 98), at(4, 99)}}},
	}
	for _, tt := range tests {
		got := AppendSegments(nil, tt.trail)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: AppendSegments = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSegmentsCoverTheTrail: the segments join end to start, run straight,
// and cover exactly the trail's cells, on a real robot trail.
func TestSegmentsCoverTheTrail(t *testing.T) {
	g, err := sim.New(sim.Config{Seed: 3, Players: []sim.PlayerConfig{
		{ID: "a", Robot: true}, {ID: "b", Colour: 1, Robot: true}, {ID: "c", Colour: 2, Robot: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for range 120 {
		g.Step()
	}
	for i := range g.Players() {
		trail := g.Trail(nil, i)
		if len(trail) == 0 {
			continue
		}
		segs := AppendSegments(nil, trail)
		var covered []sim.Cell
		for k, s := range segs {
			if k > 0 && segs[k-1].To != s.From {
				t.Fatalf("player %d: segment %d starts at %v, previous ended at %v", i, k, s.From, segs[k-1].To)
			}
			if s.From.X != s.To.X && s.From.Y != s.To.Y {
				t.Fatalf("player %d: segment %v is not straight", i, s)
			}
			c := s.From
			if k == 0 {
				covered = append(covered, c)
			}
			for c != s.To {
				c = sim.Cell{X: c.X + sign(s.To.X-c.X), Y: c.Y + sign(s.To.Y-c.Y)}
				covered = append(covered, c)
			}
		}
		if !slices.Equal(covered, trail) {
			t.Errorf("player %d: segments cover %d cells, trail has %d", i, len(covered), len(trail))
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

func TestHeadSegment(t *testing.T) {
	if _, ok := HeadSegment(cells(1, 99)); ok {
		t.Error("HeadSegment of a one-cell trail is ok")
	}
	s, ok := HeadSegment(cells(1, 99, 1, 98, 2, 98))
	if !ok || s != (Segment{at(1, 98), at(2, 98)}) {
		t.Errorf("HeadSegment = %v, %v", s, ok)
	}
}

// at returns the cell (x, y).
func at(x, y int) sim.Cell { return sim.Cell{X: x, Y: y} }
