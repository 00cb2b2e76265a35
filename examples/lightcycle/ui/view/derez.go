package view

import (
	"math"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// The derez effect: when a bike crashes, a circle in the player's colour
// expands from where it stopped to DerezRadius cells while fading out, over
// DerezTicks ticks, and the trail it lost fades with it.
const (
	// DerezTicks is how long the effect lasts, in ticks (0.7 s at 60 TPS).
	DerezTicks = 42
	// DerezRadius is the circle's final radius, in cells.
	DerezRadius = 6.0
)

// Derez is one running derez effect.
type Derez struct {
	// Player is the index of the player in the round (sim.Death.Player).
	Player int
	// Cell is where the bike stopped.
	Cell sim.Cell
	// Colour is the player's colour number.
	Colour int
	// Trail is the trail the bike lost, drawn fading; it may be nil.
	Trail []Segment
	// Age counts ticks since the crash, from 0.
	Age int
}

// progress is the fraction of the effect done, 0..1.
func (d *Derez) progress() float64 {
	return math.Max(0, math.Min(1, float64(d.Age)/DerezTicks))
}

// Radius returns the circle's radius in cells: 0 at the crash, growing
// quickly at first (ease-out) to DerezRadius at the end.
func (d *Derez) Radius() float64 {
	t := d.progress()
	return DerezRadius * (1 - (1-t)*(1-t))
}

// Alpha returns the effect's opacity: 1 at the crash, falling to 0 at the
// end.
func (d *Derez) Alpha() float64 {
	return 1 - d.progress()
}

// Done reports whether the effect has finished and can be dropped.
func (d *Derez) Done() bool { return d.Age >= DerezTicks }

// Effects holds the derez effects running on the screen. The zero value is
// empty and ready to use.
type Effects struct {
	list []Derez
}

// Start adds an effect for player's bike, stopped at cell, in colour, with
// the trail it lost (which Effects keeps; the caller must not reuse it).
func (e *Effects) Start(player int, cell sim.Cell, colour int, trail []Segment) {
	e.list = append(e.list, Derez{Player: player, Cell: cell, Colour: colour, Trail: trail})
}

// Tick ages every effect by one tick and drops those that are done.
func (e *Effects) Tick() {
	kept := e.list[:0]
	for _, d := range e.list {
		d.Age++
		if !d.Done() {
			kept = append(kept, d)
		}
	}
	clear(e.list[len(kept):])
	e.list = kept
}

// All returns the running effects, oldest first. The slice is valid until
// the next Start, Tick or Clear.
func (e *Effects) All() []Derez { return e.list }

// Clear drops every effect (a new round starts).
func (e *Effects) Clear() {
	clear(e.list)
	e.list = e.list[:0]
}
