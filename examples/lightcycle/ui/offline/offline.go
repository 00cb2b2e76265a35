// Package offline plays lightcycle on one machine against robots, with no
// networking: a view.Match that runs the simulation itself. It has a lobby
// (pick a colour, ready up), rounds with a countdown, and results with
// ready-up for the next round, as the network game does, so the screen
// cannot tell the two apart.
//
// It imports no graphics library and is tested without a display.
//
// A complete program that watches robots play a round, without a screen:
//
//	package main
//
//	import (
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
//	)
//
//	func main() {
//		m := offline.New(offline.Config{Robots: 4, Seed: 9, Watch: true})
//		for m.State().Scene != view.SceneResults {
//			_ = m.Update() // never fails
//		}
//		s := m.State()
//		if w, _ := s.Game.Result(); w >= 0 {
//			fmt.Println(s.Name(s.Game.Players()[w].ID), "wins")
//		} else {
//			fmt.Println("draw")
//		}
//	}
package offline

import (
	"fmt"
	"math/rand/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// Timing defaults, in ticks (60 per second).
const (
	// DefaultCountdown is the countdown before each round: 3 s.
	DefaultCountdown = 3 * sim.TPS
	// DefaultLinger is how long the board stays on screen after the last
	// crash before the results: 1.5 s, so the derez effect plays out.
	DefaultLinger = 3 * sim.TPS / 2
	// DefaultWatchPause is how long a watched match (Config.Watch) stays in
	// the lobby and in the results before going on by itself: 4 s.
	DefaultWatchPause = 4 * sim.TPS
)

// RobotNames name the robots, in seat order.
var RobotNames = [sim.MaxPlayers - 1]string{"Ada", "Bit", "Cog", "Dot", "Echo", "Flux", "Giga"}

// Config configures an offline Match. The zero value is a practice game:
// one local player called "player" in red-orange (colour 0), no robots,
// seed 0.
type Config struct {
	// Name is the local player's display name; "player" if empty.
	Name string
	// Robots is the number of robots, 0..sim.MaxPlayers-1 (more are
	// capped; with Watch, 1..sim.MaxPlayers).
	Robots int
	// Seed seeds the robots' choices and the seat order.
	Seed uint64
	// Colour is the local player's first colour, 0..sim.NumColours-1; an
	// out-of-range value picks blue (5). Robots take the free colours.
	Colour int
	// Watch makes this machine a spectator: every seat is a robot, and the
	// lobby and results go on by themselves after DefaultWatchPause.
	Watch bool
	// Countdown is the number of ticks before each round starts;
	// 0 means DefaultCountdown, negative means none.
	Countdown int
	// Linger is the number of ticks the finished board stays up before the
	// results; 0 means DefaultLinger, negative means none.
	Linger int
}

// Match is an offline lightcycle session. It implements view.Match; like
// every Match it is driven from one goroutine and never blocks.
type Match struct {
	cfg       Config
	scene     view.Scene
	seats     []view.Seat // sorted by ID
	local     string      // local player's ID; "" when watching
	game      *sim.Game
	deaths    []sim.Death
	countdown int
	wait      int // ticks left in the lobby/results pause (Watch) or linger
}

var _ view.Match = (*Match)(nil)

// New returns a Match in the lobby, with the local player (unless watching)
// and the robots seated. Robots are always ready.
func New(cfg Config) *Match {
	if cfg.Name == "" {
		cfg.Name = "player"
	}
	if cfg.Colour < 0 || cfg.Colour >= sim.NumColours {
		cfg.Colour = 5
	}
	switch {
	case cfg.Countdown == 0:
		cfg.Countdown = DefaultCountdown
	case cfg.Countdown < 0:
		cfg.Countdown = 0
	}
	switch {
	case cfg.Linger == 0:
		cfg.Linger = DefaultLinger
	case cfg.Linger < 0:
		cfg.Linger = 0
	}
	humans := 1
	if cfg.Watch {
		humans = 0
	}
	cfg.Robots = max(0, min(cfg.Robots, sim.MaxPlayers-humans))
	if cfg.Watch && cfg.Robots == 0 {
		cfg.Robots = 1
	}
	m := &Match{cfg: cfg, scene: view.SceneLobby}

	// IDs are random hex strings from the seed, like the key fingerprints
	// the network game uses, so seat order (and start positions) vary.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x11c7c1e))
	var used []int
	if !cfg.Watch {
		m.local = newID(rng)
		m.seats = append(m.seats, view.Seat{ID: m.local, Name: cfg.Name, Colour: cfg.Colour, Local: true})
		used = append(used, cfg.Colour)
	}
	for i := range cfg.Robots {
		c, _ := sim.FreeColour(used, i) // cannot fail: at most MaxPlayers seats
		used = append(used, c)
		m.seats = append(m.seats, view.Seat{ID: newID(rng), Name: RobotNames[i%len(RobotNames)], Colour: c, Robot: true, Ready: true})
	}
	sortSeats(m.seats)
	if cfg.Watch {
		m.wait = DefaultWatchPause
	}
	return m
}

func newID(rng *rand.Rand) string { return fmt.Sprintf("%016x", rng.Uint64()) }

func sortSeats(s []view.Seat) {
	for i := 1; i < len(s); i++ { // insertion sort: at most 8 seats
		for j := i; j > 0 && s[j].ID < s[j-1].ID; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Update advances the match by one tick. It never returns an error.
func (m *Match) Update() error {
	m.deaths = m.deaths[:0]
	switch m.scene {
	case view.SceneLobby:
		if m.cfg.Watch {
			if m.wait--; m.wait > 0 {
				return nil
			}
		} else if !m.allReady() {
			return nil
		}
		m.startRound()
	case view.ScenePlay:
		m.play()
	case view.SceneResults:
		if m.cfg.Watch {
			if m.wait--; m.wait > 0 {
				return nil
			}
		} else if !m.allReady() {
			return nil
		}
		m.startRound()
	}
	return nil
}

func (m *Match) allReady() bool {
	for _, s := range m.seats {
		if !s.Ready {
			return false
		}
	}
	return true
}

// startRound starts the first round from the lobby, or the next one from
// the results.
func (m *Match) startRound() {
	if m.game == nil {
		players := make([]sim.PlayerConfig, len(m.seats))
		for i, s := range m.seats {
			players[i] = sim.PlayerConfig{ID: s.ID, Colour: s.Colour, Robot: s.Robot}
		}
		g, err := sim.New(sim.Config{Seed: m.cfg.Seed, Players: players})
		if err != nil {
			// Seats are built by New and Claim, which keep IDs and colours
			// unique; an error here is a bug in this package.
			panic("offline: " + err.Error())
		}
		m.game = g
	} else if err := m.game.NextRound(); err != nil {
		panic("offline: " + err.Error()) // no one joins offline: cannot fail
	}
	m.scene = view.ScenePlay
	m.countdown = m.cfg.Countdown
	m.wait = -1
}

func (m *Match) play() {
	if m.countdown > 0 {
		m.countdown--
		return
	}
	if _, over := m.game.Result(); over {
		if m.wait < 0 {
			m.wait = m.cfg.Linger
		}
		if m.wait--; m.wait > 0 {
			return
		}
		m.scene = view.SceneResults
		for i := range m.seats {
			m.seats[i].Ready = m.seats[i].Robot
		}
		m.wait = DefaultWatchPause
		return
	}
	if o, stepped := m.game.Tick(); stepped {
		m.deaths = append(m.deaths, o.Deaths...)
	}
}

// State returns what to draw. Its slices and Game belong to the Match and
// are valid until the next Update, Claim or Ready.
func (m *Match) State() view.State {
	status := fmt.Sprintf("offline · %d robots", m.cfg.Robots)
	switch {
	case m.cfg.Watch:
		status = fmt.Sprintf("offline · watching %d robots", m.cfg.Robots)
	case m.cfg.Robots == 0:
		status = "offline · practice"
	case m.cfg.Robots == 1:
		status = "offline · 1 robot"
	}
	s := view.State{
		Scene:     m.scene,
		Seats:     m.seats,
		Local:     m.local,
		Deaths:    m.deaths,
		Countdown: m.countdown,
		Status:    status,
	}
	if m.game != nil { // a nil *sim.Game in the interface would not be nil
		s.Game = m.game
	}
	return s
}

// Turn queues a turn for the local bike while the round runs. Turns during
// the countdown are ignored (a turn on the first step would drive along the
// wall), as are turns when the bike is dead or the queue is full.
func (m *Match) Turn(t sim.Turn) {
	if m.scene != view.ScenePlay || m.countdown > 0 || m.local == "" {
		return
	}
	_ = m.game.Turn(m.local, t) // refused turns are simply dropped
}

// Claim changes the local player's colour in the lobby. Robots do not mind:
// if a robot holds the colour, the two swap.
func (m *Match) Claim(colour int) {
	if m.scene != view.SceneLobby || m.local == "" || colour < 0 || colour >= sim.NumColours {
		return
	}
	me := m.seatIndex(m.local)
	old := m.seats[me].Colour
	for i := range m.seats {
		if m.seats[i].Colour == colour {
			m.seats[i].Colour = old
		}
	}
	m.seats[me].Colour = colour
}

// Ready sets whether the local player is ready (lobby) or ready for the next
// round (results).
func (m *Match) Ready(ready bool) {
	if m.local == "" || m.scene == view.ScenePlay {
		return
	}
	m.seats[m.seatIndex(m.local)].Ready = ready
}

func (m *Match) seatIndex(id string) int {
	for i, s := range m.seats {
		if s.ID == id {
			return i
		}
	}
	return -1
}
