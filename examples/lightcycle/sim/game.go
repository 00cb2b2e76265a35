package sim

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Errors returned by the package. They are matched with errors.Is; the
// returned errors wrap them with details.
var (
	// ErrConfig reports an invalid Config or PlayerConfig.
	ErrConfig = errors.New("sim: invalid config")
	// ErrUnknownPlayer reports an ID that is not in the round.
	ErrUnknownPlayer = errors.New("sim: unknown player")
	// ErrNotPlaying reports a turn for a player that is dead, has left, or
	// whose round is over.
	ErrNotPlaying = errors.New("sim: player not playing")
	// ErrRobot reports a turn queued for a robot, which steers itself.
	ErrRobot = errors.New("sim: player is a robot")
	// ErrQueueFull reports a turn refused because QueueLen turns are queued.
	ErrQueueFull = errors.New("sim: turn queue full")
	// ErrBadTurn reports a Turn value that is neither TurnLeft nor TurnRight.
	ErrBadTurn = errors.New("sim: invalid turn")
	// ErrOutcome reports an Outcome that Apply cannot apply: it is not the
	// next step of this game, or it disagrees with the rules. The game state
	// is unchanged; the instance is out of step with the host.
	ErrOutcome = errors.New("sim: outcome does not fit")
	// ErrMalformed reports an encoded Outcome that cannot be decoded, or an
	// Outcome with out-of-range fields that cannot be encoded.
	ErrMalformed = errors.New("sim: malformed outcome")
)

// PlayerConfig describes a player joining a round.
type PlayerConfig struct {
	// ID identifies the player across rounds and machines. Players are
	// ordered by ID, comparing bytes (Go's < on strings), so an ID must sort
	// the way the lobby orders peers: use a fixed-length lower-case hex key
	// fingerprint, which sorts like the fingerprint bytes. It must be
	// non-empty and unique in the game.
	ID string
	// Colour is the player's colour, 0..NumColours-1, unique in the game.
	// Use AssignColours or FreeColour to resolve clashes.
	Colour int
	// Robot makes the simulation steer this player (see Game).
	Robot bool
}

// Config configures a Game. The zero Config is valid: a game with no players,
// whose round is over at once with a draw.
type Config struct {
	// Seed seeds the random choices of robots. Instances that must agree use
	// the same seed (the host announces it).
	Seed uint64
	// Players are the players of the first round, in any order; at most
	// MaxPlayers.
	Players []PlayerConfig
}

// Player is a read-only view of one player in the current round.
type Player struct {
	ID     string
	Colour int
	Robot  bool
	// Alive is true while the bike is in the round.
	Alive bool
	// Left is true once the player has been removed (see Game.Remove).
	Left bool
	// Head is the cell the bike is on (where it stopped, if dead).
	Head Cell
	// Heading is the direction the bike travels in.
	Heading Heading
	// Score counts rounds won in this game.
	Score int
}

type player struct {
	Player
	leaving bool   // Remove was called; derezzes at the next step
	trail   []Cell // start cell first, head last; nil once derezzed
	queue   [QueueLen]Turn
	qhead   int
	qlen    int
}

// Game is the state of a lightcycle game: the current round's board, players
// and step count, and scores across rounds.
//
// A Game advances in steps: every StepTicks ticks each living bike applies at
// most one queued turn and moves one cell, and collisions are resolved
// against the board as it was before the step, so no result depends on the
// order players are processed in. Two ways drive it:
//
//   - The host calls Tick once per simulation tick (or Step once per step)
//     and sends each returned Outcome to the others.
//   - The others call Apply with each Outcome they receive, which checks it
//     against the rules and applies it; after that, Digest agrees with the
//     host's. An instance that becomes host continues with Tick or Step.
//
// A Game is not safe for concurrent use; all its methods return at once.
type Game struct {
	seed    uint64
	round   int
	steps   int
	ticks   int
	over    bool
	winner  int
	players []player           // sorted by ID
	grid    [Size * Size]uint8 // 0: free, i+1: trail of players[i]
	pcg     rand.PCG
}

// New returns a Game in round 1 with the players of cfg sorted by ID, each on
// its start cell (see StartPosition). It returns an error wrapping ErrConfig
// if an ID is empty or repeated, a colour is out of range or repeated, or
// there are more than MaxPlayers players.
func New(cfg Config) (*Game, error) {
	g := &Game{seed: cfg.Seed}
	if err := g.reset(nil, cfg.Players); err != nil {
		return nil, err
	}
	return g, nil
}

// NextRound ends the current round, finished or not, and starts the next
// one: the board is cleared, players who left are dropped, the players in
// join are added with a score of zero, everyone is placed on their start
// cell in ID order, queued turns are discarded and scores are kept. On error
// (wrapping ErrConfig, as for New) the game is unchanged.
func (g *Game) NextRound(join ...PlayerConfig) error {
	var keep []player
	for _, p := range g.players {
		if !p.Left && !p.leaving {
			keep = append(keep, p)
		}
	}
	return g.reset(keep, join)
}

func (g *Game) reset(keep []player, join []PlayerConfig) error {
	ps := make([]player, 0, len(keep)+len(join))
	for _, p := range keep {
		ps = append(ps, player{Player: Player{ID: p.ID, Colour: p.Colour, Robot: p.Robot, Score: p.Score}})
	}
	for _, pc := range join {
		ps = append(ps, player{Player: Player{ID: pc.ID, Colour: pc.Colour, Robot: pc.Robot}})
	}
	if len(ps) > MaxPlayers {
		return fmt.Errorf("%w: %d players, at most %d", ErrConfig, len(ps), MaxPlayers)
	}
	slices.SortFunc(ps, func(a, b player) int { return cmp.Compare(a.ID, b.ID) })
	var colours [NumColours]bool
	for i, p := range ps {
		switch {
		case p.ID == "":
			return fmt.Errorf("%w: empty player ID", ErrConfig)
		case i > 0 && ps[i-1].ID == p.ID:
			return fmt.Errorf("%w: player ID %q repeated", ErrConfig, p.ID)
		case p.Colour < 0 || p.Colour >= NumColours:
			return fmt.Errorf("%w: player %q has colour %d, want 0..%d", ErrConfig, p.ID, p.Colour, NumColours-1)
		case colours[p.Colour]:
			return fmt.Errorf("%w: colour %d claimed twice (see AssignColours)", ErrConfig, p.Colour)
		}
		colours[p.Colour] = true
	}
	for i := range ps {
		p := &ps[i]
		p.Head, p.Heading = StartPosition(i, len(ps))
		p.Alive = true
		p.trail = append(make([]Cell, 0, 64), p.Head)
	}
	g.round++
	g.players = ps
	g.steps, g.ticks = 0, 0
	g.grid = [Size * Size]uint8{}
	g.over, g.winner = len(ps) == 0, -1
	return nil
}

// Round returns the round number, starting at 1.
func (g *Game) Round() int { return g.round }

// Steps returns how many steps the current round has run.
func (g *Game) Steps() int { return g.steps }

// Ticks returns how many ticks the current round has run.
func (g *Game) Ticks() int { return g.ticks }

// Result reports whether the round is over and, if so, its winner: the index
// in Players of the last bike alive, or -1 for a draw (the remaining bikes
// died in the same step, or the round had no players). A round with two or
// more players is over when at most one bike is alive; a round with a single
// player (practice) is over when that bike dies, which is a draw.
func (g *Game) Result() (winner int, over bool) { return g.winner, g.over }

// Players returns the players of the current round sorted by ID; a player's
// index in this slice is the index used by Outcome, Head, Death and Result.
// The slice is a copy.
func (g *Game) Players() []Player {
	out := make([]Player, len(g.players))
	for i, p := range g.players {
		out[i] = p.Player
	}
	return out
}

// Index returns the index of the player with the given ID in Players, or -1.
func (g *Game) Index(id string) int {
	i, ok := slices.BinarySearchFunc(g.players, id, func(p player, id string) int { return cmp.Compare(p.ID, id) })
	if !ok {
		return -1
	}
	return i
}

// Trail appends the cells of player i's trail to dst and returns it: the
// start cell (on the wall) first and the head last, one cell per step. A
// derezzed player has no trail. It panics if i is out of range.
func (g *Game) Trail(dst []Cell, i int) []Cell {
	return append(dst, g.players[i].trail...)
}

// Owner returns the index of the player whose trail covers c, or -1 if c is
// free or wall. Start cells are on the wall and not owned.
func (g *Game) Owner(c Cell) int {
	if IsWall(c) {
		return -1
	}
	return int(g.grid[c.Y*Size+c.X]) - 1
}

// deadly reports whether entering c kills a bike: c is wall or a trail.
func (g *Game) deadly(c Cell) bool {
	return IsWall(c) || g.grid[c.Y*Size+c.X] != 0
}

// Turn queues a turn for the player with the given ID. Queued turns are
// applied first in, first out, at most one per step (the spec's "per tick"
// means per movement), so two quick turns the same way make a U-turn into
// the adjacent lane over two steps. A turn applied on a bike's first step
// drives it along the wall, which is deadly.
//
// Turn returns an error wrapping ErrUnknownPlayer, ErrRobot, ErrNotPlaying
// (dead, leaving or round over), ErrBadTurn or ErrQueueFull (QueueLen turns
// waiting; the new turn is dropped, the queued ones are kept).
func (g *Game) Turn(id string, t Turn) error {
	i := g.Index(id)
	switch {
	case i < 0:
		return fmt.Errorf("%w: %q", ErrUnknownPlayer, id)
	case t != TurnLeft && t != TurnRight:
		return fmt.Errorf("%w: %d", ErrBadTurn, t)
	}
	p := &g.players[i]
	switch {
	case p.Robot:
		return fmt.Errorf("%w: %q", ErrRobot, id)
	case g.over || !p.Alive || p.leaving:
		return fmt.Errorf("%w: %q", ErrNotPlaying, id)
	case p.qlen == QueueLen:
		return fmt.Errorf("%w: %q", ErrQueueFull, id)
	}
	p.queue[(p.qhead+p.qlen)%QueueLen] = t
	p.qlen++
	return nil
}

// popTurn returns the next queued turn of p, or 0 if none is queued.
func (p *player) popTurn() Turn {
	if p.qlen == 0 {
		return 0
	}
	t := p.queue[p.qhead]
	p.qhead = (p.qhead + 1) % QueueLen
	p.qlen--
	return t
}

// Remove derezzes the player with the given ID, who has left the game. If
// the round is running and the bike is alive, it dies at the next step
// (Death with CauseLeft in that step's Outcome, trail cleared), so every
// instance applies the leave at the same step. The player is dropped from
// the game at the next round. Removing a player twice is not an error; an
// unknown ID returns an error wrapping ErrUnknownPlayer.
func (g *Game) Remove(id string) error {
	i := g.Index(id)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownPlayer, id)
	}
	p := &g.players[i]
	if p.Left {
		return nil
	}
	if g.over || !p.Alive {
		p.Left = true
		return nil
	}
	p.leaving = true
	return nil
}

// Tick advances the round by one tick. Every StepTicks-th tick of the round
// (ticks StepTicks, 2*StepTicks, ...) runs a step and returns its Outcome
// and true; other ticks, and ticks after the round is over, return false.
func (g *Game) Tick() (Outcome, bool) {
	if g.over {
		return Outcome{}, false
	}
	g.ticks++
	if g.ticks%StepTicks != 0 {
		return Outcome{}, false
	}
	return g.step(), true
}

// Step advances the round to the next step boundary and runs that step, as
// if Tick were called until it returned true. It returns false if the round
// is over.
func (g *Game) Step() (Outcome, bool) {
	if g.over {
		return Outcome{}, false
	}
	return g.step(), true
}
