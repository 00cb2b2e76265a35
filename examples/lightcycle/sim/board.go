package sim

import "fmt"

// Board geometry and timing.
const (
	// Size is the width and height of the board in cells, wall ring included.
	// Cells with x or y equal to 0 or Size-1 are wall, so the playable area
	// is (Size-2)×(Size-2).
	Size = 100

	// TPS is the number of simulation ticks per second the game runs at.
	TPS = 60

	// StepTicks is the number of ticks between two steps: every StepTicks
	// ticks each bike moves one cell (10 cells per second at TPS).
	StepTicks = 6

	// MaxPlayers is the largest number of players in a round, one per colour.
	MaxPlayers = 8

	// QueueLen is how many turns a player can have queued; a turn queued
	// while the queue is full is refused with ErrQueueFull.
	QueueLen = 8
)

// Cell is a board position. X grows to the right, Y grows downwards: (0, 0)
// is the top-left corner and (Size-1, Size-1) the bottom-right one.
type Cell struct {
	X, Y int
}

// Next returns the cell one step from c in direction h.
func (c Cell) Next(h Heading) Cell {
	switch h {
	case Up:
		c.Y--
	case Right:
		c.X++
	case Down:
		c.Y++
	case Left:
		c.X--
	}
	return c
}

// String returns the cell as "(x,y)".
func (c Cell) String() string { return fmt.Sprintf("(%d,%d)", c.X, c.Y) }

// IsWall reports whether c is part of the wall ring. Cells outside the board
// count as wall too.
func IsWall(c Cell) bool {
	return c.X <= 0 || c.Y <= 0 || c.X >= Size-1 || c.Y >= Size-1
}

// onBoard reports whether c lies inside the board, wall ring included.
func onBoard(c Cell) bool {
	return c.X >= 0 && c.Y >= 0 && c.X < Size && c.Y < Size
}

// Heading is the direction a bike is travelling in. The values are in
// clockwise order, so a right turn adds one and a left turn subtracts one.
type Heading uint8

// The four headings. Up is towards y = 0.
const (
	Up Heading = iota
	Right
	Down
	Left
)

// Valid reports whether h is one of the four headings.
func (h Heading) Valid() bool { return h <= Left }

// Turn returns the heading after turning t from h; any other value of t
// leaves h unchanged.
func (h Heading) Turn(t Turn) Heading {
	switch t {
	case TurnLeft:
		return (h + 3) % 4
	case TurnRight:
		return (h + 1) % 4
	}
	return h
}

// String returns "up", "right", "down" or "left".
func (h Heading) String() string {
	switch h {
	case Up:
		return "up"
	case Right:
		return "right"
	case Down:
		return "down"
	case Left:
		return "left"
	}
	return "heading(invalid)"
}

// Turn is a relative turn a player asks for.
type Turn uint8

// The two turns. The zero Turn is not a turn.
const (
	// TurnLeft turns counter-clockwise, as seen on the board.
	TurnLeft Turn = iota + 1
	// TurnRight turns clockwise, as seen on the board.
	TurnRight
)

// String returns "left" or "right".
func (t Turn) String() string {
	switch t {
	case TurnLeft:
		return "left"
	case TurnRight:
		return "right"
	}
	return "turn(invalid)"
}

// StartPosition returns the start cell and heading of player i (0-based, in
// ID order) of a round with n players, 1 <= n <= MaxPlayers.
//
// With gap = 400/n, player i starts at perimeter distance d = gap/3 + i*gap,
// both divisions rounding down (Go integer division). The perimeter is walked
// clockwise from the bottom-right corner: with p = d%100 and side d/100, side
// 0 is the bottom wall (99-p, 99) heading up, side 1 the left wall (0, 99-p)
// heading right, side 2 the top wall (p, 0) heading down and side 3 the right
// wall (99, p) heading left. So n = 2 gives (33,99) up and (66,0) down, and
// n = 4 gives (66,99) up, (0,66) right, (33,0) down and (99,33) left.
//
// The start cell is on the wall; it is never collision-checked, and the first
// step moves the bike into the playable area. StartPosition panics if n or i
// is out of range.
func StartPosition(i, n int) (Cell, Heading) {
	if n < 1 || n > MaxPlayers || i < 0 || i >= n {
		panic("sim: StartPosition out of range")
	}
	gap := 400 / n
	d := gap/3 + i*gap
	p := d % 100
	switch d / 100 {
	case 0:
		return Cell{99 - p, 99}, Up
	case 1:
		return Cell{0, 99 - p}, Right
	case 2:
		return Cell{p, 0}, Down
	default:
		return Cell{99, p}, Left
	}
}
