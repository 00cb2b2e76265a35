package game

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// sampleMessages returns one message of every kind, with every field set.
func sampleMessages(t testing.TB) []appender {
	host, _ := sim.New(sim.Config{Seed: 3, Players: []sim.PlayerConfig{{ID: "a", Colour: 1, Robot: true}, {ID: "b", Colour: 2, Robot: true}}})
	var recs []stepRecord
	for range 3 {
		o, _ := host.Step()
		bin, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back sim.Outcome
		if err := back.UnmarshalBinary(bin); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, stepRecord{out: back, bin: bin, digest: host.Digest()})
	}
	start := &startMsg{round: 7, epoch: 2, seed: 0xfedcba9876543210, delay: 180, players: []startPlayer{
		{id: "a", name: "ann", colour: 1, robot: false, score: 3},
		{id: "bot1", name: "robot 1", colour: 7, robot: true, score: 0},
	}}
	return []appender{
		&intentMsg{want: 5, readyFor: 3},
		&intentMsg{want: -1, readyFor: 0},
		&tableMsg{lastRound: 4, playing: 5, roundHost: "a", bots: 2,
			seats:  []seatEntry{{id: "a", name: "ann", colour: 0, readyFor: 5}, {id: "b", name: "bö", colour: -1}},
			scores: []scoreEntry{{id: "a", score: 2}, {id: "bot1", score: 9}}},
		&tableMsg{},
		start,
		&stepsMsg{round: 7, steps: recs},
		&stepsMsg{round: 1},
		&ackMsg{round: 7, epoch: 1, step: 300},
		&turnMsg{round: 7, turn: sim.TurnRight},
		&syncMsg{round: 7, epoch: 2, applied: 3, digest: 42, start: start, tail: recs},
		&syncMsg{},
		&abortMsg{round: 9},
		&resyncMsg{round: 9, epoch: 4},
		&beatMsg{},
	}
}

// TestWireRoundTrip: every message decodes to what was encoded.
func TestWireRoundTrip(t *testing.T) {
	for _, m := range sampleMessages(t) {
		b := m.append(nil)
		got, err := decode(b)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip of %T:\n got %+v\nwant %+v", m, got, m)
		}
		if !bytes.Equal(got.(appender).append(nil), b) {
			t.Fatalf("%T: re-encoding differs", m)
		}
	}
}

// TestWireTruncatedAndTrailing: a message cut at any byte, or followed by
// one more byte, is an error wrapping errMalformed, never a panic.
func TestWireTruncatedAndTrailing(t *testing.T) {
	for _, m := range sampleMessages(t) {
		b := m.append(nil)
		for i := range len(b) {
			if _, err := decode(b[:i]); !errors.Is(err, errMalformed) {
				t.Fatalf("%T cut at %d of %d bytes: %v", m, i, len(b), err)
			}
		}
		if _, err := decode(append(b, 0)); !errors.Is(err, errMalformed) {
			t.Fatalf("%T with a trailing byte: %v", m, err)
		}
	}
}

// TestWireRejects: out-of-range fields are refused.
func TestWireRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"unknown kind":     {99},
		"empty":            {},
		"bad colour":       {kindIntent, 8, 0},
		"bad turn":         {kindTurn, 1, 3},
		"round 0 start":    (&startMsg{}).append(nil),
		"too many seats":   append([]byte{kindTable, 0, 0, 0, 0}, maxSeats+1),
		"long string":      append([]byte{kindTable, 0, 0, 65}, make([]byte, 65)...),
		"unprintable id":   {kindTable, 0, 0, 1, 0, 0, 1, 1, '\n', 0, 0, 0, 0},
		"bad outcome":      {kindSteps, 1, 1, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0},
		"step too long":    {kindSteps, 1, 1, 0x81, 0x01},
		"bad robot flag":   (&startMsg{round: 1, players: []startPlayer{{id: "a", colour: 0}}}).append(nil)[:0],
		"huge number":      {kindAbort, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"bad sync start":   {kindSync, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0},
		"player no colour": startWithColour(-1),
	} {
		if len(b) == 0 && name != "empty" {
			continue
		}
		if _, err := decode(b); !errors.Is(err, errMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A player's robot flag other than 0 or 1.
	b := (&startMsg{round: 1, players: []startPlayer{{id: "a", colour: 0}}}).append(nil)
	b[len(b)-2] = 2
	if _, err := decode(b); !errors.Is(err, errMalformed) {
		t.Errorf("robot flag 2: %v", err)
	}
}

func startWithColour(c int) []byte {
	return (&startMsg{round: 1, players: []startPlayer{{id: "a", colour: c}}}).append(nil)
}

// TestWireNamesAreCleaned: control and bidi characters in names from the
// network are dropped and invalid UTF-8 replaced, so they print safely.
func TestWireNamesAreCleaned(t *testing.T) {
	b := (&tableMsg{seats: []seatEntry{{id: "a", name: "a\x1b[2Jb\u202ec\xff", colour: 0}}}).append(nil)
	m, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*tableMsg).seats[0].name; got != "a[2Jbc\ufffd" {
		t.Fatalf("name %q", got)
	}
}

// FuzzDecode: decode never panics, and what it accepts re-encodes to the
// same bytes.
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages(f) {
		f.Add(m.append(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not wrapping errMalformed: %v", err)
			}
			return
		}
		if got := m.(appender).append(nil); !bytes.Equal(got, b) {
			// Names are cleaned and colours normalised on the way in;
			// decoding the re-encoding must then be stable.
			again, err := decode(got)
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("unstable: %x -> %+v -> %x (%v)", b, m, got, err)
			}
		}
	})
}
