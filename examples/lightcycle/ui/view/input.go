package view

import "github.com/pumpnet/pumpnet/examples/lightcycle/sim"

// Button is an abstract input the screen acts on, whatever device it came
// from: a key, a gamepad button or stick, or a pointer.
type Button uint8

// The buttons.
const (
	ButtonNone Button = iota
	// ButtonLeft turns left in play and picks the previous colour in the
	// lobby.
	ButtonLeft
	// ButtonRight turns right in play and picks the next colour in the
	// lobby.
	ButtonRight
	// ButtonConfirm toggles ready in the lobby and readies up for the next
	// round in the results.
	ButtonConfirm
	// ButtonQuit leaves the game.
	ButtonQuit
	// ButtonFullscreen toggles full screen.
	ButtonFullscreen
	// ButtonMute turns sound off and on.
	ButtonMute
	// ButtonRobots adds a robot in the lobby, when the match lets the
	// player choose (see Robots); after the last free seat, back to none.
	ButtonRobots
)

// keyButtons maps key names, as Ebitengine's Key.String spells them, to
// buttons.
var keyButtons = map[string]Button{
	"ArrowLeft":   ButtonLeft,
	"A":           ButtonLeft,
	"ArrowRight":  ButtonRight,
	"D":           ButtonRight,
	"Enter":       ButtonConfirm,
	"NumpadEnter": ButtonConfirm,
	"Space":       ButtonConfirm,
	"Escape":      ButtonQuit,
	"F11":         ButtonFullscreen,
	"M":           ButtonMute,
	"B":           ButtonRobots,
}

// KeyButton returns the button a key stands for, by the key's name as
// Ebitengine's Key.String spells it ("ArrowLeft", "A", "Enter", ...), or
// ButtonNone: ←/A is left, →/D is right, Enter/Space confirms, Esc quits,
// F11 toggles full screen, M mutes, B adds a robot in the lobby. (F3 is left to the network overlay,
// which handles its own key.)
func KeyButton(name string) Button { return keyButtons[name] }

// KeyNames returns the names of every key KeyButton maps, in no particular
// order.
func KeyNames() []string {
	names := make([]string, 0, len(keyButtons))
	for k := range keyButtons {
		names = append(names, k)
	}
	return names
}

// TurnFor returns the turn a button asks for in play: TurnLeft for
// ButtonLeft, TurnRight for ButtonRight, 0 (no turn) otherwise. Turns are
// relative to the bike, so the board's rotation does not change them.
func TurnFor(b Button) sim.Turn {
	switch b {
	case ButtonLeft:
		return sim.TurnLeft
	case ButtonRight:
		return sim.TurnRight
	}
	return 0
}

// PointerTurn returns the turn for a click or touch at x on a screen width
// wide: the left half turns left, the right half turns right.
func PointerTurn(x, width float64) sim.Turn {
	if x < width/2 {
		return sim.TurnLeft
	}
	return sim.TurnRight
}

// Stick turns an analogue stick's horizontal axis into button presses: a
// push past StickPress to one side presses ButtonLeft or ButtonRight once,
// and the stick must come back inside StickRelease before it presses
// again, so a held stick is one turn, not one per frame. The zero value is
// a centred stick.
type Stick struct {
	side int // -1 left, 0 centre, +1 right
}

// Thresholds of Stick, as fractions of full deflection.
const (
	StickPress   = 0.6
	StickRelease = 0.3
)

// Update takes the axis value x (-1 left .. +1 right) for this frame and
// returns the button pressed now, or ButtonNone.
func (s *Stick) Update(x float64) Button {
	switch {
	case s.side == 0 && x <= -StickPress:
		s.side = -1
		return ButtonLeft
	case s.side == 0 && x >= StickPress:
		s.side = 1
		return ButtonRight
	case s.side != 0 && x > -StickRelease && x < StickRelease:
		s.side = 0
	case s.side == -1 && x >= StickPress: // flicked straight across
		s.side = 1
		return ButtonRight
	case s.side == 1 && x <= -StickPress:
		s.side = -1
		return ButtonLeft
	}
	return ButtonNone
}

// NextColour returns the colour after (dir > 0) or before (dir < 0) current
// that no other human holds, wrapping around the palette; current itself
// if every other colour is taken. Seats marked Local are not counted as
// holding their colour, and neither are robots: they yield theirs (the
// offline driver swaps, the LAN host seats robots after the humans).
func NextColour(seats []Seat, current, dir int) int {
	var taken [sim.NumColours]bool
	for _, s := range seats {
		if !s.Local && !s.Robot && s.Colour >= 0 && s.Colour < sim.NumColours {
			taken[s.Colour] = true
		}
	}
	step := 1
	if dir < 0 {
		step = sim.NumColours - 1
	}
	c := current
	for range sim.NumColours - 1 {
		c = (c + step) % sim.NumColours
		if c < 0 {
			c += sim.NumColours
		}
		if !taken[c] {
			return c
		}
	}
	return current
}

// Robots is implemented by a Match that lets the local player choose how
// many robots fill the empty seats (the LAN host in the lobby). Like
// Match, it is called from the screen's goroutine and never blocks.
type Robots interface {
	// Robots returns how many robots will be seated, and whether the
	// local player may change that now.
	Robots() (n int, canSet bool)
	// SetRobots asks for n robots, 0..sim.MaxPlayers-1; it is ignored
	// when the player may not change them.
	SetRobots(n int)
}

// NextRobots returns the robot count after current when the player asks
// for one more: one more while seats are free, then back to none. humans
// is the number of human players.
func NextRobots(current, humans int) int {
	if current+1+humans > sim.MaxPlayers {
		return 0
	}
	return current + 1
}
