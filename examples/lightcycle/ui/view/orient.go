package view

import (
	"math"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// Orientation is a rotation of the board, in quarter turns clockwise as
// seen on the screen (0..3). Each player's view is rotated so that their
// bike starts at the bottom heading up.
type Orientation uint8

// Facing returns the rotation that makes a bike starting with heading start
// point up on the screen. Since every start cell is on the wall behind its
// bike, that wall ends up at the bottom.
func Facing(start sim.Heading) Orientation {
	return Orientation((4 - int(start%4)) % 4)
}

// ForPlayer returns the rotation for the player with the given ID in g:
// Facing of the player's start heading (sim.StartPosition). A spectator
// (an ID not in the round) or a nil board gets no rotation.
func ForPlayer(g Board, id string) Orientation {
	if g == nil {
		return 0
	}
	i := g.Index(id)
	if i < 0 {
		return 0
	}
	_, h := sim.StartPosition(i, len(g.Players()))
	return Facing(h)
}

// Heading returns h as it points on the screen.
func (o Orientation) Heading(h sim.Heading) sim.Heading {
	return sim.Heading((int(h) + int(o)) % 4)
}

// Cell returns the screen-grid cell where board cell c is drawn: column X
// from the left, row Y from the top, both 0..sim.Size-1.
func (o Orientation) Cell(c sim.Cell) sim.Cell {
	for range o % 4 {
		c = sim.Cell{X: sim.Size - 1 - c.Y, Y: c.X} // a quarter turn clockwise
	}
	return c
}

// Grid places the rotated board's cells on the screen.
type Grid struct {
	// X and Y are the screen position of the board's top-left corner.
	X, Y float64
	// Cell is the width and height of one cell, in screen pixels.
	Cell float64
	// Orient is the rotation applied to board cells.
	Orient Orientation
}

// FitGrid returns the largest board grid centred in the rectangle at (x, y) of
// size w×h. Cells are a whole number of pixels, for crisp lines, unless
// rounding down would shrink the board by more than a tenth.
func FitGrid(x, y, w, h float64, o Orientation) Grid {
	side := math.Max(0, math.Min(w, h))
	cell := side / sim.Size
	if whole := math.Floor(cell); whole >= 0.9*cell {
		cell = whole
	}
	size := cell * sim.Size
	return Grid{X: math.Round(x + (w-size)/2), Y: math.Round(y + (h-size)/2), Cell: cell, Orient: o}
}

// Size is the board's width and height on the screen.
func (b Grid) Size() float64 { return b.Cell * sim.Size }

// Centre returns the screen position of the centre of board cell c.
func (b Grid) Centre(c sim.Cell) (x, y float64) {
	s := b.Orient.Cell(c)
	return b.X + (float64(s.X)+0.5)*b.Cell, b.Y + (float64(s.Y)+0.5)*b.Cell
}

// Contains reports whether the screen point (x, y) lies on the board.
func (b Grid) Contains(x, y float64) bool {
	return x >= b.X && y >= b.Y && x < b.X+b.Size() && y < b.Y+b.Size()
}
