package ui

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// Ebitengine's RunGame must run on the main thread, and only once per
// process. TestMain keeps the main goroutine (which Ebitengine's init locked
// to the main thread) serving functions, and runs the tests on another
// goroutine. These tests need a display: run them under xvfb-run.
var mainThread = make(chan func())

func TestMain(m *testing.M) {
	done := make(chan int, 1)
	go func() { done <- m.Run() }()
	for {
		select {
		case f := <-mainThread:
			f()
		case code := <-done:
			os.Exit(code)
		}
	}
}

// onMainThread runs f on the main thread and waits for it.
func onMainThread(f func()) {
	done := make(chan struct{})
	mainThread <- func() { defer close(done); f() }
	<-done
}

// scenario is one ui.Game run for some frames inside the smoke test, with a
// script called before each of its updates.
type scenario struct {
	name   string
	game   *Game
	script func(frame int, g *Game)
	// shots are the frames to check (and save, with LIGHTCYCLE_SHOTS=dir).
	shots map[int]func(t *testing.T, g *Game, img *image.RGBA)
}

// harness runs scenarios one after the other in a single RunGame.
type harness struct {
	t       *testing.T
	list    []*scenario
	cur     int
	checked int // frames checked
}

func (h *harness) Update() error {
	for h.cur < len(h.list) {
		sc := h.list[h.cur]
		if sc.script != nil {
			sc.script(sc.game.frame+1, sc.game)
		}
		err := sc.game.Update()
		if errors.Is(err, ebiten.Termination) {
			h.cur++
			continue
		}
		return err
	}
	return ebiten.Termination
}

func (h *harness) Draw(screen *ebiten.Image) {
	if h.cur >= len(h.list) {
		return
	}
	sc := h.list[h.cur]
	sc.game.Draw(screen)
	check, ok := sc.shots[sc.game.frame]
	if !ok {
		return
	}
	b := screen.Bounds()
	img := image.NewRGBA(b)
	screen.ReadPixels(img.Pix)
	if dir := os.Getenv("LIGHTCYCLE_SHOTS"); dir != "" {
		if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%04d.png", sc.name, sc.game.frame))); err == nil {
			_ = png.Encode(f, img)
			f.Close()
		}
	}
	// Check now, while the state is the one drawn. Checks run on the main
	// thread, so they report with Errorf, never Fatalf.
	check(h.t, sc.game, img)
	h.checked++
}

func (h *harness) Layout(w, hh int) (int, int) {
	if h.cur < len(h.list) {
		return h.list[h.cur].game.Layout(w, hh)
	}
	return w, hh
}

// fixed is a view.Match that shows a fixed state, except that its game
// steps once, on update stepAt (if set), reporting that step's deaths.
type fixed struct {
	state   view.State
	game    *sim.Game // state.Game
	stepAt  int
	deaths  []sim.Death
	updates int
	turns   []sim.Turn
	readies []bool
}

func (f *fixed) Update() error {
	f.updates++
	if f.updates == f.stepAt {
		o, _ := f.game.Step()
		f.deaths = o.Deaths
	}
	return nil
}

func (f *fixed) State() view.State {
	s := f.state
	if f.updates == f.stepAt {
		s.Deaths = f.deaths
	}
	return s
}
func (f *fixed) Turn(t sim.Turn)  { f.turns = append(f.turns, t) }
func (f *fixed) Claim(int)        {}
func (f *fixed) Ready(ready bool) { f.readies = append(f.readies, ready) }

func newGame(t *testing.T, m view.Match, frames int) *Game {
	t.Helper()
	g, err := New(Config{Match: m, Mute: true, Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// near reports whether the pixel at (x, y) is within tol of c in each
// channel.
func near(img *image.RGBA, x, y float64, c view.RGB, tol int) bool {
	p := img.RGBAAt(int(x), int(y))
	w := c.NRGBA(1)
	d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
	return d(p.R, w.R) <= tol && d(p.G, w.G) <= tol && d(p.B, w.B) <= tol
}

// TestSmoke runs the screen for several hundred frames in a real window
// (under xvfb): an offline match from the lobby through the countdown into
// play, a crash with its derez effect, and the results. It checks what is
// on the screen at a few frames; with LIGHTCYCLE_SHOTS=dir it also saves
// those frames as PNG files.
func TestSmoke(t *testing.T) {
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		t.Skip("no display: run under xvfb-run")
	}
	h := &harness{t: t}

	// 1. Offline: lobby, pick a colour, ready, countdown, play.
	om := offline.New(offline.Config{Name: "tester", Robots: 3, Seed: 1, Colour: 5, Countdown: 60})
	play := &scenario{name: "offline", game: newGame(t, om, 420)}
	play.script = func(frame int, g *Game) {
		switch frame {
		case 5:
			g.press(view.ButtonRight) // next free colour after blue
		case 20:
			g.press(view.ButtonConfirm)
		case 200:
			g.press(view.ButtonLeft) // a turn
		}
	}
	play.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		15: func(t *testing.T, g *Game, img *image.RGBA) {
			if g.state.Scene != view.SceneLobby {
				t.Errorf("frame 15: scene %v, want lobby", g.state.Scene)
			}
			me, _ := g.state.LocalSeat()
			if me.Colour == 5 {
				t.Error("frame 15: ButtonRight in the lobby did not change the colour")
			}
			sw := view.Lobby(float64(g.w), float64(g.h)).Swatches[me.Colour]
			if x, y := sw.Centre(); !near(img, x, y, view.Colour(me.Colour), 40) {
				t.Errorf("frame 15: the chosen swatch at (%v,%v) is %v, want %v", x, y, img.At(int(x), int(y)), view.Colour(me.Colour))
			}
		},
		50: func(t *testing.T, g *Game, img *image.RGBA) {
			if g.state.Scene != view.ScenePlay || g.state.Countdown == 0 {
				t.Errorf("frame 50: scene %v countdown %d, want the countdown", g.state.Scene, g.state.Countdown)
			}
		},
		190: func(t *testing.T, g *Game, img *image.RGBA) {
			s := g.state
			i := s.Game.Index(s.Local)
			p := s.Game.Players()[i]
			l := view.Play(float64(g.w), float64(g.h), view.ForPlayer(s.Game, s.Local))
			x, y := l.Grid.Centre(p.Head)
			if !p.Alive {
				t.Errorf("frame 190: local bike dead")
				return
			}
			// The local bike started at the bottom heading up: it is in the
			// lower half of the board, its head drawn white.
			if y < l.Grid.Y+l.Grid.Size()/2 {
				t.Errorf("frame 190: local head drawn at y=%v, above the board's middle", y)
			}
			if !near(img, x, y, view.White, 40) {
				t.Errorf("frame 190: local head pixel at (%v,%v) is %v, want white", x, y, img.At(int(x), int(y)))
			}
			// Its trail, a few cells behind the head, is in its colour.
			trail := s.Game.Trail(nil, i)
			tx, ty := l.Grid.Centre(trail[len(trail)-5])
			if !near(img, tx, ty, view.Colour(p.Colour), 60) {
				t.Errorf("frame 190: trail pixel at (%v,%v) is %v, want %v", tx, ty, img.At(int(tx), int(ty)), view.Colour(p.Colour))
			}
		},
		215: func(t *testing.T, g *Game, img *image.RGBA) {
			// ButtonLeft at frame 200 turned the bike left.
			s := g.state
			i := s.Game.Index(s.Local)
			p := s.Game.Players()[i]
			_, start := sim.StartPosition(i, len(s.Game.Players()))
			if p.Alive && p.Heading != start.Turn(sim.TurnLeft) {
				t.Errorf("frame 215: heading %v, want %v after a left turn from %v", p.Heading, start.Turn(sim.TurnLeft), start)
			}
		},
		400: func(t *testing.T, g *Game, img *image.RGBA) {
			if g.state.Game == nil || g.state.Game.Steps() < 40 {
				t.Errorf("frame 400: the round has not run")
			}
		},
	}
	h.list = append(h.list, play)

	// 2. A crash: a game one step before a bike's first crash, which steps
	// on the third update; the derez circle shows in the player's colour
	// around where the bike stopped, and its lost trail fades.
	const seed = 11
	probe := robotGame(t, seed)
	crashed, steps := -1, 0
	for crashed < 0 {
		o, _ := probe.Step()
		steps++
		if len(o.Deaths) > 0 {
			crashed = o.Deaths[0].Player
		}
	}
	sg := robotGame(t, seed)
	for range steps - 1 {
		sg.Step()
	}
	fm := &fixed{
		state: view.State{Scene: view.ScenePlay, Game: sg, Local: sg.Players()[0].ID,
			Seats: seatsOf(sg), Status: "test"},
		game:   sg,
		stepAt: 3,
	}
	derez := &scenario{name: "derez", game: newGame(t, fm, 50)}
	derez.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		14: func(t *testing.T, g *Game, img *image.RGBA) {
			all := g.effects.All()
			if len(all) == 0 || all[0].Player != crashed {
				t.Errorf("frame 14: effects %+v, want one for player %d", all, crashed)
				return
			}
			e := all[0]
			if len(e.Trail) == 0 {
				t.Error("frame 14: the derez effect has no fading trail")
			}
			l := view.Play(float64(g.w), float64(g.h), view.ForPlayer(sg, fm.state.Local))
			x, y := l.Grid.Centre(e.Cell)
			// Sample the ring: on the circle of the current radius.
			r := e.Radius() * l.Grid.Cell
			found := false
			for _, d := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				px, py := x+d[0]*r, y+d[1]*r
				if l.Grid.Contains(px, py) && !near(img, px, py, boardFill, 20) {
					found = true
				}
			}
			if !found {
				t.Errorf("frame 14: no derez ring around (%v,%v) at radius %v", x, y, r)
			}
		},
		40: func(t *testing.T, g *Game, img *image.RGBA) {
			if len(g.effects.All()) == 0 {
				t.Error("frame 40: effect ended too early")
			}
		},
	}
	h.list = append(h.list, derez)

	// 3. Results: the round is over; a click on the button readies up.
	rg := robotGame(t, 5)
	for {
		if _, ok := rg.Step(); !ok {
			break
		}
	}
	seats := seatsOf(rg)
	seats[0].Local, seats[0].Robot, seats[0].Ready = true, false, false
	rm := &fixed{state: view.State{Scene: view.SceneResults, Game: rg, Local: seats[0].ID, Seats: seats, Status: "test"}}
	results := &scenario{name: "results", game: newGame(t, rm, 20)}
	results.script = func(frame int, g *Game) {
		if frame == 10 {
			x, y := view.Results(float64(g.w), float64(g.h)).Next.Centre()
			g.point(x, y)
		}
	}
	results.shots = map[int]func(*testing.T, *Game, *image.RGBA){
		12: func(t *testing.T, g *Game, img *image.RGBA) {
			if len(rm.readies) != 1 || !rm.readies[0] {
				t.Errorf("clicking next round sent Ready %v, want [true]", rm.readies)
			}
		},
	}
	h.list = append(h.list, results)

	more := moreScenarios(t)
	h.list = append(h.list, more...)

	ebiten.SetWindowSize(720, 760)
	ebiten.SetWindowTitle("lightcycle smoke test")
	ebiten.SetVsyncEnabled(false)
	ebiten.SetTPS(ebiten.SyncWithFPS)
	var err error
	onMainThread(func() { err = ebiten.RunGame(h) })
	if err != nil {
		t.Fatalf("RunGame: %v", err)
	}
	if h.cur != len(h.list) {
		t.Fatalf("ran %d of %d scenarios", h.cur, len(h.list))
	}
	if want := 5 + 2 + 1 + 1 + 1 + 2 + 1; h.checked != want {
		t.Errorf("%d frames checked, want %d", h.checked, want)
	}
}

// robotGame returns a game of four robots.
func robotGame(t *testing.T, seed uint64) *sim.Game {
	t.Helper()
	var ps []sim.PlayerConfig
	for i := range 4 {
		ps = append(ps, sim.PlayerConfig{ID: fmt.Sprintf("r%d", i), Colour: i * 2, Robot: true})
	}
	g, err := sim.New(sim.Config{Seed: seed, Players: ps})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func seatsOf(g *sim.Game) []view.Seat {
	var seats []view.Seat
	for _, p := range g.Players() {
		seats = append(seats, view.Seat{ID: p.ID, Name: "bot " + p.ID, Colour: p.Colour, Robot: p.Robot, Ready: true})
	}
	return seats
}
