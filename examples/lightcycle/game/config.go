package game

import (
	"errors"
	"fmt"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("game: invalid config")

// Defaults of Config.
const (
	// DefaultCountdown is the ticks between a round's announcement and its
	// start: 3 seconds at sim.TPS.
	DefaultCountdown = 3 * sim.TPS
	// DefaultSyncTicks is how long a new host waits for the others' state
	// before it carries on: 1 second at sim.TPS.
	DefaultSyncTicks = sim.TPS
	// DefaultOutcomes is how the host sends outcomes unless Config.Outcomes
	// says otherwise (see doc.go, "Outcome delivery", for the measurements).
	DefaultOutcomes = Sequenced
	// DefaultName is the local player's name in Local mode.
	DefaultName = "you"
	// DefaultBeatTicks is how often a peer tells the others it is there
	// (a heartbeat): 4 times a second at sim.TPS.
	DefaultBeatTicks = sim.TPS / 4
	// DefaultHostTimeout is the silence after which the players of a round
	// treat its host as gone and hand the round over: 1.5 seconds at
	// sim.TPS, six heartbeats missed (the transport's own idle timeout is
	// much longer, 10 s by default).
	DefaultHostTimeout = 3 * sim.TPS / 2
)

// Config configures a Game. The zero Config works: a player who prefers
// colour 0, no robots, a random seed for each round, a 3 s countdown, the
// default outcome delivery, seats locked during rounds.
type Config struct {
	// Name is the local player's display name in Local mode; online, the
	// transport's name is used. Default DefaultName.
	Name string
	// Colour is the colour the local player claims first, 0..7; -1 (or any
	// value out of range) means no preference. Another player may already
	// hold it: the host then gives the next free colour.
	Colour int
	// Bots is the number of robots that fill empty seats when this peer is
	// the host and starts a round, 0..7 (at most the seats left).
	Bots int
	// Seed, if not 0, makes every round's seed a function of Seed and the
	// round number (tests, replays); 0 makes the host pick a random seed
	// for each round.
	Seed uint64
	// Countdown is the ticks from a round's announcement to its start; each
	// instance counts them from when the announcement reached it. Default
	// DefaultCountdown; -1 starts at once.
	Countdown int
	// Outcomes is how the host sends each step's outcome: Reliable (each
	// outcome once, reliable and ordered) or Sequenced (unreliable
	// sequenced messages holding every outcome not yet acknowledged, sent
	// every ResendTicks until acknowledged). Default DefaultOutcomes. Only
	// the host's setting matters.
	Outcomes Mode
	// Autopilot steers the local player's bike with a robot's reasoning,
	// sending its turns as a player's (headless runs, attract mode). Turn
	// still works.
	Autopilot bool
	// Watchers keeps the session open during rounds so that newcomers can
	// join and watch; by default the seats are locked at each round's
	// announcement (Transport.SetOpen(false)) and reopened when it ends,
	// and only a peer whose connection was already on its way watches.
	Watchers bool
	// SyncTicks is how long a peer that takes over as host waits for the
	// others to report their state before it carries on. Default
	// DefaultSyncTicks.
	SyncTicks int
	// ResendTicks is, with Sequenced outcomes, the ticks between two
	// messages to a peer that has not acknowledged every step yet.
	// Default 1: a lost message costs one tick (17 ms at 60 TPS) for a few
	// kB/s per peer (see doc.go, "Outcome delivery"). A caller that runs
	// more ticks per second may raise it to keep the same rate.
	ResendTicks int
	// BeatTicks is the ticks between two heartbeats this peer sends every
	// other (a message of a few bytes, unreliable). Default
	// DefaultBeatTicks.
	BeatTicks int
	// HostTimeout is the ticks without a word from a round's host (a step,
	// a heartbeat, anything) after which this peer treats the host as gone:
	// it says so (EventHostSilent), drops the connection (Transport.Drop)
	// and hands the round over as if the host had left. Default
	// DefaultHostTimeout; -1 waits for the transport to report the host
	// gone. A caller that runs more ticks per second should scale it (and
	// BeatTicks) to keep the same length in seconds.
	HostTimeout int
}

func (c *Config) validate() error {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Colour < 0 || c.Colour >= sim.NumColours {
		c.Colour = -1
	}
	switch c.Countdown {
	case 0:
		c.Countdown = DefaultCountdown
	case -1:
		c.Countdown = 0
	}
	if c.SyncTicks == 0 {
		c.SyncTicks = DefaultSyncTicks
	}
	if c.ResendTicks == 0 {
		c.ResendTicks = 1
	}
	if c.BeatTicks == 0 {
		c.BeatTicks = DefaultBeatTicks
	}
	switch c.HostTimeout {
	case 0:
		c.HostTimeout = DefaultHostTimeout
	case -1:
		c.HostTimeout = 0
	}
	if c.Outcomes == 0 {
		c.Outcomes = DefaultOutcomes
	}
	switch {
	case c.Bots < 0 || c.Bots >= sim.MaxPlayers:
		return fmt.Errorf("%w: Bots %d outside 0..%d", ErrConfig, c.Bots, sim.MaxPlayers-1)
	case c.Countdown < 0:
		return fmt.Errorf("%w: Countdown %d", ErrConfig, c.Countdown)
	case c.SyncTicks < 0 || c.ResendTicks < 0:
		return fmt.Errorf("%w: SyncTicks %d, ResendTicks %d", ErrConfig, c.SyncTicks, c.ResendTicks)
	case c.BeatTicks < 0 || c.HostTimeout < 0:
		return fmt.Errorf("%w: BeatTicks %d, HostTimeout %d", ErrConfig, c.BeatTicks, c.HostTimeout)
	case c.HostTimeout > 0 && c.HostTimeout <= 2*c.BeatTicks:
		return fmt.Errorf("%w: HostTimeout %d must exceed two heartbeats (BeatTicks %d)", ErrConfig, c.HostTimeout, c.BeatTicks)
	case c.Outcomes != Reliable && c.Outcomes != Sequenced:
		return fmt.Errorf("%w: Outcomes %d", ErrConfig, c.Outcomes)
	case len(c.Name) > 63:
		return fmt.Errorf("%w: Name of %d bytes, at most 63", ErrConfig, len(c.Name))
	}
	return nil
}
