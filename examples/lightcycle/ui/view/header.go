package view

import (
	"math"
	"strconv"
)

// Measure returns the width in pixels of s drawn in the screen's font at
// size pixels, bold or regular. The screen passes its font's measure; tests
// may pass any.
type Measure func(s string, bold bool, size float64) float64

// TextBox is a line of text placed on the screen: Text (already shortened
// to fit, possibly empty) drawn from the left edge of Rect, vertically
// centred in it, at Size pixels. Rect is as wide as the text.
type TextBox struct {
	Rect
	Text string
	Size float64
	Bold bool
}

// HeaderPlayer is one player as the header shows it.
type HeaderPlayer struct {
	Name  string
	Score int
}

// HeaderSlot is one player's part of the header: the colour dot, then the
// name, then the score right after it, so each score sits next to its own
// player; the gap to the next slot is wider than the gaps inside one.
type HeaderSlot struct {
	Dot   Rect
	Name  TextBox
	Score TextBox
}

// HeaderLayout places the text of the play scene's header bar: the round
// and the status line on the top row, the players on the bottom row. No
// two of its boxes overlap, and every box lies inside the bar, at any size
// (texts are shortened with an ellipsis, the players' row shrinks its font
// when there are many).
type HeaderLayout struct {
	Round, Status TextBox
	Players       []HeaderSlot
}

// Boxes returns every non-empty box of the layout (texts and dots), for
// tests and debugging.
func (l *HeaderLayout) Boxes() []Rect {
	var out []Rect
	add := func(r Rect) {
		if r.W > 0 && r.H > 0 {
			out = append(out, r)
		}
	}
	add(l.Round.Rect)
	add(l.Status.Rect)
	for _, s := range l.Players {
		add(s.Dot)
		add(s.Name.Rect)
		add(s.Score.Rect)
	}
	return out
}

// Header lays out the header bar: round (e.g. "ROUND 3") at the top left,
// status at the top right in the room left, and one slot per player below.
// Like every function of this package, it never blocks and is safe for
// concurrent use (measure must be too).
func Header(bar Rect, round, status string, players []HeaderPlayer, measure Measure) HeaderLayout {
	var l HeaderLayout
	rowH := bar.H / 2
	m := math.Max(4, rowH*0.4)
	fs := rowH * 0.62
	boxH := math.Min(rowH, fs*1.3)
	top := bar.Y + (rowH-boxH)/2
	inner := bar.W - 2*m

	// Top row: the round, then the status in what is left, right-aligned.
	rt := Fit(round, true, fs, inner, measure)
	rw := measure(rt, true, fs)
	l.Round = TextBox{Rect: Rect{bar.X + m, top, rw, boxH}, Text: rt, Size: fs, Bold: true}
	sfs := fs * 0.9
	gap := 1.5 * fs
	room := inner - rw - gap
	if rt == "" {
		room = inner
	}
	if st := Fit(status, false, sfs, room, measure); st != "" {
		sw := measure(st, false, sfs)
		l.Status = TextBox{Rect: Rect{bar.X + bar.W - m - sw, top, sw, boxH}, Text: st, Size: sfs}
	}
	if len(players) == 0 {
		return l
	}

	// Bottom row: equal slots. Each needs at least a dot, a score and the
	// gaps; with many players on a narrow screen the font shrinks to fit.
	slot := inner / float64(len(players))
	pfs := fs
	widest := 0.0
	for _, p := range players {
		widest = math.Max(widest, measure(strconv.Itoa(p.Score), true, pfs))
	}
	// dot 0.8, gap 0.4, score, tail gap 1.0 (all in units of the font size)
	if need := pfs*2.2 + widest; need > slot && need > 0 {
		k := slot / need
		pfs *= k
		widest *= k
	}
	small := pfs * 0.4 // gap inside a slot
	tail := pfs * 1.0  // gap between slots
	ph := math.Min(rowH, pfs*1.3)
	py := bar.Y + rowH + (rowH-ph)/2
	for i, p := range players {
		x := bar.X + m + float64(i)*slot
		var s HeaderSlot
		d := pfs * 0.8
		s.Dot = Rect{x, py + (ph-d)/2, d, d}
		x += d + small
		score := strconv.Itoa(p.Score)
		sw := measure(score, true, pfs)
		nameRoom := slot - d - small - small - sw - tail
		if name := Fit(p.Name, false, pfs, nameRoom, measure); name != "" {
			nw := measure(name, false, pfs)
			s.Name = TextBox{Rect: Rect{x, py, nw, ph}, Text: name, Size: pfs}
			x += nw + small
		}
		s.Score = TextBox{Rect: Rect{x, py, sw, ph}, Text: score, Size: pfs, Bold: true}
		l.Players = append(l.Players, s)
	}
	return l
}

// Fit returns s, or s shortened with an ellipsis, so that it is at most
// width pixels wide as measured at size; "" if not even "…" fits. It
// never blocks and is safe for concurrent use if measure is.
func Fit(s string, bold bool, size, width float64, measure Measure) string {
	if width <= 0 {
		return ""
	}
	if measure(s, bold, size) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; measure(t, bold, size) <= width {
			return t
		}
	}
	return ""
}
