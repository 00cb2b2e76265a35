package sim

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

var sampleOutcome = Outcome{
	Round: 3, Step: 300,
	Heads:  []Head{{Player: 0, Cell: Cell{1, 98}, Heading: Left}, {Player: 7, Cell: Cell{98, 1}, Heading: Up}},
	Deaths: []Death{{Player: 2, Cell: Cell{0, 50}, Cause: CauseLeft}, {Player: 5, Cell: Cell{40, 41}, Cause: CauseHeadOn}},
	Over:   false, Winner: -1,
}

func TestOutcomeRoundTrip(t *testing.T) {
	for _, o := range []Outcome{
		sampleOutcome,
		{Round: 1, Step: 1, Winner: -1, Over: true},
		{Round: 1 << 20, Step: 7, Heads: []Head{{Player: 4, Cell: Cell{9, 9}, Heading: Down}}, Over: true, Winner: 4},
	} {
		b, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Outcome
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
		}
	}
	b, _ := sampleOutcome.AppendBinary(nil)
	if want := 2 + 1 + 1 + 2*4 + 1 + 2*4 + 1; len(b) != want {
		t.Fatalf("encoded %d bytes, want %d", len(b), want)
	}
}

func TestOutcomeTruncatedAtEveryByte(t *testing.T) {
	win := sampleOutcome
	win.Over, win.Winner = true, 7
	for _, o := range []Outcome{sampleOutcome, win} {
		b, err := o.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			var got Outcome
			if err := got.UnmarshalBinary(b[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("truncated to %d of %d bytes: err = %v", n, len(b), err)
			}
		}
		var got Outcome
		if err := got.UnmarshalBinary(append(b, 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("trailing byte accepted: %v", err)
		}
	}
}

func TestOutcomeRejectsOutOfRange(t *testing.T) {
	bad := []Outcome{
		{Round: -1},
		{Heads: []Head{{Player: 8}}},
		{Heads: []Head{{Cell: Cell{100, 0}}}},
		{Heads: []Head{{Heading: 4}}},
		{Deaths: []Death{{Cause: 0}}},
		{Over: true, Winner: 8},
		{Heads: make([]Head, 9)},
	}
	for _, o := range bad {
		if _, err := o.AppendBinary(nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("AppendBinary(%+v) = %v, want ErrMalformed", o, err)
		}
	}
	good, _ := sampleOutcome.AppendBinary(nil)
	// Flip each byte to a value no field accepts where one exists.
	for _, b := range [][]byte{
		{1, 1, 9},                   // 9 heads
		{1, 1, 1, 8, 1, 1, 0, 0, 0}, // player index 8
		{1, 1, 1, 0, 100, 1, 0, 0, 0},
		{1, 1, 1, 0, 1, 1, 4, 0, 0}, // heading 4
		{1, 1, 0, 1, 0, 1, 1, 5, 0}, // cause 5
		{1, 1, 0, 0, 3},             // result 3
		{1, 1, 0, 0, 2, 8},          // winner 8
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 0, 0, 0},
	} {
		var o Outcome
		if err := o.UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("UnmarshalBinary(% x) = %v, want ErrMalformed", b, err)
		}
	}
	var o Outcome
	if err := o.UnmarshalBinary(good); err != nil || !reflect.DeepEqual(o, sampleOutcome) {
		t.Fatal("a failed decode left state behind")
	}
}

func FuzzOutcomeUnmarshal(f *testing.F) {
	b, _ := sampleOutcome.AppendBinary(nil)
	f.Add(b)
	f.Add([]byte{1, 1, 0, 0, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Outcome
		if err := o.UnmarshalBinary(data); err != nil {
			return
		}
		enc, err := o.AppendBinary(nil)
		if err != nil {
			t.Fatalf("decoded outcome does not encode: %v", err)
		}
		var again Outcome
		if err := again.UnmarshalBinary(enc); err != nil || !reflect.DeepEqual(again, o) {
			t.Fatalf("re-decode: %v\n got %+v\nwant %+v", err, again, o)
		}
		if len(enc) == len(data) && !bytes.Equal(enc, data) {
			t.Fatalf("two encodings of one outcome: % x vs % x", data, enc)
		}
	})
}

// TestFollowerAgreesAndTakesOver plays a game with a human and robots on a
// host, feeds every outcome through the binary form to a follower, and
// checks their digests after every step. Halfway, the follower becomes host
// (as when the host leaves) and must play on exactly as the old host does.
func TestFollowerAgreesAndTakesOver(t *testing.T) {
	cfg := robots(9, 5)
	cfg.Players = append(cfg.Players, PlayerConfig{ID: "ann", Colour: 7})
	host, _ := New(cfg)
	follower, _ := New(cfg)
	turns := []Turn{TurnLeft, TurnRight, TurnRight, TurnLeft}
	var wire []byte
	for k := 0; k < 60; k++ {
		if k%7 == 3 {
			_ = host.Turn("ann", turns[k%len(turns)]) // may be dead already
		}
		if k == 20 {
			if err := host.Remove("bot3"); err != nil {
				t.Fatal(err)
			}
		}
		o, ok := host.Step()
		if !ok {
			t.Fatalf("round over after %d steps; pick another seed", k)
		}
		var err error
		if wire, err = o.AppendBinary(wire[:0]); err != nil {
			t.Fatal(err)
		}
		var got Outcome
		if err := got.UnmarshalBinary(wire); err != nil {
			t.Fatal(err)
		}
		if err := follower.Apply(got); err != nil {
			t.Fatalf("step %d: %v", k+1, err)
		}
		if host.Digest() != follower.Digest() {
			t.Fatalf("step %d: digests differ", k+1)
		}
	}
	if p := follower.Players()[follower.Index("bot3")]; p.Alive || !p.Left {
		t.Fatalf("follower did not apply the leave: %+v", p)
	}
	for {
		a, okA := host.Step()
		b, okB := follower.Step()
		if okA != okB || !reflect.DeepEqual(a, b) || host.Digest() != follower.Digest() {
			t.Fatalf("after takeover at step %d: host %+v, new host %+v", host.Steps(), a, b)
		}
		if !okA {
			break
		}
	}
	if w, over := follower.Result(); !over || w < -1 {
		t.Fatal("round did not end")
	}
}

func TestApplyRejectsWithoutChange(t *testing.T) {
	g := board(t, bike{at: Cell{50, 50}, h: Up}, bike{at: Cell{20, 50}, h: Up}, bike{at: Cell{80, 50}, h: Up})
	lay(g, 0, Cell{50, 49})
	ok := Outcome{Round: 1, Step: 1, Winner: -1, Heads: []Head{
		{0, Cell{50, 48}, Up}, {1, Cell{20, 49}, Up}, {2, Cell{80, 49}, Up},
	}}
	mutate := map[string]func(o *Outcome){
		"wrong step":      func(o *Outcome) { o.Step = 2 },
		"wrong round":     func(o *Outcome) { o.Round = 2 },
		"reverse":         func(o *Outcome) { o.Heads[0] = Head{0, Cell{50, 50}, Down} },
		"jump":            func(o *Outcome) { o.Heads[1].Cell = Cell{20, 47} },
		"missing player":  func(o *Outcome) { o.Heads = o.Heads[:2] },
		"twice":           func(o *Outcome) { o.Deaths = []Death{{1, Cell{20, 50}, CauseWall}} },
		"out of order":    func(o *Outcome) { o.Heads[0], o.Heads[1] = o.Heads[1], o.Heads[0] },
		"unknown player":  func(o *Outcome) { o.Heads = append(o.Heads, Head{3, Cell{5, 5}, Up}) },
		"death elsewhere": func(o *Outcome) { o.Heads = o.Heads[:2]; o.Deaths = []Death{{2, Cell{80, 49}, CauseWall}} },
		"false winner":    func(o *Outcome) { o.Over, o.Winner = true, 0 },
		"into a trail": func(o *Outcome) {
			o.Heads[1] = Head{1, Cell{21, 50}, Right}
			lay(g, 2, Cell{21, 50})
		},
	}
	before := g.Digest()
	for name, m := range mutate {
		o := ok
		o.Heads = append([]Head(nil), ok.Heads...)
		m(&o)
		if err := g.Apply(o); !errors.Is(err, ErrOutcome) {
			t.Errorf("%s: Apply = %v, want ErrOutcome", name, err)
		}
		if name == "into a trail" {
			g.grid[50*Size+21] = 0
			g.players[2].trail = g.players[2].trail[:len(g.players[2].trail)-1]
			g.players[2].Head = Cell{80, 50}
		}
		if g.Digest() != before {
			t.Fatalf("%s: rejected outcome changed the game", name)
		}
	}
	if err := g.Apply(ok); err != nil {
		t.Fatalf("valid outcome: %v", err)
	}
	if err := g.Apply(ok); !errors.Is(err, ErrOutcome) {
		t.Fatalf("same outcome twice: %v", err)
	}
}
