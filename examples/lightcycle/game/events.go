package game

import "github.com/pumpnet/pumpnet/examples/lightcycle/sim"

// Scene is what the game is doing, and what the UI shows.
type Scene uint8

// The scenes.
const (
	// SceneLobby: players claim colours and ready up for the first round.
	SceneLobby Scene = iota
	// ScenePlay: a round is announced (counting down) or running; this
	// peer plays in it or, without a seat, watches.
	ScenePlay
	// SceneResults: the last round is over (Result); players ready up for
	// the next one.
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

// EventKind says what an Event is about.
type EventKind uint8

// The kinds of Event.
const (
	// EventPeerJoined: Peer connected.
	EventPeerJoined EventKind = iota + 1
	// EventPeerLeft: Peer left; Err may say why.
	EventPeerLeft
	// EventHostChanged: Peer is the new host.
	EventHostChanged
	// EventRoundAnnounced: round Round was announced (or rebuilt for this
	// peer); it starts after Countdown ticks.
	EventRoundAnnounced
	// EventRoundStarted: the countdown of round Round is over.
	EventRoundStarted
	// EventCrash: a bike derezzed (Crash).
	EventCrash
	// EventRoundOver: round Round is over (Result).
	EventRoundOver
	// EventProblem: something went wrong that the game recovered from
	// (Err): a malformed message, an outcome that does not fit, a send that
	// failed.
	EventProblem
	// EventHostSilent: Peer, the host of the round being played, has not
	// been heard from for Config.HostTimeout ticks; this peer drops it and
	// hands the round over (EventPeerLeft with ErrHostSilent and
	// EventHostChanged follow at once).
	EventHostSilent
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventPeerJoined:
		return "peer-joined"
	case EventPeerLeft:
		return "peer-left"
	case EventHostChanged:
		return "host-changed"
	case EventRoundAnnounced:
		return "round-announced"
	case EventRoundStarted:
		return "round-started"
	case EventCrash:
		return "crash"
	case EventRoundOver:
		return "round-over"
	case EventProblem:
		return "problem"
	case EventHostSilent:
		return "host-silent"
	}
	return "event(invalid)"
}

// Event is something that happened during Update: for sounds, effects,
// logs and the headless runner's output. Game.Events drains them.
type Event struct {
	Kind EventKind
	// Tick is the local tick (Game.Tick) it happened at.
	Tick int
	// Peer is the peer that joined, left or became host.
	Peer Member
	// Round is the round announced, started or over.
	Round int
	// Countdown is the ticks until the start (EventRoundAnnounced).
	Countdown int
	// Crash is the bike that derezzed (EventCrash).
	Crash Crash
	// Result is the round's result (EventRoundOver).
	Result Result
	// Err says what went wrong (EventProblem) or why a peer left.
	Err error
}

// Crash is a bike that derezzed: the UI draws an expanding circle in the
// player's colour at Cell, starting at Tick.
type Crash struct {
	// Player is the index in Board().Players(); ID identifies the player.
	Player int
	ID     string
	Cell   sim.Cell
	Cause  sim.Cause
	// Step is the step of the round the bike died in; Tick is the local
	// tick this instance learnt of it.
	Step, Tick int
}

// Score is one player's score after a round.
type Score struct {
	ID, Name string
	Robot    bool
	Score    int
}

// Result is how a round ended.
type Result struct {
	Round int
	// Winner is the ID of the winning player, "" for a draw or an
	// abandoned round; WinnerName is its display name.
	Winner, WinnerName string
	// Abandoned is true when the round ended without a result (the host
	// left and nobody could carry on identically).
	Abandoned bool
	// Steps is the number of steps the round ran.
	Steps int
	// Digest is the sim digest of the final state (sim.Game.Digest): every
	// instance of the round reports the same one.
	Digest uint64
	// Scores are the scores of the round's players after it, in ID order.
	Scores []Score
}

// Draw reports whether the round ended without a winner.
func (r Result) Draw() bool { return r.Winner == "" }
