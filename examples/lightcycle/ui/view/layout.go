package view

import (
	"math"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// Rect is an axis-aligned rectangle on the screen, in pixels.
type Rect struct {
	X, Y, W, H float64
}

// Contains reports whether the point (x, y) is inside r.
func (r Rect) Contains(x, y float64) bool {
	return x >= r.X && y >= r.Y && x < r.X+r.W && y < r.Y+r.H
}

// Centre returns the centre of r.
func (r Rect) Centre() (x, y float64) { return r.X + r.W/2, r.Y + r.H/2 }

// LobbyLayout places the lobby scene on a screen.
type LobbyLayout struct {
	// Title holds the game's name.
	Title Rect
	// Cards hold one seat each, in seat order: a glowing bike, the name
	// and whether the player is ready. Four per row, two rows.
	Cards [sim.MaxPlayers]Rect
	// Swatches are the colour choices, one per palette entry.
	Swatches [sim.NumColours]Rect
	// Ready is the ready button.
	Ready Rect
	// Help is the line of key help at the bottom.
	Help Rect
}

// Lobby returns the lobby layout for a screen w×h pixels.
func Lobby(w, h float64) LobbyLayout {
	var l LobbyLayout
	m := 0.04 * math.Min(w, h)
	l.Title = Rect{m, m, w - 2*m, 0.12 * h}
	gap := m / 2
	cw := (w - 2*m - 3*gap) / 4
	ch := (0.44*h - gap) / 2
	for i := range l.Cards {
		col, row := i%4, i/4
		l.Cards[i] = Rect{m + float64(col)*(cw+gap), 0.18*h + float64(row)*(ch+gap), cw, ch}
	}
	s := math.Min(0.075*h, (w-2*m)/sim.NumColours*0.8)
	sgap := s * 0.35
	total := sim.NumColours*s + (sim.NumColours-1)*sgap
	for i := range l.Swatches {
		l.Swatches[i] = Rect{(w-total)/2 + float64(i)*(s+sgap), 0.68 * h, s, s}
	}
	bw, bh := math.Max(0.3*w, 5*s), 0.08*h
	l.Ready = Rect{(w - bw) / 2, 0.8 * h, bw, bh}
	l.Help = Rect{m, 0.92 * h, w - 2*m, 0.06 * h}
	return l
}

// Swatch returns the colour whose swatch contains (x, y).
func (l *LobbyLayout) Swatch(x, y float64) (colour int, ok bool) {
	for i, r := range l.Swatches {
		if r.Contains(x, y) {
			return i, true
		}
	}
	return 0, false
}

// ResultsLayout places the results scene on a screen.
type ResultsLayout struct {
	// Banner holds "<name> wins" or "draw".
	Banner Rect
	// Rows hold one player each, best score first.
	Rows [sim.MaxPlayers]Rect
	// Next is the "next round" button.
	Next Rect
	// Help is the line of key help at the bottom.
	Help Rect
}

// Results returns the results layout for a screen w×h pixels.
func Results(w, h float64) ResultsLayout {
	var l ResultsLayout
	m := 0.04 * math.Min(w, h)
	l.Banner = Rect{m, 0.08 * h, w - 2*m, 0.16 * h}
	rw := math.Round(math.Min(w-2*m, 0.7*w))
	rh := math.Round(0.06 * h)
	for i := range l.Rows {
		l.Rows[i] = Rect{math.Round((w - rw) / 2), math.Round(0.3*h) + float64(i)*rh, rw, rh}
	}
	bw, bh := math.Max(0.3*w, 4*rh), 0.08*h
	l.Next = Rect{(w - bw) / 2, 0.82 * h, bw, bh}
	l.Help = Rect{m, 0.92 * h, w - 2*m, 0.06 * h}
	return l
}

// PlayLayout places the play scene on a screen: a bar of players at the
// top and the board, as large as fits, below it, and beside or below the
// board a panel (the network overlay) when one is shown.
type PlayLayout struct {
	// Bar is the strip at the top: the round and the status line, then
	// each player's colour, name and score (see Header).
	Bar Rect
	// Grid is where the board goes.
	Grid Grid
	// Panel is where the panel goes, clear of the bar and the board; empty
	// when no panel was asked for.
	Panel Rect
}

// BarHeight returns the height of the play scene's bar on a screen h
// pixels high: two rows of text.
func BarHeight(h float64) float64 { return math.Max(40, math.Round(0.085*h)) }

// Play returns the play layout for a screen w×h pixels, with the board
// rotated by o.
func Play(w, h float64, o Orientation) PlayLayout {
	return PlayWithPanel(w, h, o, 0, 0)
}

// PlayWithPanel is Play with room for a panel of pw×ph pixels (0×0: no
// panel) that must not cover the board: the panel goes to the right of the
// board or below it, whichever leaves the larger board, and is shrunk to
// the room there is (at most 40% of the screen's width, or of the height
// under the bar).
func PlayWithPanel(w, h float64, o Orientation, pw, ph float64) PlayLayout {
	bar := BarHeight(h)
	m := math.Round(0.015 * math.Min(w, h))
	l := PlayLayout{Bar: Rect{0, 0, w, bar}}
	if pw <= 0 || ph <= 0 {
		l.Grid = FitGrid(m, bar+m, w-2*m, h-bar-2*m, o)
		return l
	}
	// The board keeps most of the screen: the panel gets at most 40% of
	// the width beside it or of the height below it (and shows less).
	pw, ph = math.Min(pw, 0.4*w), math.Min(ph, 0.4*(h-bar))
	right := math.Min(w-pw-3*m, h-bar-2*m) // board size with the panel at its right
	below := math.Min(w-2*m, h-bar-ph-3*m) // ... with the panel below it
	if right >= below {
		l.Grid = FitGrid(m, bar+m, math.Max(1, w-pw-3*m), h-bar-2*m, o)
		x := l.Grid.X + l.Grid.Size() + m
		l.Panel = Rect{x, bar + m, math.Max(0, math.Min(pw, w-m-x)), math.Max(0, math.Min(ph, h-bar-2*m))}
		return l
	}
	l.Grid = FitGrid(m, bar+m, w-2*m, math.Max(1, h-bar-ph-3*m), o)
	y := l.Grid.Y + l.Grid.Size() + m
	pw = math.Max(0, math.Min(pw, w-2*m))
	l.Panel = Rect{(w - pw) / 2, y, pw, math.Max(0, math.Min(ph, h-m-y))}
	return l
}
