package game

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// The game protocol. Every message is one transport message (framed by the
// transport, never a byte stream): a kind byte, then the fields below, in
// order, with no trailing bytes. Integers are uvarints unless noted;
// strings are a uvarint length and that many bytes (at most maxString);
// lists are a count byte and that many entries.
//
//	intent   peer -> all        want colour (byte, 255: none), readyFor (0: not ready)
//	table    authority -> all   lastRound, playing, roundHost, bots,
//	                            seats [id, name, colour (255: none), readyFor],
//	                            scores [id, score]
//	start    authority -> all   round, epoch, seed (8 bytes, big-endian), delay,
//	                            players [id, name, colour, robot (byte), score]
//	steps    host -> peer       round, [len, sim.Outcome binary, digest (8 bytes)]
//	ack      peer -> host       round, epoch, step
//	turn     peer -> host       round, turn (byte)
//	sync     peer -> new host   round, epoch, applied, digest (8 bytes),
//	                            has start (byte) [start body], tail as in steps
//	abort    host -> all        round
//	resync   peer -> host       round, epoch
//	beat     peer -> all        (nothing: a heartbeat, sent unreliable)
//
// The epoch counts the announcements of a round one peer got from its host
// (the first is 0; a rebuild sends the next): acknowledgements of an older
// epoch are ignored.
const (
	kindIntent byte = iota + 1
	kindTable
	kindStart
	kindSteps
	kindAck
	kindTurn
	kindSync
	kindAbort
	kindResync
	kindBeat
)

// Bounds of decoded messages.
const (
	maxString   = 64  // bytes: IDs are 64 hex digits
	maxName     = 63  // bytes of a display name (the lobby's limit)
	maxSeats    = 16  // seats in a table (humans; the lobby allows 8)
	maxScores   = 64  // score entries in a table
	maxSteps    = 64  // step records in one steps or sync message
	maxStepSize = 128 // bytes of one encoded sim.Outcome (at most 40 for 8 bikes)
	noColour    = 255
)

// errMalformed wraps every decoding error.
var errMalformed = errors.New("game: malformed message")

type intentMsg struct {
	want     int // -1: no preference
	readyFor int // 0: not ready
}

type seatEntry struct {
	id, name string
	colour   int // -1: not assigned yet
	readyFor int
}

type scoreEntry struct {
	id    string
	score int
}

type tableMsg struct {
	lastRound int    // rounds completed
	playing   int    // round in progress (announced or running), 0: none
	roundHost string // the host of the round in progress
	bots      int
	seats     []seatEntry
	scores    []scoreEntry
}

// progress orders tables: a later round, or the same round once it is
// being played, is further on.
func (t *tableMsg) progress() int {
	p := 2 * t.lastRound
	if t.playing != 0 {
		p = 2*t.playing - 1
	}
	return p
}

type startPlayer struct {
	id, name string
	colour   int
	robot    bool
	score    int
}

type startMsg struct {
	round   int
	epoch   int
	seed    uint64
	delay   int // ticks from the receipt of this message to the start
	players []startPlayer
}

// stepRecord is one step of a round as the host decided it: the outcome,
// its binary form, and the digest of the game after it.
type stepRecord struct {
	out    sim.Outcome
	bin    []byte
	digest uint64
}

type stepsMsg struct {
	round int
	steps []stepRecord
}

type ackMsg struct{ round, epoch, step int }

type turnMsg struct {
	round int
	turn  sim.Turn
}

type syncMsg struct {
	round   int
	epoch   int
	applied int
	digest  uint64
	start   *startMsg
	tail    []stepRecord
}

type abortMsg struct{ round int }

type resyncMsg struct{ round, epoch int }

// beatMsg says "still here": the players of a round hand it over when its
// host goes quiet for Config.HostTimeout (see Game.checkHost).
type beatMsg struct{}

func appendString(b []byte, s string) []byte {
	if len(s) > maxString {
		s = s[:maxString]
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendColour(b []byte, c int) []byte {
	if c < 0 || c >= sim.NumColours {
		return append(b, noColour)
	}
	return append(b, byte(c))
}

func appendUint(b []byte, v int) []byte { return binary.AppendUvarint(b, uint64(max(v, 0))) }

func (m *intentMsg) append(b []byte) []byte {
	b = append(b, kindIntent)
	b = appendColour(b, m.want)
	return appendUint(b, m.readyFor)
}

func (m *tableMsg) append(b []byte) []byte {
	b = append(b, kindTable)
	b = appendUint(b, m.lastRound)
	b = appendUint(b, m.playing)
	b = appendString(b, m.roundHost)
	b = appendUint(b, m.bots)
	seats := m.seats[:min(len(m.seats), maxSeats)]
	b = append(b, byte(len(seats)))
	for _, s := range seats {
		b = appendString(b, s.id)
		b = appendString(b, s.name)
		b = appendColour(b, s.colour)
		b = appendUint(b, s.readyFor)
	}
	scores := m.scores[:min(len(m.scores), maxScores)]
	b = append(b, byte(len(scores)))
	for _, s := range scores {
		b = appendString(b, s.id)
		b = appendUint(b, s.score)
	}
	return b
}

func (m *startMsg) append(b []byte) []byte {
	b = append(b, kindStart)
	return m.appendBody(b)
}

func (m *startMsg) appendBody(b []byte) []byte {
	b = appendUint(b, m.round)
	b = appendUint(b, m.epoch)
	b = binary.BigEndian.AppendUint64(b, m.seed)
	b = appendUint(b, m.delay)
	ps := m.players[:min(len(m.players), sim.MaxPlayers)]
	b = append(b, byte(len(ps)))
	for _, p := range ps {
		b = appendString(b, p.id)
		b = appendString(b, p.name)
		b = appendColour(b, p.colour)
		if p.robot {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = appendUint(b, p.score)
	}
	return b
}

func appendSteps(b []byte, steps []stepRecord) []byte {
	steps = steps[:min(len(steps), maxSteps)]
	b = append(b, byte(len(steps)))
	for _, s := range steps {
		b = binary.AppendUvarint(b, uint64(len(s.bin)))
		b = append(b, s.bin...)
		b = binary.BigEndian.AppendUint64(b, s.digest)
	}
	return b
}

func (m *stepsMsg) append(b []byte) []byte {
	b = append(b, kindSteps)
	b = appendUint(b, m.round)
	return appendSteps(b, m.steps)
}

func (m *ackMsg) append(b []byte) []byte {
	b = append(b, kindAck)
	b = appendUint(b, m.round)
	b = appendUint(b, m.epoch)
	return appendUint(b, m.step)
}

func (m *turnMsg) append(b []byte) []byte {
	b = append(b, kindTurn)
	b = appendUint(b, m.round)
	return append(b, byte(m.turn))
}

func (m *syncMsg) append(b []byte) []byte {
	b = append(b, kindSync)
	b = appendUint(b, m.round)
	b = appendUint(b, m.epoch)
	b = appendUint(b, m.applied)
	b = binary.BigEndian.AppendUint64(b, m.digest)
	if m.start != nil {
		b = append(b, 1)
		b = m.start.appendBody(b)
	} else {
		b = append(b, 0)
	}
	return appendSteps(b, m.tail)
}

func (m *abortMsg) append(b []byte) []byte {
	b = append(b, kindAbort)
	return appendUint(b, m.round)
}

func (*beatMsg) append(b []byte) []byte { return append(b, kindBeat) }

func (m *resyncMsg) append(b []byte) []byte {
	b = append(b, kindResync)
	b = appendUint(b, m.round)
	return appendUint(b, m.epoch)
}

// decode parses one message. It returns one of *intentMsg, *tableMsg,
// *startMsg, *stepsMsg, *ackMsg, *turnMsg, *syncMsg, *abortMsg,
// *resyncMsg or *beatMsg, or an error wrapping errMalformed; it never panics and
// allocates in proportion to len(data).
func decode(data []byte) (any, error) {
	r := reader{b: data}
	var m any
	switch kind := r.byte(); kind {
	case kindIntent:
		m = &intentMsg{want: r.colour(), readyFor: r.uint()}
	case kindTable:
		t := &tableMsg{lastRound: r.uint(), playing: r.uint(), roundHost: r.id(true), bots: r.uint()}
		n := r.count(maxSeats)
		for range n {
			t.seats = append(t.seats, seatEntry{id: r.id(false), name: r.name(), colour: r.colour(), readyFor: r.uint()})
		}
		n = r.count(maxScores)
		for range n {
			t.scores = append(t.scores, scoreEntry{id: r.id(false), score: r.uint()})
		}
		m = t
	case kindStart:
		m = r.start()
	case kindSteps:
		m = &stepsMsg{round: r.uint(), steps: r.steps()}
	case kindAck:
		m = &ackMsg{round: r.uint(), epoch: r.uint(), step: r.uint()}
	case kindTurn:
		t := &turnMsg{round: r.uint(), turn: sim.Turn(r.byte())}
		if t.turn != sim.TurnLeft && t.turn != sim.TurnRight {
			r.fail("invalid turn")
		}
		m = t
	case kindSync:
		s := &syncMsg{round: r.uint(), epoch: r.uint(), applied: r.uint(), digest: r.uint64()}
		switch r.byte() {
		case 0:
		case 1:
			s.start = r.start()
		default:
			r.fail("invalid start flag")
		}
		s.tail = r.steps()
		m = s
	case kindAbort:
		m = &abortMsg{round: r.uint()}
	case kindResync:
		m = &resyncMsg{round: r.uint(), epoch: r.uint()}
	case kindBeat:
		m = &beatMsg{}
	default:
		r.fail(fmt.Sprintf("unknown kind %d", kind))
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// reader decodes messages; after the first error every read returns zero
// values and err keeps the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errMalformed, what)
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

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) {
		r.fail("truncated")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) uint() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > math.MaxInt32 {
		r.fail("bad number")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) uint64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) count(limit int) int {
	n := int(r.byte())
	if n > limit {
		r.fail("too many entries")
		return 0
	}
	return n
}

func (r *reader) string() string {
	n := r.uint()
	if n > maxString {
		r.fail("string too long")
		return ""
	}
	return string(r.bytes(n))
}

// id reads a player ID: non-empty (unless empty is allowed) and printable
// ASCII.
func (r *reader) id(empty bool) string {
	s := r.string()
	if s == "" && !empty && r.err == nil {
		r.fail("empty id")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			r.fail("id is not printable ASCII")
			return ""
		}
	}
	return s
}

// name reads a display name and makes it safe to print: invalid UTF-8
// becomes U+FFFD, control and bidirectional formatting characters go.
func (r *reader) name() string {
	return cleanName(r.string())
}

// It also cuts the name to maxName bytes, at a character boundary.
func cleanName(s string) string {
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c) {
			return -1
		}
		return c
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	for len(s) > maxName {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func (r *reader) colour() int {
	c := int(r.byte())
	switch {
	case c == noColour:
		return -1
	case c >= sim.NumColours:
		r.fail("invalid colour")
		return -1
	}
	return c
}

func (r *reader) start() *startMsg {
	s := &startMsg{round: r.uint(), epoch: r.uint(), seed: r.uint64(), delay: r.uint()}
	n := r.count(sim.MaxPlayers)
	for range n {
		p := startPlayer{id: r.id(false), name: r.name(), colour: r.colour()}
		switch r.byte() {
		case 0:
		case 1:
			p.robot = true
		default:
			r.fail("invalid robot flag")
		}
		p.score = r.uint()
		if p.colour < 0 && r.err == nil {
			r.fail("player without a colour")
		}
		s.players = append(s.players, p)
	}
	if s.round == 0 && r.err == nil {
		r.fail("round 0")
	}
	return s
}

func (r *reader) steps() []stepRecord {
	n := r.count(maxSteps)
	var out []stepRecord
	for range n {
		size := r.uint()
		if size > maxStepSize {
			r.fail("step too long")
			return nil
		}
		bin := r.bytes(size)
		digest := r.uint64()
		if r.err != nil {
			return nil
		}
		var o sim.Outcome
		if err := o.UnmarshalBinary(bin); err != nil {
			r.fail(err.Error())
			return nil
		}
		out = append(out, stepRecord{out: o, bin: append([]byte(nil), bin...), digest: digest})
	}
	return out
}
