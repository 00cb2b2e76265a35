package view

import "github.com/pumpnet/pumpnet/examples/lightcycle/sim"

// Segment is a straight piece of trail from cell From to cell To, both
// included; From == To for a trail of one cell.
type Segment struct {
	From, To sim.Cell
}

// AppendSegments appends trail (a sim.Game.Trail: start first, head last,
// each cell next to the one before) as straight segments to dst: one per
// run of cells in the same direction, each starting where the previous one
// ended. A trail of one cell is one segment from that cell to itself; an
// empty trail appends nothing.
func AppendSegments(dst []Segment, trail []sim.Cell) []Segment {
	switch len(trail) {
	case 0:
		return dst
	case 1:
		return append(dst, Segment{trail[0], trail[0]})
	}
	from := trail[0]
	dir := delta(trail[0], trail[1])
	for i := 2; i < len(trail); i++ {
		if d := delta(trail[i-1], trail[i]); d != dir {
			dst = append(dst, Segment{from, trail[i-1]})
			from, dir = trail[i-1], d
		}
	}
	return append(dst, Segment{from, trail[len(trail)-1]})
}

// HeadSegment returns the last step of trail, drawn white: from the cell
// before the head to the head. ok is false for a trail of fewer than two
// cells.
func HeadSegment(trail []sim.Cell) (s Segment, ok bool) {
	if len(trail) < 2 {
		return Segment{}, false
	}
	return Segment{trail[len(trail)-2], trail[len(trail)-1]}, true
}

func delta(a, b sim.Cell) sim.Cell { return sim.Cell{X: b.X - a.X, Y: b.Y - a.Y} }
