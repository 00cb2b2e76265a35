package ui

import (
	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// keyButtons maps Ebitengine keys to buttons, built from view.KeyButton's
// key names.
var keyButtons = func() map[ebiten.Key]view.Button {
	m := map[ebiten.Key]view.Button{}
	for k := ebiten.Key(0); k <= ebiten.KeyMax; k++ {
		if b := view.KeyButton(k.String()); b != view.ButtonNone {
			m[k] = b
		}
	}
	return m
}()

// input holds the devices' state between frames.
type input struct {
	keys    []ebiten.Key
	touches []ebiten.TouchID
	pads    []ebiten.GamepadID
	sticks  map[ebiten.GamepadID]*view.Stick
	buttons []view.Button
	points  [][2]float64 // pointer presses this frame, in screen pixels
}

// poll collects this frame's button presses and pointer presses.
func (in *input) poll() {
	in.buttons = in.buttons[:0]
	in.points = in.points[:0]
	in.keys = inpututil.AppendJustPressedKeys(in.keys[:0])
	for _, k := range in.keys {
		if b := keyButtons[k]; b != view.ButtonNone {
			in.buttons = append(in.buttons, b)
		}
	}
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		x, y := ebiten.CursorPosition()
		in.points = append(in.points, [2]float64{float64(x), float64(y)})
	}
	in.touches = inpututil.AppendJustPressedTouchIDs(in.touches[:0])
	for _, id := range in.touches {
		x, y := ebiten.TouchPosition(id)
		in.points = append(in.points, [2]float64{float64(x), float64(y)})
	}
	in.pollGamepads()
}

func (in *input) pollGamepads() {
	in.pads = ebiten.AppendGamepadIDs(in.pads[:0])
	if len(in.pads) == 0 {
		return
	}
	if in.sticks == nil {
		in.sticks = map[ebiten.GamepadID]*view.Stick{}
	}
	for _, id := range in.pads {
		st := in.sticks[id]
		if st == nil {
			st = &view.Stick{}
			in.sticks[id] = st
		}
		if ebiten.IsStandardGamepadLayoutAvailable(id) {
			for _, p := range padButtons {
				if inpututil.IsStandardGamepadButtonJustPressed(id, p.button) {
					in.buttons = append(in.buttons, p.to)
				}
			}
			x := ebiten.StandardGamepadAxisValue(id, ebiten.StandardGamepadAxisLeftStickHorizontal)
			if b := st.Update(x); b != view.ButtonNone {
				in.buttons = append(in.buttons, b)
			}
			continue
		}
		// An unknown layout: button 0 confirms, axis 0 steers.
		if inpututil.IsGamepadButtonJustPressed(id, ebiten.GamepadButton0) {
			in.buttons = append(in.buttons, view.ButtonConfirm)
		}
		if ebiten.GamepadAxisCount(id) > 0 {
			if b := st.Update(ebiten.GamepadAxisValue(id, 0)); b != view.ButtonNone {
				in.buttons = append(in.buttons, b)
			}
		}
	}
}

// padButtons maps standard-layout gamepad buttons to buttons: the d-pad and
// the shoulder buttons turn, A and Start confirm.
var padButtons = []struct {
	button ebiten.StandardGamepadButton
	to     view.Button
}{
	{ebiten.StandardGamepadButtonLeftLeft, view.ButtonLeft},
	{ebiten.StandardGamepadButtonLeftRight, view.ButtonRight},
	{ebiten.StandardGamepadButtonFrontTopLeft, view.ButtonLeft},
	{ebiten.StandardGamepadButtonFrontTopRight, view.ButtonRight},
	{ebiten.StandardGamepadButtonRightBottom, view.ButtonConfirm},
	{ebiten.StandardGamepadButtonCenterRight, view.ButtonConfirm},
}

// handleInput polls the devices and applies this frame's input to the
// match for the current scene. It reports whether the player quit.
func (g *Game) handleInput() (quit bool) {
	g.input.poll()
	for _, b := range g.input.buttons {
		switch b {
		case view.ButtonQuit:
			return true
		case view.ButtonFullscreen:
			ebiten.SetFullscreen(!ebiten.IsFullscreen())
		case view.ButtonMute:
			g.sound.toggleMute()
		default:
			g.press(b)
		}
	}
	for _, p := range g.input.points {
		g.point(p[0], p[1])
	}
	return false
}

// press applies a button in the current scene.
func (g *Game) press(b view.Button) {
	s := &g.state
	switch s.Scene {
	case view.SceneLobby:
		me, ok := s.LocalSeat()
		if !ok {
			return
		}
		switch b {
		case view.ButtonLeft, view.ButtonRight:
			dir := 1
			if b == view.ButtonLeft {
				dir = -1
			}
			if c := view.NextColour(s.Seats, me.Colour, dir); c != me.Colour {
				g.match.Claim(c)
				g.sound.play(sndSelect)
			}
		case view.ButtonConfirm:
			g.match.Ready(!me.Ready)
			g.sound.play(sndSelect)
		case view.ButtonRobots:
			if r, ok := g.match.(view.Robots); ok {
				if n, can := r.Robots(); can {
					humans := 0
					for _, st := range s.Seats {
						if !st.Robot {
							humans++
						}
					}
					r.SetRobots(view.NextRobots(n, humans))
					g.sound.play(sndSelect)
				}
			}
		}
	case view.ScenePlay:
		g.turn(view.TurnFor(b))
	case view.SceneResults:
		if b == view.ButtonConfirm {
			g.readyNext()
		}
	}
}

// point applies a click or touch at (x, y) in the current scene.
func (g *Game) point(x, y float64) {
	s := &g.state
	w, h := float64(g.w), float64(g.h)
	switch s.Scene {
	case view.SceneLobby:
		me, ok := s.LocalSeat()
		if !ok {
			return
		}
		l := view.Lobby(w, h)
		if c, ok := l.Swatch(x, y); ok && c != me.Colour && !takenByOther(s.Seats, c) {
			g.match.Claim(c)
			g.sound.play(sndSelect)
		} else if l.Ready.Contains(x, y) {
			g.match.Ready(!me.Ready)
			g.sound.play(sndSelect)
		}
	case view.ScenePlay:
		g.turn(view.PointerTurn(x, w))
	case view.SceneResults:
		if view.Results(w, h).Next.Contains(x, y) {
			g.readyNext()
		}
	}
}

func (g *Game) turn(t sim.Turn) {
	s := &g.state
	if t == 0 || s.Game == nil || s.Countdown > 0 {
		return
	}
	if i := s.Game.Index(s.Local); i < 0 || !s.Game.Players()[i].Alive {
		return
	}
	g.match.Turn(t)
	g.sound.play(sndTurn)
}

func (g *Game) readyNext() {
	if me, ok := g.state.LocalSeat(); ok && !me.Ready {
		g.match.Ready(true)
		g.sound.play(sndSelect)
	}
}

// takenByOther reports whether a human other than the local player holds
// colour c (robots yield theirs: see view.NextColour).
func takenByOther(seats []view.Seat, c int) bool {
	for _, s := range seats {
		if !s.Local && !s.Robot && s.Colour == c {
			return true
		}
	}
	return false
}
