package view

import "github.com/pumpnet/pumpnet/examples/lightcycle/sim"

// Scene is the screen a Match wants shown.
type Scene uint8

// The scenes, in the order a session passes through them.
const (
	// SceneLobby: players pick colours and ready up.
	SceneLobby Scene = iota
	// ScenePlay: a round counting down (State.Countdown > 0) or running.
	ScenePlay
	// SceneResults: the round is over; banner, scores and ready-up for the
	// next round.
	SceneResults
)

// String returns "lobby", "play" or "results".
func (s Scene) String() string {
	switch s {
	case SceneLobby:
		return "lobby"
	case ScenePlay:
		return "play"
	case SceneResults:
		return "results"
	}
	return "scene(invalid)"
}

// Board is the read-only part of a *sim.Game that the screen draws from: a
// driver passes its *sim.Game, or any view of one with these methods.
type Board interface {
	// Players returns the round's players in ID order (sim.Game.Players).
	Players() []sim.Player
	// Index returns a player's index in Players, or -1.
	Index(id string) int
	// Trail appends player i's trail to dst (sim.Game.Trail).
	Trail(dst []sim.Cell, i int) []sim.Cell
	// Result returns the winner (or -1) and whether the round is over.
	Result() (winner int, over bool)
	// Round returns the round number, from 1.
	Round() int
	// Steps returns how many steps the round has run.
	Steps() int
	// Ticks returns how many ticks the round has run.
	Ticks() int
}

var _ Board = (*sim.Game)(nil)

// Seat is one person or robot in the session.
type Seat struct {
	// ID is the player's ID, as in sim.PlayerConfig.ID.
	ID string
	// Name is the display name.
	Name string
	// Colour is the player's colour, 0..sim.NumColours-1.
	Colour int
	// Robot is true for a seat the simulation steers.
	Robot bool
	// Local is true for this machine's player.
	Local bool
	// Ready is true when the player is ready to start (lobby) or to play
	// the next round (results).
	Ready bool
	// Spectator is true for someone who joined during a round and watches
	// until the next one.
	Spectator bool
}

// State is what the screen draws in one frame. The driver owns its slices
// and the Game; the screen reads them until the next Update and never
// modifies them.
type State struct {
	// Scene is the screen to show.
	Scene Scene
	// Seats are everyone in the session, in ID order.
	Seats []Seat
	// Game is the current round (running, counting down, or just over); nil
	// before the first round (a nil interface: not a nil *sim.Game in
	// it). The screen only reads it.
	Game Board
	// Local is the ID of this machine's player, or "" for a spectator.
	Local string
	// Deaths are the bikes that died in the steps the last Update ran or
	// applied; the screen starts a derez effect and a sound for each.
	Deaths []sim.Death
	// Countdown is the number of ticks until the round starts; 0 once it
	// runs (and outside ScenePlay).
	Countdown int
	// Status is a short line for the status bar, such as "offline: 3
	// robots" or "waiting for the host"; it may be empty.
	Status string
}

// Seat returns the seat with the given ID.
func (s State) Seat(id string) (Seat, bool) {
	for _, st := range s.Seats {
		if st.ID == id {
			return st, true
		}
	}
	return Seat{}, false
}

// Name returns the display name of the player with the given ID, or the ID
// itself if there is no such seat.
func (s State) Name(id string) string {
	if st, ok := s.Seat(id); ok && st.Name != "" {
		return st.Name
	}
	return id
}

// LocalSeat returns this machine's seat, if it has one.
func (s State) LocalSeat() (Seat, bool) {
	for _, st := range s.Seats {
		if st.Local {
			return st, true
		}
	}
	return Seat{}, false
}

// Match is a lightcycle session as the screen sees it: the screen draws its
// State and sends it the player's input. The offline driver (package
// offline) and the network driver both implement it.
//
// All methods are called from one goroutine, the screen's update loop, and
// none may block.
type Match interface {
	// Update advances the match by one tick (1/60 s): a network driver
	// pumps its connections here, the host steps the simulation. An error
	// ends the game and is returned from the screen's Run.
	Update() error
	// State returns what to draw now (see State for ownership).
	State() State
	// Turn asks for a relative turn of the local bike. Turns queue first
	// in, first out (see sim.Game.Turn); a turn while not playing is
	// ignored.
	Turn(t sim.Turn)
	// Claim asks for a colour in the lobby. A colour that is taken is
	// refused or resolved as the driver's lobby rules say (first claim
	// wins).
	Claim(colour int)
	// Ready says whether the local player is ready to start (lobby) or to
	// play the next round (results).
	Ready(ready bool)
}
