package ui

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// longSeats gives g's players long names.
func longSeats(g *sim.Game) []view.Seat {
	seats := seatsOf(g)
	for i := range seats {
		seats[i].Name = strings.Repeat("catherine-", i+1)
	}
	return seats
}

// eightRobots returns a game of eight robots with big scores.
func eightRobots(t *testing.T) *sim.Game {
	t.Helper()
	var ps []sim.PlayerConfig
	for i := range sim.MaxPlayers {
		ps = append(ps, sim.PlayerConfig{ID: fmt.Sprintf("r%d", i), Colour: i, Robot: true})
	}
	g, err := sim.New(sim.Config{Seed: 2, Players: ps})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkHeaderInk draws the header bar of g's state on screens of several
// sizes, and checks that its text boxes do not overlap and that every
// pixel the bar's texts and dots drew lies in one of the boxes (with a
// pixel or two for anti-aliasing).
func checkHeaderInk(t *testing.T, g *Game) {
	t.Helper()
	bg := barFill.NRGBA(1)
	for _, sz := range [][2]int{{720, 760}, {480, 640}, {1280, 800}, {320, 480}, {1920, 1080}} {
		w, h := sz[0], sz[1]
		g.w, g.h = w, h
		l := view.Play(float64(w), float64(h), 0)
		img := ebiten.NewImage(w, int(l.Bar.H)+2)
		g.drawBar(img, l.Bar)
		px := image.NewRGBA(img.Bounds())
		img.ReadPixels(px.Pix)
		img.Deallocate()
		hl := g.header(l.Bar)
		boxes := hl.Boxes()
		for i, a := range boxes {
			for _, b := range boxes[i+1:] {
				if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
					t.Errorf("%dx%d: header boxes %+v and %+v overlap", w, h, a, b)
				}
			}
		}
		stray := 0
		var first image.Point
		for y := 0; y < int(l.Bar.H)-1; y++ {
			for x := range w {
				c := px.RGBAAt(x, y)
				d := max(absDiff(c.R, bg.R), absDiff(c.G, bg.G), absDiff(c.B, bg.B))
				if d <= 24 {
					continue
				}
				in := false
				for _, b := range boxes {
					if float64(x) >= b.X-2 && float64(x) < b.X+b.W+2 && float64(y) >= b.Y-2 && float64(y) < b.Y+b.H+2 {
						in = true
						break
					}
				}
				if !in {
					if stray == 0 {
						first = image.Point{x, y}
					}
					stray++
				}
			}
		}
		if stray > 0 {
			t.Errorf("%dx%d: %d pixels of the header drawn outside every text box (first at %v)", w, h, stray, first)
		}
		if len(hl.Players) != len(g.state.Game.Players()) || hl.Status.Text == "" && w >= 640 {
			t.Errorf("%dx%d: %d player slots, status %q", w, h, len(hl.Players), hl.Status.Text)
		}
	}
}

func absDiff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }

// countdownMatch counts down from 10 updates to a round whose steps never
// arrive (a host gone silent): its board stays at tick 0.
type countdownMatch struct {
	fixed
}

func (c *countdownMatch) State() view.State {
	s := c.fixed.State()
	s.Countdown = max(0, 10-c.updates)
	return s
}

// panelLayer is a Panel that fills its room magenta.
type panelLayer struct{ drawIn, draw int }

var magenta = color.RGBA{255, 0, 255, 255}

func (p *panelLayer) Update() {}
func (p *panelLayer) Draw(screen *ebiten.Image) {
	p.draw++
	screen.SubImage(image.Rect(screen.Bounds().Dx()-100, 0, screen.Bounds().Dx(), 100)).(*ebiten.Image).Fill(magenta)
}
func (p *panelLayer) Size(maxW, maxH float64) (float64, float64, bool) { return 260, 300, true }
func (p *panelLayer) DrawIn(screen *ebiten.Image, r view.Rect) {
	p.drawIn++
	fillRect(screen, r, magenta)
}

// moreScenarios are the screen checks added to the smoke test's run (one
// RunGame per process): the header, the local player's crash, GO! with a
// silent host, and the overlay's panel beside the board.
func moreScenarios(t *testing.T) []*scenario {
	var out []*scenario

	// The header with eight players, long names and a long status line.
	hg := eightRobots(t)
	for range 3 {
		hg.Step()
	}
	hm := &fixed{state: view.State{Scene: view.ScenePlay, Game: hg, Local: "r2", Seats: longSeats(hg),
		Status: "round 12: catherine-catherine-catherine- wins after 42.7 s · r0 3, r1 0, r2 9"}}
	header := &scenario{name: "header", game: newGame(t, hm, 10)}
	header.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		5: func(t *testing.T, g *Game, _ *image.RGBA) {
			w, h := g.w, g.h
			checkHeaderInk(t, g)
			g.w, g.h = w, h
		},
	}
	out = append(out, header)

	// The local bike crashed, the round goes on: the screen says so.
	cg := robotGame(t, 11)
	for {
		o, _ := cg.Step()
		if len(o.Deaths) > 0 {
			break
		}
	}
	local := ""
	for _, p := range cg.Players() {
		if !p.Alive {
			local = p.ID
		}
	}
	cm := &fixed{state: view.State{Scene: view.ScenePlay, Game: cg, Local: local, Seats: seatsOf(cg), Status: "test"}}
	crashed := &scenario{name: "crashed", game: newGame(t, cm, 10)}
	crashed.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		5: func(t *testing.T, g *Game, img *image.RGBA) {
			if _, over := cg.Result(); over {
				t.Error("the crash ended the round; pick another seed")
				return
			}
			l := g.playLayout()
			b := l.Grid
			c := view.Colour(cg.Players()[cg.Index(local)].Colour).Mix(view.White, 0.45)
			y := b.Y + b.Size()*0.12
			n := 0
			for x := b.X + b.Size()*0.1; x < b.X+b.Size()*0.9; x++ {
				for dy := -6.0; dy <= 6; dy++ {
					if near(img, x, y+dy, c, 30) {
						n++
					}
				}
			}
			if n < 20 {
				t.Errorf("no \"you crashed\" text in the local colour at the top of the board (%d pixels)", n)
			}
		},
	}
	out = append(out, crashed)

	// The countdown ends but no step ever comes: GO! shows, then goes; it
	// is not left frozen on the board.
	gg := robotGame(t, 3)
	gm := &countdownMatch{fixed{state: view.State{Scene: view.ScenePlay, Game: gg, Local: "r0", Seats: seatsOf(gg), Status: "test"}, game: gg}}
	goScene := &scenario{name: "go", game: newGame(t, gm, 60)}
	brightAtCentre := func(g *Game, img *image.RGBA) int {
		b := g.playLayout().Grid
		cx, cy := b.X+b.Size()/2, b.Y+b.Size()/2
		n := 0
		for x := cx - b.Size()*0.2; x < cx+b.Size()*0.2; x++ {
			if p := img.RGBAAt(int(x), int(cy)); p.R > 180 && p.G > 180 && p.B > 180 {
				n++
			}
		}
		return n
	}
	goScene.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		13: func(t *testing.T, g *Game, img *image.RGBA) {
			if n := brightAtCentre(g, img); n < 5 {
				t.Errorf("frame 13: no GO! at the centre of the board (%d bright pixels)", n)
			}
		},
		11 + goFrames + 10: func(t *testing.T, g *Game, img *image.RGBA) {
			if n := brightAtCentre(g, img); n > 0 {
				t.Errorf("GO! still on the board %d frames after the countdown, with no step (%d bright pixels)", goFrames+10, n)
			}
		},
	}
	out = append(out, goScene)

	// The overlay's panel: beside the board in play, never over it.
	pg := robotGame(t, 4)
	for range 5 {
		pg.Step()
	}
	pm := &fixed{state: view.State{Scene: view.ScenePlay, Game: pg, Local: "r1", Seats: seatsOf(pg), Status: "test"}}
	pl := &panelLayer{}
	pgame, err := New(Config{Match: pm, Mute: true, Frames: 10, Overlay: pl})
	if err != nil {
		t.Fatal(err)
	}
	panel := &scenario{name: "panel", game: pgame}
	panel.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		5: func(t *testing.T, g *Game, img *image.RGBA) {
			l := g.playLayout()
			b := l.Grid
			over, beside := 0, 0
			for y := 0; y < g.h; y++ {
				for x := 0; x < g.w; x++ {
					if img.RGBAAt(x, y) != magenta {
						continue
					}
					if b.Contains(float64(x), float64(y)) || l.Bar.Contains(float64(x), float64(y)) {
						over++
					} else if l.Panel.Contains(float64(x), float64(y)) {
						beside++
					}
				}
			}
			if over > 0 || beside == 0 || pl.drawIn == 0 || pl.draw != 0 {
				t.Errorf("panel: %d pixels over the board or bar, %d beside it; DrawIn %d, Draw %d calls", over, beside, pl.drawIn, pl.draw)
			}
		},
	}
	out = append(out, panel)
	return out
}

// robotsMatch is a lobby whose host may seat robots.
type robotsMatch struct {
	fixed
	n   int
	set []int
}

func (r *robotsMatch) Robots() (int, bool) { return r.n, true }
func (r *robotsMatch) SetRobots(n int)     { r.set = append(r.set, n); r.n = n }

// TestRobotsKeyInLobby: B in the lobby asks the match for one more robot,
// and back to none when the seats are full.
func TestRobotsKeyInLobby(t *testing.T) {
	m := &robotsMatch{fixed: fixed{state: view.State{Scene: view.SceneLobby,
		Seats: []view.Seat{{ID: "me", Name: "me", Local: true}}}}}
	g := newGame(t, m, 0)
	for range 8 {
		g.press(view.ButtonRobots)
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 0}; fmt.Sprint(m.set) != fmt.Sprint(want) {
		t.Errorf("SetRobots calls %v, want %v", m.set, want)
	}
}
