package view

import (
	"image/color"
	"math"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// RGB is a colour with components in [0, 1].
type RGB struct {
	R, G, B float64
}

// Palette holds the player colours, indexed by sim colour number.
var Palette = [sim.NumColours]RGB{
	{1.00, 0.42, 0.19}, // red-orange
	{1.00, 0.63, 0.00}, // orange
	{1.00, 1.00, 0.25}, // yellow
	{0.50, 1.00, 0.35}, // light green
	{0.10, 0.95, 1.00}, // cyan
	{0.00, 0.57, 1.00}, // blue
	{0.68, 0.26, 1.00}, // purple
	{1.00, 0.36, 0.88}, // violet
}

// ColourNames names the Palette entries.
var ColourNames = [sim.NumColours]string{
	"red-orange", "orange", "yellow", "light green", "cyan", "blue", "purple", "violet",
}

// Grey is used for anything without a valid colour.
var Grey = RGB{0.55, 0.55, 0.6}

// Colour returns player colour i, or Grey if i is out of range.
func Colour(i int) RGB {
	if i < 0 || i >= len(Palette) {
		return Grey
	}
	return Palette[i]
}

// White is the colour of walls' highlights and of the core of bike heads.
var White = RGB{1, 1, 1}

// HeadColour returns the colour a bike's head is drawn in: the player's
// colour, lightened (a third of the way to white) so the head stands out
// from its trail and still says whose it is.
func HeadColour(i int) RGB { return Colour(i).Mix(White, 0.35) }

// Mix returns c moved a fraction t (0..1) of the way towards d.
func (c RGB) Mix(d RGB, t float64) RGB {
	return RGB{c.R + (d.R-c.R)*t, c.G + (d.G-c.G)*t, c.B + (d.B-c.B)*t}
}

// Scale returns c with each component multiplied by k, clamped to [0, 1].
func (c RGB) Scale(k float64) RGB {
	return RGB{clamp01(c.R * k), clamp01(c.G * k), clamp01(c.B * k)}
}

// NRGBA returns c with the given opacity (0..1) as a non-premultiplied
// 8-bit colour.
func (c RGB) NRGBA(alpha float64) color.NRGBA {
	return color.NRGBA{to8(c.R), to8(c.G), to8(c.B), to8(alpha)}
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

func to8(v float64) uint8 { return uint8(math.Round(clamp01(v) * 255)) }
