package sim

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Cause says why a bike died.
type Cause uint8

// The causes of death. The zero Cause is not a cause.
const (
	// CauseWall: the bike drove into the wall ring.
	CauseWall Cause = iota + 1
	// CauseTrail: the bike drove into a trail (its own, another player's,
	// or another bike's head).
	CauseTrail
	// CauseHeadOn: the bike entered the same cell as another bike, or the
	// two swapped cells.
	CauseHeadOn
	// CauseLeft: the player left the game (Game.Remove).
	CauseLeft
)

// Valid reports whether c is one of the causes.
func (c Cause) Valid() bool { return c >= CauseWall && c <= CauseLeft }

// String returns "wall", "trail", "head-on" or "left".
func (c Cause) String() string {
	switch c {
	case CauseWall:
		return "wall"
	case CauseTrail:
		return "trail"
	case CauseHeadOn:
		return "head-on"
	case CauseLeft:
		return "left"
	}
	return "cause(invalid)"
}

// Head is where a surviving bike went in a step.
type Head struct {
	// Player is the index in Game.Players.
	Player int
	// Cell is the bike's new head cell.
	Cell Cell
	// Heading is the bike's heading after its turn, if any.
	Heading Heading
}

// Death is a bike that died in a step; the renderer draws the derez effect
// at Cell in the player's colour.
type Death struct {
	// Player is the index in Game.Players.
	Player int
	// Cell is where the bike stopped: its head before the step. A bike never
	// enters the cell that kills it.
	Cell Cell
	// Cause says why the bike died.
	Cause Cause
}

// Outcome is what happened in one step of a round: the host sends it to the
// other instances, which pass it to Game.Apply, and the renderer uses it to
// move bikes and draw crashes. Heads and Deaths are in player order; every
// bike alive before the step is in exactly one of them.
//
// The binary form (AppendBinary, UnmarshalBinary) is compact: two uvarints,
// four bytes per head or death and one or two bytes of result, so a step of
// 8 bikes fits in 40 bytes. It carries player indexes, not IDs; both sides
// know the round's players.
type Outcome struct {
	// Round is the round number (Game.Round).
	Round int
	// Step is the step number within the round, from 1; the step ran at
	// tick Step*StepTicks of the round.
	Step int
	// Heads are the bikes that survived the step.
	Heads []Head
	// Deaths are the bikes that died in the step.
	Deaths []Death
	// Over is true if the round ended with this step.
	Over bool
	// Winner is the index of the winning player if Over; -1 for a draw or
	// a running round.
	Winner int
}

// Result byte of the binary form.
const (
	resultRunning = 0
	resultDraw    = 1
	resultWinner  = 2 // followed by the winner's index
)

// AppendBinary appends the binary form of o to b. It returns an error
// wrapping ErrMalformed if a field is out of range: negative Round or Step,
// more than MaxPlayers heads or deaths, a player index outside
// 0..MaxPlayers-1, a cell off the board, an invalid heading or cause, or an
// out-of-range Winner when Over.
func (o *Outcome) AppendBinary(b []byte) ([]byte, error) {
	switch {
	case o.Round < 0 || o.Step < 0:
		return b, fmt.Errorf("%w: round %d step %d", ErrMalformed, o.Round, o.Step)
	case len(o.Heads) > MaxPlayers || len(o.Deaths) > MaxPlayers:
		return b, fmt.Errorf("%w: %d heads and %d deaths", ErrMalformed, len(o.Heads), len(o.Deaths))
	case o.Over && (o.Winner < -1 || o.Winner >= MaxPlayers):
		return b, fmt.Errorf("%w: winner %d", ErrMalformed, o.Winner)
	}
	for _, h := range o.Heads {
		if !validIndex(h.Player) || !onBoard(h.Cell) || !h.Heading.Valid() {
			return b, fmt.Errorf("%w: head %+v", ErrMalformed, h)
		}
	}
	for _, d := range o.Deaths {
		if !validIndex(d.Player) || !onBoard(d.Cell) || !d.Cause.Valid() {
			return b, fmt.Errorf("%w: death %+v", ErrMalformed, d)
		}
	}
	b = binary.AppendUvarint(b, uint64(o.Round))
	b = binary.AppendUvarint(b, uint64(o.Step))
	b = append(b, byte(len(o.Heads)))
	for _, h := range o.Heads {
		b = append(b, byte(h.Player), byte(h.Cell.X), byte(h.Cell.Y), byte(h.Heading))
	}
	b = append(b, byte(len(o.Deaths)))
	for _, d := range o.Deaths {
		b = append(b, byte(d.Player), byte(d.Cell.X), byte(d.Cell.Y), byte(d.Cause))
	}
	switch {
	case !o.Over:
		b = append(b, resultRunning)
	case o.Winner < 0:
		b = append(b, resultDraw)
	default:
		b = append(b, resultWinner, byte(o.Winner))
	}
	return b, nil
}

// MarshalBinary returns the binary form of o (see AppendBinary).
func (o *Outcome) MarshalBinary() ([]byte, error) {
	return o.AppendBinary(nil)
}

// UnmarshalBinary decodes the binary form of an Outcome into o, replacing
// its contents. It accepts exactly one Outcome, no trailing bytes, with every
// field in the ranges AppendBinary accepts, and returns an error wrapping
// ErrMalformed otherwise; it never panics. It does not check the outcome
// against a game: Game.Apply does.
func (o *Outcome) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	var out Outcome
	out.Round = r.int()
	out.Step = r.int()
	if n := r.count(); n > 0 {
		out.Heads = make([]Head, n)
		for k := range out.Heads {
			h := &out.Heads[k]
			h.Player, h.Cell = r.index(), r.cell()
			h.Heading = Heading(r.byte())
			if !h.Heading.Valid() {
				r.fail("invalid heading")
			}
		}
	}
	if n := r.count(); n > 0 {
		out.Deaths = make([]Death, n)
		for k := range out.Deaths {
			d := &out.Deaths[k]
			d.Player, d.Cell = r.index(), r.cell()
			d.Cause = Cause(r.byte())
			if !d.Cause.Valid() {
				r.fail("invalid cause")
			}
		}
	}
	out.Winner = -1
	switch r.byte() {
	case resultRunning:
	case resultDraw:
		out.Over = true
	case resultWinner:
		out.Over = true
		out.Winner = r.index()
	default:
		r.fail("invalid result")
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return r.err
	}
	*o = out
	return nil
}

func validIndex(i int) bool { return i >= 0 && i < MaxPlayers }

// reader decodes the binary form; after the first error every read returns
// zero values and err keeps the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) int() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > math.MaxInt32 {
		r.fail("bad round or step")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) count() int {
	n := int(r.byte())
	if n > MaxPlayers {
		r.fail("too many entries")
		return 0
	}
	return n
}

func (r *reader) index() int {
	i := int(r.byte())
	if !validIndex(i) {
		r.fail("player index out of range")
	}
	return i
}

func (r *reader) cell() Cell {
	c := Cell{int(r.byte()), int(r.byte())}
	if !onBoard(c) {
		r.fail("cell off the board")
	}
	return c
}
