package codec

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// envelope can be embedded to give a struct its action.
type envelope struct {
	Action string `msgpack:"action" json:"action"`
}

type chat struct {
	Text string
	envelope
}

type actionFirst struct {
	Action string `msgpack:"action" json:"action"`
	N      int
}

type actionLast struct {
	A, B   int
	Action string `msgpack:"action" json:"action"`
}

func TestMsgpackActionFirstKeysSorted(t *testing.T) {
	c := Msgpack(Limits{})
	b, err := c.Append(nil, Msg{"z": 1, "b": 2, "action": "go", "a": 3, "zz": nil})
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, "85 a6616374696f6e a2676f a161 03 a162 02 a17a 01 a27a7a c0")
	if !bytes.Equal(b, want) {
		t.Fatalf("got  % x\nwant % x", b, want)
	}
	// Deterministic, for every Msg of the same content.
	for range 20 {
		again, err := c.Append(nil, Msg{"a": 3, "zz": nil, "z": 1, "action": "go", "b": 2})
		if err != nil || !bytes.Equal(again, want) {
			t.Fatalf("not deterministic: % x, %v", again, err)
		}
	}
	// "action" is already the smallest key here: still first.
	b, err = c.Append(nil, map[string]string{"action": "x", "b": "y"})
	if err != nil || !bytes.Equal(b, mustHex(t, "82 a6616374696f6e a178 a162 a179")) {
		t.Fatalf("got % x, %v", b, err)
	}
}

func TestActionEncodedFirst(t *testing.T) {
	for _, c := range codecs() {
		for _, v := range []any{
			actionFirst{Action: "act", N: 1},
			&actionLast{A: 1, B: 2, Action: "act"},
			chat{Text: "hi", envelope: envelope{"act"}},
			move{X: 1, Action: "act"},
			Msg{"action": "act", "0": 0, "~": 1},
			map[string]any{"action": "act", "AAA": 1},
		} {
			b, err := c.Append([]byte("prefix"), v)
			if err != nil {
				t.Fatalf("%s: Append(%T): %v", c.Name(), v, err)
			}
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatalf("%s: Append(%T) lost the prefix: %q", c.Name(), v, b)
			}
			msg := b[len("prefix"):]
			var first string
			if c.Name() == "json" {
				first = `{"action":"act"`
			} else {
				first = "\xa6action\xa3act"
				msg = msg[1:] // map header
			}
			if !bytes.HasPrefix(msg, []byte(first)) {
				t.Fatalf("%s: Append(%T) = %q, want the action first", c.Name(), v, msg)
			}
			if a, err := c.Action(b[len("prefix"):]); err != nil || a != "act" {
				t.Fatalf("%s: Action = %q, %v", c.Name(), a, err)
			}
		}
	}
	// The rest keeps its order: a struct's fields stay in declaration order.
	b, err := JSON(Limits{}).Append(nil, actionLast{A: 1, B: 2, Action: "x"})
	if err != nil || string(b) != `{"action":"x","A":1,"B":2}` {
		t.Fatalf("got %s, %v", b, err)
	}
}

func TestAppendRejectsMessagesWithoutAction(t *testing.T) {
	type noAction struct{ N int }
	type twoActions struct {
		Action string `msgpack:"action" json:"action"`
		Other  string `msgpack:"Action" json:"Action"`
	}
	var nilMove *move
	for _, tc := range []struct {
		name string
		v    any
		want error
	}{
		{"nil", nil, ErrNoAction},
		{"nil pointer", nilMove, ErrNoAction},
		{"int", 5, ErrNoAction},
		{"array", []any{"action", "x"}, ErrNoAction},
		{"string", "action", ErrNoAction},
		{"empty Msg", Msg{}, ErrNoAction},
		{"Msg without action", Msg{"Action": "x"}, ErrNoAction},
		{"nil Msg", Msg(nil), ErrNoAction},
		{"struct without action", noAction{1}, ErrNoAction},
		{"empty action", Msg{"action": ""}, ErrBadAction},
		{"empty struct action", move{}, ErrBadAction},
		{"action not a string", Msg{"action": 1}, ErrBadAction},
		{"action nil", Msg{"action": nil}, ErrBadAction},
		{"channel", Msg{"action": "x", "c": make(chan int)}, ErrEncode},
	} {
		for _, c := range codecs() {
			t.Run(tc.name+"/"+c.Name(), func(t *testing.T) {
				dst := []byte("keep")
				out, err := c.Append(dst, tc.v)
				wantErr(t, err, tc.want)
				if string(out) != "keep" {
					t.Fatalf("dst became %q", out)
				}
			})
		}
	}
	// JSON matches struct fields ignoring case, so "Action" beside "action"
	// is ambiguous there; msgpack matches exactly.
	_, err := JSON(Limits{}).Append(nil, twoActions{"a", "b"})
	wantErr(t, err, ErrBadAction)
	if _, err := Msgpack(Limits{}).Append(nil, twoActions{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	// msgpack has bytes; JSON writes them as a base64 string.
	_, err = Default().Append(nil, Msg{"action": []byte("x")})
	wantErr(t, err, ErrBadAction)
	_, err = JSON(Limits{}).Append(nil, Msg{"action": math.NaN()})
	wantErr(t, err, ErrEncode)
}

func TestAppendEnforcesLimits(t *testing.T) {
	for _, c := range []Codec{Msgpack(Limits{MaxSize: 32, MaxDepth: 3, MaxElements: 5}), JSON(Limits{MaxSize: 32, MaxDepth: 3, MaxElements: 5})} {
		_, err := c.Append(nil, Msg{"action": "x", "s": strings.Repeat("y", 40)})
		wantErr(t, err, ErrTooLarge)
		_, err = c.Append(nil, Msg{"action": "x", "a": []any{[]any{[]any{}}}})
		wantErr(t, err, ErrTooDeep)
		_, err = c.Append(nil, Msg{"action": "x", "a": []any{1, 2, 3, 4}})
		wantErr(t, err, ErrTooManyElements)
		if _, err := c.Append(nil, Msg{"action": "x", "a": []any{[]any{1, 2}}}); err != nil {
			t.Fatalf("%s: within limits: %v", c.Name(), err)
		}
	}
}

func TestDecodeIntoMsgReusesMap(t *testing.T) {
	for _, c := range codecs() {
		b, err := c.Append(nil, Msg{"action": "a", "n": 1})
		if err != nil {
			t.Fatal(err)
		}
		m := Msg{"stale": true}
		p := reflect.ValueOf(m).UnsafePointer()
		if err := c.Decode(b, &m); err != nil {
			t.Fatal(err)
		}
		if reflect.ValueOf(m).UnsafePointer() != p {
			t.Fatalf("%s: Decode replaced the map", c.Name())
		}
		if !equalValues(m, Msg{"action": "a", "n": int64(1)}) {
			t.Fatalf("%s: got %v", c.Name(), m)
		}
		// map[string]any works the same.
		var mm map[string]any
		if err := c.Decode(b, &mm); err != nil || mm["n"] != int64(1) {
			t.Fatalf("%s: %v, %v", c.Name(), mm, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range codecs() {
		b, err := c.Append(nil, Msg{"action": "a", "list": []any{1}})
		if err != nil {
			t.Fatal(err)
		}
		var m Msg
		wantErr(t, c.Decode(b, m), ErrDecode)           // not a pointer
		wantErr(t, c.Decode(b, (*Msg)(nil)), ErrDecode) // nil pointer
		wantErr(t, c.Decode(b, (*any)(nil)), ErrDecode)
		wantErr(t, c.Decode(b, nil), ErrDecode)
		var wrong struct {
			List string `json:"list"`
		}
		wantErr(t, c.Decode(b, &wrong), ErrDecode)
	}
	// A top level that is not a map cannot go into a Msg.
	var m Msg
	wantErr(t, Default().Decode(mustHex(t, "91 01"), &m), ErrDecode)
	wantErr(t, JSON(Limits{}).Decode([]byte(`[1]`), &m), ErrDecode)
	// msgpack map keys must be strings to go into a Msg.
	wantErr(t, Default().Decode(mustHex(t, "81 01 02"), &m), ErrDecode)
	// nil decodes to a nil Msg.
	m = Msg{"x": 1}
	if err := Default().Decode(mustHex(t, "c0"), &m); err != nil || m != nil {
		t.Fatalf("nil: %v, %v", m, err)
	}
	m = Msg{"x": 1}
	if err := JSON(Limits{}).Decode([]byte("null"), &m); err != nil || m != nil {
		t.Fatalf("null: %v, %v", m, err)
	}
}

// TestDecodeRejectsDuplicateAction: Action reads the first "action", but
// msgpack and encoding/json keep the last; a message with two could route
// to one handler and carry another's action, so Decode refuses it.
func TestDecodeRejectsDuplicateAction(t *testing.T) {
	var m Msg
	var s actionFirst
	for _, in := range []string{
		"82 a6616374696f6e a161 a6616374696f6e a162",
		"82 a6616374696f6e a161 c406616374696f6e a162", // second key is bin
	} {
		b := mustHex(t, in)
		if a, err := ActionBytes(b); err != nil || string(a) != "a" {
			t.Fatalf("ActionBytes = %q, %v", a, err)
		}
		wantErr(t, Default().Decode(b, &m), ErrBadAction)
		wantErr(t, Default().Decode(b, &s), ErrBadAction)
	}
	for _, in := range []string{
		`{"action":"a","action":"b"}`,
		`{"action":"a","ACTION":"b"}`,
		`{"action":"a","\u0041ction":"b"}`,
	} {
		wantErr(t, JSON(Limits{}).Decode([]byte(in), &m), ErrBadAction)
		wantErr(t, JSON(Limits{}).Decode([]byte(in), &s), ErrBadAction)
		_, err := JSON(Limits{}).Action([]byte(in))
		wantErr(t, err, ErrBadAction)
	}
}

func TestMsgAction(t *testing.T) {
	if a := (Msg{"action": "x"}).Action(); a != "x" {
		t.Fatalf("Action = %q", a)
	}
	for _, m := range []Msg{nil, {}, {"action": 1}, {"Action": "x"}} {
		if a := m.Action(); a != "" {
			t.Fatalf("%v.Action() = %q, want empty", m, a)
		}
	}
}

// TestDecodeStructAllocs: decoding a typed message of numbers allocates
// nothing, and its action field (an interned string) nothing either.
func TestDecodeStructAllocs(t *testing.T) {
	skipAllocsUnderRace(t)
	c := Default()
	b, err := c.Append(nil, &move{X: 1.5, Y: -2, Action: "move", Tick: 1 << 20, Flags: 3})
	if err != nil {
		t.Fatal(err)
	}
	var nums moveNumbers
	if n := testing.AllocsPerRun(1000, func() {
		if err := c.Decode(b, &nums); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("decoding into a struct of numbers: %v allocations, want 0", n)
	}
	if nums != (moveNumbers{X: 1.5, Y: -2, Tick: 1 << 20, Flags: 3}) {
		t.Fatalf("decoded %+v", nums)
	}
	var mv move
	if n := testing.AllocsPerRun(1000, func() {
		if err := c.Decode(b, &mv); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("decoding into move: %v allocations, want 0 (the action is interned)", n)
	}
	if mv != (move{X: 1.5, Y: -2, Action: "move", Tick: 1 << 20, Flags: 3}) {
		t.Fatalf("decoded %+v", mv)
	}
}

func TestAppendStructAllocs(t *testing.T) {
	skipAllocsUnderRace(t)
	c := Default()
	mv := move{X: 1.5, Y: -2, Action: "move", Tick: 1 << 20, Flags: 3}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(1000, func() {
		var err error
		if buf, err = c.Append(buf[:0], &mv); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Append(*move): %v allocations, want 0", n)
	}
}

// TestMsgpackInteroperates: what Append writes, msgpack itself reads, and
// the codec reads what msgpack writes.
func TestMsgpackInteroperates(t *testing.T) {
	b, err := Default().Append(nil, richValue())
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(b, Limits{}); err != nil {
		t.Fatal(err)
	}
	var viaLib rich
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	dec.SetCustomStructTag("json")
	if err := dec.Decode(&viaLib); err != nil {
		t.Fatal(err)
	}
	viaLib.When = viaLib.When.UTC()
	if !reflect.DeepEqual(viaLib, richValue()) {
		t.Fatalf("msgpack read %+v", viaLib)
	}
	raw, err := msgpack.Marshal(map[string]any{"action": "lib", "n": int8(-3), "u": uint16(300), "f": float32(0.5)})
	if err != nil {
		t.Fatal(err)
	}
	var m Msg
	if err := Default().Decode(raw, &m); err != nil {
		t.Fatal(err)
	}
	if !equalValues(m, Msg{"action": "lib", "n": int64(-3), "u": int64(300), "f": 0.5}) {
		t.Fatalf("got %#v", m)
	}
}

func TestCodecNames(t *testing.T) {
	if Default().Name() != "msgpack" || Msgpack(Limits{}).Name() != "msgpack" || JSON(Limits{}).Name() != "json" {
		t.Fatal("wrong names")
	}
	if DefaultLimits != (Limits{}).withDefaults() {
		t.Fatalf("DefaultLimits %+v differ from the zero Limits' defaults %+v", DefaultLimits, (Limits{}).withDefaults())
	}
	if (Limits{MaxSize: -1, MaxDepth: -1, MaxElements: -1}).withDefaults() != DefaultLimits {
		t.Fatal("negative limits do not mean the defaults")
	}
	if !errors.Is(Default().Decode(nil, new(Msg)), ErrTruncated) {
		t.Fatal("empty input")
	}
}

// TestDecodeIntoAnyHoldingPointer: an *any that holds a pointer is decoded
// through, as encoding/json's Unmarshal does.
func TestDecodeIntoAnyHoldingPointer(t *testing.T) {
	for _, c := range codecs() {
		b, err := c.Append(nil, &move{Action: "m", X: 2})
		if err != nil {
			t.Fatal(err)
		}
		mv := &move{}
		var a any = mv
		if err := c.Decode(b, &a); err != nil {
			t.Fatal(err)
		}
		if a != any(mv) || mv.X != 2 || mv.Action != "m" {
			t.Fatalf("%s: a = %#v, mv = %+v", c.Name(), a, mv)
		}
	}
}

// TestConcurrentUse runs one codec from several goroutines (meaningful
// under -race).
func TestConcurrentUse(t *testing.T) {
	for _, c := range codecs() {
		done := make(chan error)
		for g := range 4 {
			go func() {
				var err error
				defer func() { done <- err }()
				buf := make([]byte, 0, 64)
				for i := range 200 {
					in := move{Action: "m", Tick: uint32(g*1000 + i)}
					if buf, err = c.Append(buf[:0], &in); err != nil {
						return
					}
					var out move
					if err = c.Decode(buf, &out); err != nil {
						return
					}
					if out != in {
						err = errors.New("mismatch")
						return
					}
					var m Msg
					if err = c.Decode(buf, &m); err != nil {
						return
					}
				}
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatalf("%s: %v", c.Name(), err)
			}
		}
	}
}
