package ui

import (
	"errors"
	"fmt"
	"math"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// Layer is something drawn over every scene, such as the network overlay
// (package overlay, wrapped with a function that supplies its peers).
// Update is called once per tick after the match's, Draw last in each frame.
type Layer interface {
	Update()
	Draw(screen *ebiten.Image)
}

// Panel is a Layer that the play scene makes room for beside (or below)
// the board, so that it never covers the play area; in the other scenes,
// and when Size reports it hidden, it is drawn with Draw as any Layer.
type Panel interface {
	Layer
	// Size returns the panel's size in pixels, at most maxW×maxH, and
	// whether it is shown.
	Size(maxW, maxH float64) (w, h float64, shown bool)
	// DrawIn draws the panel in r (of at least the size Size returned,
	// possibly less on a small screen: it must then clip).
	DrawIn(screen *ebiten.Image, r view.Rect)
}

// Config configures the screen. Only Match is required.
type Config struct {
	// Match is what the screen shows and sends input to.
	Match view.Match
	// Title is the window title; "lightcycle" if empty.
	Title string
	// Width and Height are the window's size in device-independent pixels;
	// 0 means 960×1000, shrunk to fit the monitor.
	Width, Height int
	// Mute turns sound off. Sound is also off when no sound device is
	// found (see Run).
	Mute bool
	// Overlay, if not nil, is updated and drawn over every scene; if it is
	// a Panel, the play scene gives it room beside the board instead.
	Overlay Layer
	// Frames, if positive, ends the game after that many updates (demos,
	// tests): Run then returns nil.
	Frames int
	// TPS is the number of updates (game ticks) per second; 0 means
	// sim.TPS (60). The game counts ticks, so a higher rate plays faster
	// (tests); drawing stays at the display's frame rate.
	TPS int
	// Capture, if not nil, is called at the end of every Draw with the
	// update count and the finished screen (tests take screenshots with
	// it).
	Capture func(frame int, screen *ebiten.Image)
}

// Game is the screen as an ebiten.Game: Run runs one in a window; a program
// with its own loop can call Update, Draw and Layout itself. It is not safe
// for concurrent use; Ebitengine calls it from one goroutine.
type Game struct {
	cfg     Config
	match   view.Match
	state   view.State
	frame   int
	w, h    int // screen size in pixels (Layout)
	sound   *sounds
	input   input
	effects view.Effects

	// Per round: the game and round the caches below belong to, the step
	// the trails were copied at, and each player's trail as of that step
	// (kept to fade out the trail a crash clears).
	round   view.Board
	roundNo int
	steps   int
	trails  [sim.MaxPlayers][]sim.Cell

	lastSecond int // countdown second last beeped
	lastScene  view.Scene
	goAt       int // frame at which the last countdown ended (GO!), 0: none

	// Scratch buffers reused by Draw.
	trail    []sim.Cell
	segs     []view.Segment
	glow     *ebiten.Image // bloom layer, a quarter of the screen's size
	textGlow *ebiten.Image // scratch layer for glowing text, the same size
}

// New returns the screen for cfg without opening a window. Its sound is
// set up as for Run.
func New(cfg Config) (*Game, error) {
	if cfg.Match == nil {
		return nil, errors.New("ui: Config.Match is nil")
	}
	g := &Game{cfg: cfg, match: cfg.Match, w: 960, h: 1000}
	g.sound = newSounds(cfg.Mute)
	g.state = cfg.Match.State()
	g.lastScene = g.state.Scene
	return g, nil
}

// Run opens a window and runs the game until the player quits (Esc or
// closing the window), Config.Frames updates have run, or the match's
// Update fails, whose error Run returns. It blocks, and must be called
// from the main goroutine (an Ebitengine rule).
//
// Sound needs a sound device: on Linux, Run plays sound only if it finds
// one (an ALSA playback device, or a PulseAudio or PipeWire socket), since
// Ebitengine ends the game when its audio output fails to open. If sound
// fails anyway, the error says so and the game can be run muted.
func Run(cfg Config) error {
	g, err := New(cfg)
	if err != nil {
		return err
	}
	title := cfg.Title
	if title == "" {
		title = "lightcycle"
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		w, h = 960, 1000
		if mw, mh := ebiten.Monitor().Size(); mw > 0 && mh > 0 {
			k := math.Min(1, math.Min(0.9*float64(mw)/float64(w), 0.9*float64(mh)/float64(h)))
			w, h = int(float64(w)*k), int(float64(h)*k)
		}
	}
	if cfg.TPS > 0 {
		ebiten.SetTPS(cfg.TPS)
	}
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowSize(w, h)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	err = ebiten.RunGame(g)
	if err != nil && g.sound.enabled() && isAudioError(err) {
		return fmt.Errorf("ui: sound failed (run with -mute to play without sound): %w", err)
	}
	return err
}

// Update reads input, advances the match by one tick and starts effects and
// sounds for what happened. It returns ebiten.Termination when the player
// quits or Config.Frames updates have run.
func (g *Game) Update() error {
	g.frame++
	if g.cfg.Frames > 0 && g.frame > g.cfg.Frames {
		return ebiten.Termination
	}
	if quit := g.handleInput(); quit {
		return ebiten.Termination
	}
	if err := g.match.Update(); err != nil {
		return err
	}
	g.state = g.match.State()
	g.observe()
	if g.cfg.Overlay != nil {
		g.cfg.Overlay.Update()
	}
	return nil
}

// observe follows the match's state: new rounds, crashes, the countdown and
// the end of a round, and starts the matching effects and sounds.
func (g *Game) observe() {
	s := &g.state
	if s.Game != g.round || (s.Game != nil && s.Game.Round() != g.roundNo) {
		g.round = s.Game
		g.roundNo = 0
		if s.Game != nil {
			g.roundNo = s.Game.Round()
		}
		g.steps = -1
		g.effects.Clear()
		g.goAt = 0
	}
	g.effects.Tick()
	if s.Game != nil && len(s.Deaths) > 0 {
		players := s.Game.Players()
		for _, d := range s.Deaths {
			if d.Player < 0 || d.Player >= len(players) {
				continue
			}
			ghost := view.AppendSegments(nil, g.trails[d.Player])
			g.effects.Start(d.Player, d.Cell, players[d.Player].Colour, ghost)
		}
		g.sound.play(sndDerez)
	}
	if s.Game != nil && s.Game.Steps() != g.steps {
		g.steps = s.Game.Steps()
		for i := range s.Game.Players() {
			g.trails[i] = s.Game.Trail(g.trails[i][:0], i)
		}
	}
	// Countdown beeps on each second, and the start.
	second := 0
	if s.Scene == view.ScenePlay && s.Countdown > 0 {
		second = (s.Countdown + sim.TPS - 1) / sim.TPS
	}
	if second != g.lastSecond {
		switch {
		case second > 0:
			g.sound.play(sndBeep)
		case s.Scene == view.ScenePlay:
			g.sound.play(sndGo)
			g.goAt = g.frame
		}
		g.lastSecond = second
	}
	if s.Scene == view.SceneResults && g.lastScene != view.SceneResults && s.Game != nil {
		if w, _ := s.Game.Result(); w >= 0 && s.Game.Players()[w].ID == s.Local {
			g.sound.play(sndWin)
		}
	}
	g.lastScene = s.Scene
}

// Draw draws the current scene, then the overlay.
func (g *Game) Draw(screen *ebiten.Image) {
	screen.Fill(background.NRGBA(1))
	switch g.state.Scene {
	case view.SceneLobby:
		g.drawLobby(screen)
	case view.ScenePlay:
		g.drawPlay(screen)
	case view.SceneResults:
		g.drawResults(screen)
	}
	g.drawOverlay(screen)
	if g.cfg.Capture != nil {
		g.cfg.Capture(g.frame, screen)
	}
}

// drawOverlay draws the overlay: in the play scene (and the results, drawn
// over the board) a Panel in the room the layout left beside the board,
// elsewhere (or any other Layer) as it draws itself.
func (g *Game) drawOverlay(screen *ebiten.Image) {
	if g.cfg.Overlay == nil {
		return
	}
	inPlay := g.state.Scene == view.ScenePlay || g.state.Scene == view.SceneResults && g.state.Game != nil
	if p, ok := g.cfg.Overlay.(Panel); ok && inPlay {
		if l := g.playLayout(); l.Panel.W > 0 && l.Panel.H > 0 {
			p.DrawIn(screen, l.Panel)
			return
		}
	}
	g.cfg.Overlay.Draw(screen)
}

// Layout makes the screen as many pixels as the window has on the device,
// so lines stay sharp on high-density displays.
func (g *Game) Layout(outsideWidth, outsideHeight int) (int, int) {
	k := ebiten.Monitor().DeviceScaleFactor()
	g.w = max(1, int(math.Ceil(float64(outsideWidth)*k)))
	g.h = max(1, int(math.Ceil(float64(outsideHeight)*k)))
	return g.w, g.h
}

// State returns the match state the screen last drew from.
func (g *Game) State() view.State { return g.state }
