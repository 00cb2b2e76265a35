package view

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// fakeMeasure is a font where every rune is 0.6 of the size wide (0.66
// bold): wide enough to make long texts collide if the layout let them.
func fakeMeasure(s string, bold bool, size float64) float64 {
	k := 0.6
	if bold {
		k = 0.66
	}
	return k * size * float64(utf8.RuneCountInString(s))
}

// CheckHeader reports what is wrong with a header layout in bar: a box
// outside the bar, two boxes that overlap, a score that is not right
// after its own player's name (nearer the next player's dot than its
// own), or a text wider than its box.
func checkHeader(l HeaderLayout, bar Rect, measure Measure) []string {
	var errs []string
	boxes := l.Boxes()
	for i, a := range boxes {
		if !inside(a, bar) {
			errs = append(errs, fmt.Sprintf("box %d %+v outside the bar %+v", i, a, bar))
		}
		for j := i + 1; j < len(boxes); j++ {
			if overlap(a, boxes[j]) {
				errs = append(errs, fmt.Sprintf("boxes %d %+v and %d %+v overlap", i, a, j, boxes[j]))
			}
		}
	}
	texts := []TextBox{l.Round, l.Status}
	for i, s := range l.Players {
		texts = append(texts, s.Name, s.Score)
		if s.Score.X < s.Dot.X+s.Dot.W || (s.Name.Text != "" && s.Score.X < s.Name.X+s.Name.W) {
			errs = append(errs, fmt.Sprintf("player %d: score at %v before its name or dot", i, s.Score.X))
		}
		if i+1 < len(l.Players) {
			next := l.Players[i+1].Dot
			own := s.Score.X - (s.Dot.X + s.Dot.W)
			if s.Name.Text != "" {
				own = s.Score.X - (s.Name.X + s.Name.W)
			}
			if toNext := next.X - (s.Score.X + s.Score.W); toNext <= own {
				errs = append(errs, fmt.Sprintf("player %d: score %q is %.1f px from its name and %.1f px from the next dot", i, s.Score.Text, own, toNext))
			}
		}
	}
	for _, tb := range texts {
		if tb.Text != "" && measure(tb.Text, tb.Bold, tb.Size) > tb.W+0.01 {
			errs = append(errs, fmt.Sprintf("%q is wider than its box %+v", tb.Text, tb.Rect))
		}
	}
	return errs
}

// TestHeaderTextsNeverOverlap: at window sizes from a phone to a wall and
// 1-8 players with long names, big scores and long status notes (the
// round result, "bob left: ..."), no text box overlaps another and each
// score sits next to its own player.
func TestHeaderTextsNeverOverlap(t *testing.T) {
	status := []string{
		"",
		"LAN · 2 other players · ann hosts",
		"round 12: catherine-the-great wins after 42.7 s · ann 3, bob 0, catherine-the-great 9, robot 1 2",
		"bob left",
		"ann (host) not responding…",
	}
	for _, w := range []float64{160, 320, 480, 640, 800, 960, 1280, 1920, 3840} {
		for _, h := range []float64{200, 480, 1000, 2160} {
			bar := Play(w, h, 0).Bar
			for n := 0; n <= 8; n++ {
				var ps []HeaderPlayer
				for i := range n {
					name := strings.Repeat(string(rune('a'+i)), 3+i*4)
					ps = append(ps, HeaderPlayer{Name: name, Score: i * i * 13})
				}
				for _, st := range status {
					l := Header(bar, fmt.Sprintf("ROUND %d", 10+n), st, ps, fakeMeasure)
					if errs := checkHeader(l, bar, fakeMeasure); len(errs) > 0 {
						t.Fatalf("%vx%v, %d players, status %q:\n%s", w, h, n, st, strings.Join(errs, "\n"))
					}
					if len(l.Players) != n {
						t.Fatalf("%d slots for %d players", len(l.Players), n)
					}
					if w >= 640 && n <= 4 && l.Status.Text == "" && st != "" {
						t.Errorf("%vx%v: the status %q was dropped", w, h, st)
					}
				}
			}
		}
	}
}

// TestHeaderShowsWhatFits: on a wide screen nothing is shortened.
func TestHeaderShowsWhatFits(t *testing.T) {
	bar := Play(1280, 1000, 0).Bar
	l := Header(bar, "ROUND 2", "bob left", []HeaderPlayer{{"ann", 1}, {"bob", 0}}, fakeMeasure)
	if l.Round.Text != "ROUND 2" || l.Status.Text != "bob left" || l.Players[0].Name.Text != "ann" || l.Players[1].Score.Text != "0" {
		t.Fatalf("%+v", l)
	}
}

func TestFit(t *testing.T) {
	if got := Fit("abcdef", false, 10, 36, fakeMeasure); got != "abcdef" {
		t.Errorf("fits: %q", got)
	}
	if got := Fit("abcdef", false, 10, 30, fakeMeasure); got != "abcd…" {
		t.Errorf("shortened: %q", got)
	}
	if got := Fit("abcdef", false, 10, 5, fakeMeasure); got != "" {
		t.Errorf("nothing fits: %q", got)
	}
}

// TestPanelBesideTheBoard: the network overlay's panel never covers the
// board or the bar, and stays on the screen.
func TestPanelBesideTheBoard(t *testing.T) {
	for _, sz := range append(screens, [2]float64{960, 1000}, [2]float64{720, 760}, [2]float64{300, 300}) {
		w, h := sz[0], sz[1]
		for _, p := range [][2]float64{{260, 120}, {300, 400}, {260, 2000}} {
			l := PlayWithPanel(w, h, 2, p[0], p[1])
			board := Rect{l.Grid.X, l.Grid.Y, l.Grid.Size(), l.Grid.Size()}
			screen := Rect{0, 0, w, h}
			if l.Panel.W <= 0 || l.Panel.H <= 0 || !inside(l.Panel, screen) || !inside(board, screen) {
				t.Errorf("%vx%v panel %v: panel %+v, board %+v", w, h, p, l.Panel, board)
			}
			if overlap(l.Panel, board) || overlap(l.Panel, l.Bar) || overlap(board, l.Bar) {
				t.Errorf("%vx%v panel %v: panel %+v, board %+v, bar %+v overlap", w, h, p, l.Panel, board, l.Bar)
			}
			if l.Grid.Size() < 0.4*min(w, h-l.Bar.H) {
				t.Errorf("%vx%v panel %v: board %v is too small", w, h, p, l.Grid.Size())
			}
		}
		if l := PlayWithPanel(w, h, 0, 0, 0); l != Play(w, h, 0) || l.Panel != (Rect{}) {
			t.Errorf("%vx%v: no panel, but %+v", w, h, l)
		}
	}
}
