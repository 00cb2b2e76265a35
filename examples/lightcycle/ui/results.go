package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// drawResults draws the finished board dimmed, the winner or draw banner,
// the scores, and the next-round button.
func (g *Game) drawResults(screen *ebiten.Image) {
	s := &g.state
	g.drawPlay(screen)
	w, h := float64(g.w), float64(g.h)
	fillRect(screen, view.Rect{W: w, H: h}, background.NRGBA(0.78))
	if s.Game == nil {
		return
	}
	l := view.Results(w, h)
	players := s.Game.Players()

	winner, _ := s.Game.Result()
	bx, by := l.Banner.Centre()
	size := l.Banner.H * 0.55
	switch {
	case winner < 0:
		g.glowText(screen, "DRAW", bx, by, size, view.White.Mix(wallEdge, 0.5), 1)
	case players[winner].ID == s.Local:
		g.glowText(screen, "YOU WIN", bx, by, size, view.Colour(players[winner].Colour), 1)
	default:
		name := strings.ToUpper(s.Name(players[winner].ID))
		g.glowText(screen, fit(name, size, l.Banner.W*0.6)+" WINS", bx, by, size, view.Colour(players[winner].Colour), 1)
	}
	label{size: l.Banner.H * 0.16, align: text.AlignCenter, colour: dimText}.
		draw(screen, fmt.Sprintf("round %d · %.1f s", s.Game.Round(), float64(s.Game.Steps()*sim.StepTicks)/sim.TPS), bx, l.Banner.Y+l.Banner.H*0.98)

	// Scores, best first; ties in seat order.
	order := make([]int, len(players))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(players[b].Score, players[a].Score) })
	for row, i := range order {
		if row >= len(l.Rows) {
			break
		}
		r := l.Rows[row]
		p := players[i]
		c := view.Colour(p.Colour)
		cy := r.Y + r.H/2
		fs := r.H * 0.45
		if i == winner {
			fillRect(screen, r, c.NRGBA(0.12))
		}
		line(screen, r.X, r.Y+r.H, r.X+r.W, r.Y+r.H, 1, gridLine.NRGBA(0.5))
		circle(screen, r.X+fs*0.8, cy, fs*0.4, c.NRGBA(1))
		name := s.Name(p.ID)
		if p.ID == s.Local {
			name += " (you)"
		}
		if p.Robot {
			name += " · robot"
		}
		label{size: fs, align: text.AlignStart, colour: view.White}.draw(screen, fit(name, fs, r.W*0.6), r.X+fs*1.8, cy)
		if st, ok := s.Seat(p.ID); ok && st.Ready && !p.Robot {
			label{size: fs * 0.8, align: text.AlignEnd, colour: dimText}.draw(screen, "ready", r.X+r.W*0.82, cy)
		}
		label{bold: true, size: fs * 1.1, align: text.AlignEnd, colour: c}.draw(screen, strconv.Itoa(p.Score), r.X+r.W-fs*0.5, cy)
	}

	me, local := s.LocalSeat()
	switch {
	case !local:
		g.button(screen, l.Next, "next round soon", wallEdge, false)
	case me.Ready:
		g.button(screen, l.Next, "waiting for the others…", wallEdge, false)
	default:
		g.button(screen, l.Next, "NEXT ROUND", wallEdge, true)
	}
	helpLine(screen, l.Help, "Enter, Space, gamepad A or click: next round  ·  M: mute  ·  Esc: quit")
}

// button draws a labelled button; an active one pulses gently.
func (g *Game) button(dst *ebiten.Image, r view.Rect, s string, c view.RGB, active bool) {
	a := 0.12
	if active {
		a = 0.2 + 0.1*math.Sin(float64(g.frame)/10)
	}
	fillRect(dst, r, c.NRGBA(a))
	strokeRect(dst, r, math.Max(1.5, r.H*0.04), c.NRGBA(0.9))
	x, y := r.Centre()
	tc := view.White
	if !active {
		tc = dimText
	}
	size := fitSize(s, active, r.H*0.4, r.W*0.9)
	label{bold: active, size: size, align: text.AlignCenter, colour: tc}.draw(dst, s, x, y)
}
