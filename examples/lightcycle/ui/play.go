package ui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// Colours of the board.
var (
	boardFill = view.RGB{R: 0.03, G: 0.055, B: 0.1}
	gridLine  = view.RGB{R: 0.16, G: 0.28, B: 0.45}
	wallFill  = view.RGB{R: 0.1, G: 0.17, B: 0.28}
	wallEdge  = view.RGB{R: 0.55, G: 0.85, B: 1}
	barFill   = view.RGB{R: 0.04, G: 0.065, B: 0.12}
	dimText   = view.RGB{R: 0.55, G: 0.62, B: 0.72}
)

// drawPlay draws the play scene: the players' bar and the board.
func (g *Game) drawPlay(screen *ebiten.Image) {
	s := &g.state
	w, h := float64(g.w), float64(g.h)
	l := view.Play(w, h, view.ForPlayer(s.Game, s.Local))
	g.drawBar(screen, l.Bar)
	if s.Game == nil {
		return
	}
	g.drawBoard(screen, g.glowLayer(screen), l.Grid)
	g.drawCountdown(screen, l.Grid)
}

// drawBoard draws the board: background, grid, wall ring, then the glow of
// trails, heads and derez effects, and the shapes themselves on top of
// their glow (so each keeps its true colour).
func (g *Game) drawBoard(screen, glow *ebiten.Image, b view.Grid) {
	s := &g.state
	size, cell := b.Size(), b.Cell
	fillRect(screen, view.Rect{X: b.X, Y: b.Y, W: size, H: size}, boardFill.NRGBA(1))

	// Grid every 10 cells, and the wall ring with a bright inner edge. The
	// board is square and so is its grid, so these need no rotation.
	gw := math.Max(1, cell*0.12)
	for k := 10; k < sim.Size; k += 10 {
		o := float64(k) * cell
		line(screen, b.X+o, b.Y+cell, b.X+o, b.Y+size-cell, gw, gridLine.NRGBA(0.35))
		line(screen, b.X+cell, b.Y+o, b.X+size-cell, b.Y+o, gw, gridLine.NRGBA(0.35))
	}
	for _, r := range []view.Rect{
		{X: b.X, Y: b.Y, W: size, H: cell}, {X: b.X, Y: b.Y + size - cell, W: size, H: cell},
		{X: b.X, Y: b.Y, W: cell, H: size}, {X: b.X + size - cell, Y: b.Y, W: cell, H: size},
	} {
		fillRect(screen, r, wallFill.NRGBA(1))
	}
	inner := view.Rect{X: b.X + cell, Y: b.Y + cell, W: size - 2*cell, H: size - 2*cell}
	strokeRect(glow, view.Rect{X: inner.X * glowScale, Y: inner.Y * glowScale, W: inner.W * glowScale, H: inner.H * glowScale},
		math.Max(1, cell*glowScale), wallEdge.NRGBA(0.3))

	g.drawShapes(glow, b, true)
	addGlow(screen, glow, 1)
	strokeRect(screen, inner, math.Max(1, cell*0.25), wallEdge.NRGBA(0.8))
	g.drawShapes(screen, b, false)

	// During the countdown, point out the local bike.
	if s.Countdown > 0 {
		if i := s.Game.Index(s.Local); i >= 0 {
			p := s.Game.Players()[i]
			hx, hy := b.Centre(p.Head)
			pulse := 0.5 + 0.5*math.Sin(float64(g.frame)/6)
			c := view.Colour(p.Colour)
			ring(screen, hx, hy, (2.5+pulse)*cell, math.Max(1.5, 0.3*cell), c.NRGBA(0.9))
			label{bold: true, size: math.Max(12, 3.2*cell), align: text.AlignCenter, colour: c.Mix(view.White, 0.4)}.
				draw(screen, "YOU", hx, hy-6*cell)
		}
	}
}

// drawShapes draws the derez effects, the trails and the heads: the crisp
// shapes on the screen, or with glowPass their bloom on the glow layer
// (coordinates scaled by glowScale, strokes wider).
func (g *Game) drawShapes(dst *ebiten.Image, b view.Grid, glowPass bool) {
	s := &g.state
	cell := b.Cell
	k := 1.0
	if glowPass {
		k = glowScale
	}
	pos := func(c sim.Cell) (float64, float64) {
		x, y := b.Centre(c)
		return x * k, y * k
	}
	tw := math.Max(1.5, 0.42*cell)

	// Derez effects under the live trails: the lost trail fading, and the
	// expanding circle.
	for _, e := range g.effects.All() {
		c := view.Colour(e.Colour)
		a := e.Alpha()
		for _, seg := range e.Trail {
			x0, y0 := pos(seg.From)
			x1, y1 := pos(seg.To)
			if glowPass {
				line(dst, x0, y0, x1, y1, math.Max(1, tw*2.5*k), c.NRGBA(0.6*a))
			} else {
				line(dst, x0, y0, x1, y1, tw, c.Mix(view.White, 0.3*a).NRGBA(0.8*a))
			}
		}
		x, y := pos(e.Cell)
		r := math.Max(1, e.Radius()*cell*k)
		if glowPass {
			circle(dst, x, y, r, c.NRGBA(0.25*a))
			ring(dst, x, y, r, math.Max(1, cell*k*1.2), c.NRGBA(a))
		} else {
			circle(dst, x, y, r, c.NRGBA(0.25*a))
			ring(dst, x, y, r, math.Max(1.5, 0.35*cell), c.Mix(view.White, 0.35).NRGBA(a))
		}
		if e.Age < 8 {
			flash := 1 - float64(e.Age)/8
			circle(dst, x, y, 1.6*cell*k*(1+2*float64(e.Age)/8), view.White.NRGBA(flash))
		}
	}

	// Trails in each player's colour, then the head segment in white.
	for i, p := range s.Game.Players() {
		g.trail = s.Game.Trail(g.trail[:0], i)
		if len(g.trail) == 0 {
			continue
		}
		c := view.Colour(p.Colour)
		g.segs = view.AppendSegments(g.segs[:0], g.trail)
		for _, seg := range g.segs {
			x0, y0 := pos(seg.From)
			x1, y1 := pos(seg.To)
			if glowPass {
				line(dst, x0, y0, x1, y1, math.Max(1, tw*3*k), c.NRGBA(0.7))
			} else {
				line(dst, x0, y0, x1, y1, tw, c.NRGBA(1))
			}
		}
		if !p.Alive {
			continue
		}
		hx, hy := pos(p.Head)
		if glowPass {
			circle(dst, hx, hy, math.Max(1, 1.8*cell*k), c.Mix(view.White, 0.4).NRGBA(0.9))
			continue
		}
		if hs, ok := view.HeadSegment(g.trail); ok {
			x0, y0 := pos(hs.From)
			line(dst, x0, y0, hx, hy, tw*1.2, view.White.NRGBA(1))
		}
		circle(dst, hx, hy, math.Max(1.5, 0.4*cell), view.White.NRGBA(1))
	}
}

// drawCountdown draws 3, 2, 1 over the board, then GO! as the round starts.
func (g *Game) drawCountdown(screen *ebiten.Image, b view.Grid) {
	s := &g.state
	cx, cy := b.X+b.Size()/2, b.Y+b.Size()/2
	size := b.Size() * 0.22
	switch {
	case s.Countdown > 0:
		n := (s.Countdown + sim.TPS - 1) / sim.TPS
		frac := float64(s.Countdown%sim.TPS) / sim.TPS // 1 -> 0 over each second
		if frac == 0 {
			frac = 1
		}
		g.glowText(screen, strconv.Itoa(n), cx, cy, size*(0.8+0.2*frac), wallEdge, 0.5+0.5*frac)
	case s.Game.Ticks() < sim.TPS/2 && s.Game.Round() > 0 && s.Game.Steps() < 6:
		a := 1 - float64(s.Game.Ticks())/(sim.TPS/2)
		g.glowText(screen, "GO!", cx, cy, size*(1+0.3*(1-a)), view.White.Mix(wallEdge, 0.3), a)
	}
}

// drawBar draws the strip at the top: the round, each player's colour, name
// and score (dimmed once crashed), and the status line.
func (g *Game) drawBar(screen *ebiten.Image, bar view.Rect) {
	s := &g.state
	fillRect(screen, bar, barFill.NRGBA(1))
	line(screen, bar.X, bar.Y+bar.H, bar.X+bar.W, bar.Y+bar.H, 1, gridLine.NRGBA(0.8))
	fs := bar.H * 0.42
	m := bar.H * 0.4
	cy := bar.Y + bar.H/2
	round := "LOBBY"
	if s.Game != nil {
		round = fmt.Sprintf("ROUND %d", s.Game.Round())
	}
	label{bold: true, size: fs, align: text.AlignStart, colour: wallEdge}.draw(screen, round, m, cy)
	statusW := 0.22 * bar.W
	label{size: fs * 0.9, align: text.AlignEnd, colour: dimText}.draw(screen, s.Status, bar.W-m, cy)
	if s.Game == nil {
		return
	}
	players := s.Game.Players()
	x0 := m + 6*fs
	slot := (bar.W - x0 - statusW - m) / float64(max(1, len(players)))
	for i, p := range players {
		x := x0 + float64(i)*slot
		c := view.Colour(p.Colour)
		a := 1.0
		if !p.Alive {
			a = 0.35
		}
		circle(screen, x+fs*0.4, cy, fs*0.38, c.NRGBA(a))
		name := s.Name(p.ID)
		score := strconv.Itoa(p.Score)
		nameC := view.White
		if p.ID == s.Local {
			nameC = c.Mix(view.White, 0.5)
		}
		avail := slot - fs*1.2 - text.Advance(score, &text.GoTextFace{Source: boldFont(), Size: fs}) - fs*0.6
		label{size: fs, align: text.AlignStart, colour: nameC, alpha: a}.draw(screen, fit(name, fs, avail), x+fs, cy)
		label{bold: true, size: fs, align: text.AlignEnd, colour: c, alpha: a}.draw(screen, score, x+slot-fs*0.6, cy)
	}
}

// boldFont returns the bold face source, loading the fonts if needed.
func boldFont() *text.GoTextFaceSource {
	loadFonts()
	return fontBold
}

// fit shortens s with an ellipsis until it is at most width pixels wide in
// the regular font at size.
func fit(s string, size, width float64) string {
	loadFonts()
	face := &text.GoTextFace{Source: fontRegular, Size: size}
	if text.Advance(s, face) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; text.Advance(t, face) <= width {
			return t
		}
	}
	return ""
}
