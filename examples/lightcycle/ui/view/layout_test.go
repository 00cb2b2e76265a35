package view

import (
	"fmt"
	"testing"
)

func inside(r, outer Rect) bool {
	return r.X >= outer.X && r.Y >= outer.Y && r.X+r.W <= outer.X+outer.W+1e-9 && r.Y+r.H <= outer.Y+outer.H+1e-9
}

func overlap(a, b Rect) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

var screens = [][2]float64{{960, 1000}, {640, 480}, {1920, 1080}, {400, 800}}

func TestLobbyLayoutFitsAndDoesNotOverlap(t *testing.T) {
	for _, sz := range screens {
		w, h := sz[0], sz[1]
		screen := Rect{0, 0, w, h}
		l := Lobby(w, h)
		var all []Rect
		all = append(all, l.Title, l.Ready, l.Help)
		all = append(all, l.Cards[:]...)
		all = append(all, l.Swatches[:]...)
		for i, r := range all {
			if r.W <= 0 || r.H <= 0 || !inside(r, screen) {
				t.Errorf("%vx%v: rect %d %+v is empty or off screen", w, h, i, r)
			}
			for j := i + 1; j < len(all); j++ {
				if overlap(r, all[j]) {
					t.Errorf("%vx%v: rects %d %+v and %d %+v overlap", w, h, i, r, j, all[j])
				}
			}
		}
		for i, r := range l.Swatches {
			x, y := r.Centre()
			if c, ok := l.Swatch(x, y); !ok || c != i {
				t.Errorf("%vx%v: centre of swatch %d hits %d, %v", w, h, i, c, ok)
			}
		}
		if _, ok := l.Swatch(0, 0); ok {
			t.Errorf("%vx%v: the corner hits a swatch", w, h)
		}
	}
}

func TestResultsAndPlayLayoutsFit(t *testing.T) {
	for _, sz := range screens {
		w, h := sz[0], sz[1]
		name := fmt.Sprintf("%vx%v", w, h)
		screen := Rect{0, 0, w, h}
		r := Results(w, h)
		all := append([]Rect{r.Banner, r.Next, r.Help}, r.Rows[:]...)
		for i, a := range all {
			if !inside(a, screen) {
				t.Errorf("%s: results rect %d off screen", name, i)
			}
			for j := i + 1; j < len(all); j++ {
				if overlap(a, all[j]) {
					t.Errorf("%s: results rects %d and %d overlap", name, i, j)
				}
			}
		}
		p := Play(w, h, 3)
		b := Rect{p.Grid.X, p.Grid.Y, p.Grid.Size(), p.Grid.Size()}
		if !inside(b, screen) || overlap(b, p.Bar) || p.Grid.Orient != 3 {
			t.Errorf("%s: board %+v and bar %+v", name, b, p.Bar)
		}
		if p.Grid.Size() < 0.8*(h-p.Bar.H) && p.Grid.Size() < 0.9*w {
			t.Errorf("%s: board %v is smaller than it needs to be", name, p.Grid.Size())
		}
	}
}
