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

// drawPlay draws the play scene: the players' bar and the board, and
// the panel (the network overlay) beside the board when it is shown.
func (g *Game) drawPlay(screen *ebiten.Image) {
	s := &g.state
	l := g.playLayout()
	g.drawBar(screen, l.Bar)
	if s.Game == nil {
		return
	}
	g.drawBoard(screen, g.glowLayer(screen), l.Grid)
	if s.Scene == view.ScenePlay {
		g.drawCountdown(screen, l.Grid)
		g.drawCrashed(screen, l.Grid)
	}
}

// playLayout is the play scene's layout on this screen, with room for the
// overlay's panel if it is one and is shown.
func (g *Game) playLayout() view.PlayLayout {
	s := &g.state
	w, h := float64(g.w), float64(g.h)
	o := view.ForPlayer(s.Game, s.Local)
	if p, ok := g.cfg.Overlay.(Panel); ok {
		if pw, ph, shown := p.Size(0.4*w, h); shown {
			return view.PlayWithPanel(w, h, o, pw, ph)
		}
	}
	return view.Play(w, h, o)
}

// drawCrashed tells the local player, once its bike has crashed and while
// the round goes on, that it now watches.
func (g *Game) drawCrashed(screen *ebiten.Image, b view.Grid) {
	s := &g.state
	i := s.Game.Index(s.Local)
	if s.Local == "" || i < 0 {
		return
	}
	if _, over := s.Game.Result(); over {
		return
	}
	p := s.Game.Players()[i]
	if p.Alive {
		return
	}
	c := view.Colour(p.Colour)
	size := math.Max(12, b.Size()*0.045)
	cx, y := b.X+b.Size()/2, b.Y+b.Size()*0.12
	msg := "you crashed — watching"
	size = fitSize(msg, true, size, b.Size()*0.8)
	r := view.Rect{X: cx - b.Size()*0.42, Y: y - size, W: b.Size() * 0.84, H: 2 * size}
	fillRect(screen, r, background.NRGBA(0.75))
	label{bold: true, size: size, align: text.AlignCenter, colour: c.Mix(view.White, 0.45)}.draw(screen, msg, cx, y)
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

	// Trails in each player's colour, then the head segment and the head
	// in a lighter shade of it.
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
		// The head in the player's colour, lightened so it stands out from
		// the trail, with a small white core: whose head it is shows at a
		// glance.
		head := view.HeadColour(p.Colour)
		if hs, ok := view.HeadSegment(g.trail); ok {
			x0, y0 := pos(hs.From)
			line(dst, x0, y0, hx, hy, tw*1.2, head.NRGBA(1))
		}
		circle(dst, hx, hy, math.Max(2, 0.75*cell), head.NRGBA(1))
		circle(dst, hx, hy, math.Max(1, 0.28*cell), view.White.NRGBA(1))
	}
}

// goFrames is how long GO! shows once the countdown is over: half a
// second at sim.TPS.
const goFrames = sim.TPS / 2

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
	case g.goAt > 0 && g.frame-g.goAt < goFrames:
		// GO! fades out over goFrames updates of this screen, counted from
		// when its countdown ended: never from the simulation's ticks, which
		// stand still when no step arrives.
		a := 1 - float64(g.frame-g.goAt)/goFrames
		g.glowText(screen, "GO!", cx, cy, size*(1+0.3*(1-a)), view.White.Mix(wallEdge, 0.3), a)
	}
}

// drawBar draws the strip at the top: the round and the status line,
// then each player's colour, name and score (dimmed once crashed), placed
// by view.Header so that no two texts overlap.
func (g *Game) drawBar(screen *ebiten.Image, bar view.Rect) {
	s := &g.state
	fillRect(screen, bar, barFill.NRGBA(1))
	line(screen, bar.X, bar.Y+bar.H, bar.X+bar.W, bar.Y+bar.H, 1, gridLine.NRGBA(0.8))
	l := g.header(bar)
	drawBox(screen, l.Round, text.AlignStart, wallEdge, 1)
	drawBox(screen, l.Status, text.AlignStart, dimText, 1)
	if s.Game == nil {
		return
	}
	for i, p := range s.Game.Players() {
		if i >= len(l.Players) {
			break
		}
		sl := l.Players[i]
		c := view.Colour(p.Colour)
		a := 1.0
		if !p.Alive {
			a = 0.35
		}
		x, y := sl.Dot.Centre()
		circle(screen, x, y, sl.Dot.W/2, c.NRGBA(a))
		nameC := view.White
		if p.ID == s.Local {
			nameC = c.Mix(view.White, 0.5)
		}
		drawBox(screen, sl.Name, text.AlignStart, nameC, a)
		drawBox(screen, sl.Score, text.AlignStart, c, a)
	}
}

// header lays out the bar's texts for the current state.
func (g *Game) header(bar view.Rect) view.HeaderLayout {
	s := &g.state
	round := "LOBBY"
	var players []view.HeaderPlayer
	if s.Game != nil {
		round = fmt.Sprintf("ROUND %d", s.Game.Round())
		for _, p := range s.Game.Players() {
			players = append(players, view.HeaderPlayer{Name: s.Name(p.ID), Score: p.Score})
		}
	}
	return view.Header(bar, round, s.Status, players, measure)
}

// measure is view.Measure for the screen's fonts.
func measure(s string, bold bool, size float64) float64 {
	loadFonts()
	src := fontRegular
	if bold {
		src = fontBold
	}
	return text.Advance(s, &text.GoTextFace{Source: src, Size: size})
}

// drawBox draws a text box's text in colour c with opacity a.
func drawBox(screen *ebiten.Image, b view.TextBox, align text.Align, c view.RGB, a float64) {
	if b.Text == "" {
		return
	}
	_, y := b.Centre()
	label{bold: b.Bold, size: b.Size, align: align, colour: c, alpha: a}.draw(screen, b.Text, b.X, y)
}

// fit shortens s with an ellipsis until it is at most width pixels wide in
// the regular font at size.
func fit(s string, size, width float64) string {
	return view.Fit(s, false, size, width, measure)
}
