package ui

import (
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// drawLobby draws the lobby: the title, a card with a glowing bike for each
// seat, the colour swatches and the ready button.
func (g *Game) drawLobby(screen *ebiten.Image) {
	s := &g.state
	w, h := float64(g.w), float64(g.h)
	l := view.Lobby(w, h)
	glow := g.glowLayer(screen)
	pulse := 0.5 + 0.5*math.Sin(float64(g.frame)/20)

	tx, ty := l.Title.Centre()
	g.glowText(screen, "LIGHTCYCLE", tx, ty-l.Title.H*0.08, l.Title.H*0.62, wallEdge, 0.8+0.2*pulse)
	label{size: l.Title.H * 0.2, align: text.AlignCenter, colour: dimText}.draw(screen, s.Status, tx, l.Title.Y+l.Title.H*0.95)

	me, local := s.LocalSeat()
	type bike struct {
		x, y, length float64
		c            view.RGB
		pulse        float64
	}
	var bikes []bike
	for i, r := range l.Cards {
		if i >= len(s.Seats) {
			strokeRect(screen, r, 1, gridLine.NRGBA(0.35))
			cx, cy := r.Centre()
			label{size: r.H * 0.09, align: text.AlignCenter, colour: dimText, alpha: 0.5}.draw(screen, "open seat", cx, cy)
			continue
		}
		st := s.Seats[i]
		drawSeat(screen, r, st)
		length := math.Min(r.W*0.84, r.H*1.5)
		p := pulse
		if !st.Ready {
			p = 0.1 // an idle bike barely glows
		}
		bikes = append(bikes, bike{r.X + (r.W-length)/2, r.Y + r.H*0.55, length, view.Colour(st.Colour), p})
	}

	// Glow first, then the bikes and swatches on top of it.
	for _, b := range bikes {
		bikeGlow(glow, b.x, b.y, b.length, b.c, b.pulse)
		fy := b.y + wheelR*b.length
		line(glow, (b.x-0.05*b.length)*glowScale, fy*glowScale, (b.x+1.05*b.length)*glowScale, fy*glowScale, 1, b.c.NRGBA(0.4*b.pulse))
	}
	if local {
		x, y := l.Swatches[me.Colour].Centre()
		circle(glow, x*glowScale, y*glowScale, l.Swatches[me.Colour].W*0.75*glowScale, view.Colour(me.Colour).NRGBA(0.8))
	}
	addGlow(screen, glow, 1)
	for _, b := range bikes {
		fy := b.y + wheelR*b.length
		line(screen, b.x-0.05*b.length, fy, b.x+1.05*b.length, fy, 1, b.c.NRGBA(0.45))
		drawBike(screen, b.x, b.y, b.length, b.c)
	}

	for i, r := range l.Swatches {
		c := view.Colour(i)
		x, y := r.Centre()
		rad := r.W / 2
		switch {
		case local && i == me.Colour:
			circle(screen, x, y, rad, c.NRGBA(1))
			ring(screen, x, y, rad*1.22, math.Max(2, rad*0.12), view.White.NRGBA(0.9))
		case takenByOther(s.Seats, i):
			circle(screen, x, y, rad*0.8, c.NRGBA(0.25))
			d := rad * 0.35
			line(screen, x-d, y-d, x+d, y+d, math.Max(1.5, rad*0.1), background.NRGBA(0.9))
			line(screen, x-d, y+d, x+d, y-d, math.Max(1.5, rad*0.1), background.NRGBA(0.9))
		default:
			circle(screen, x, y, rad*0.8, c.NRGBA(0.85))
		}
	}

	switch {
	case !local:
		g.button(screen, l.Ready, "watching: starting soon", wallEdge, false)
	case me.Ready:
		g.button(screen, l.Ready, "READY  ·  waiting for the others", view.Colour(me.Colour), false)
	default:
		g.button(screen, l.Ready, "READY", view.Colour(me.Colour), true)
	}
	help := "←/→ or A/D: colour  ·  Enter, Space or click: ready  ·  M: mute  ·  F11: full screen  ·  Esc: quit"
	if r, ok := g.match.(view.Robots); ok {
		if _, can := r.Robots(); can {
			help = "←/→: colour  ·  B: robots  ·  Enter or click: ready  ·  M: mute  ·  F11: full screen  ·  Esc: quit"
		}
	}
	helpLine(screen, l.Help, help)
}

// helpLine draws a line of key help, shrunk to fit r.
func helpLine(screen *ebiten.Image, r view.Rect, s string) {
	x, y := r.Centre()
	size := fitSize(s, false, r.H*0.38, r.W)
	label{size: size, align: text.AlignCenter, colour: dimText}.draw(screen, s, x, y)
}

// drawSeat draws one seat's card, without its bike: the frame in the
// seat's colour, the name, and whether the player is ready.
func drawSeat(screen *ebiten.Image, r view.Rect, st view.Seat) {
	c := view.Colour(st.Colour)
	fillRect(screen, r, c.NRGBA(0.05))
	border := 0.35
	if st.Local {
		border = 0.9
	}
	strokeRect(screen, r, math.Max(1, r.H*0.012), c.NRGBA(border))
	cx := r.X + r.W/2
	fs := r.H * 0.1
	name := st.Name
	if st.Local {
		name += " (you)"
	}
	label{bold: st.Local, size: fs, align: text.AlignCenter, colour: view.White}.
		draw(screen, fit(name, fs, r.W*0.9), cx, r.Y+r.H*0.12)
	state, sc := "not ready", dimText
	switch {
	case st.Robot:
		state, sc = "robot · ready", c
	case st.Spectator:
		state, sc = "watching", dimText
	case st.Ready:
		state, sc = "READY", c
	}
	label{bold: st.Ready, size: fs * 0.85, align: text.AlignCenter, colour: sc}.draw(screen, state, cx, r.Y+r.H*0.9)
}
