package dispatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/pumpnet/pumpnet/codec"
)

// peer is the synthetic peer type of the tests (the engine's *Channel).
type peer struct{ name string }

// Move is a typed message of five numbers (its wire form has an action
// too, which decoding into Move skips).
type Move struct {
	X     float32 `msgpack:"x" json:"x"`
	Y     float32 `msgpack:"y" json:"y"`
	Tick  uint32  `msgpack:"tick" json:"tick"`
	Speed float64 `msgpack:"speed" json:"speed"`
	Flags int32   `msgpack:"flags" json:"flags"`
}

// moveWire is what a sender encodes: a Move with its action.
type moveWire struct {
	Action string `msgpack:"action" json:"action"`
	Move
}

// Chat has reference-typed fields, to test what handlers share.
type Chat struct {
	Text string   `msgpack:"text"`
	Tags []string `msgpack:"tags"`
}

// namedMap is a map type with Msg's underlying type.
type namedMap map[string]any

var testMove = Move{X: 1.5, Y: -2, Tick: 70000, Speed: 0.25, Flags: -3}

// encode encodes v with the default codec.
func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := codec.Default().Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func moveBytes(t testing.TB, action string) []byte {
	return encode(t, &moveWire{Action: action, Move: testMove})
}

// wantMoveMsg checks that m is testMove decoded as a Msg.
func wantMoveMsg(t *testing.T, who string, m codec.Msg, action string) {
	t.Helper()
	want := codec.Msg{"action": action, "x": float64(1.5), "y": float64(-2), "tick": int64(70000), "speed": 0.25, "flags": int64(-3)}
	if len(m) != len(want) {
		t.Fatalf("%s got %v, want %v", who, m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("%s got %s=%#v, want %#v (message %v)", who, k, m[k], v, m)
		}
	}
}

// wantErr checks that err wraps want and has the package prefix, and that
// its text contains each of parts.
func wantErr(t *testing.T, err, want error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one wrapping %q", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not wrap %q", err, want)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "dispatch: ") {
			t.Fatalf("error line %q lacks the dispatch: prefix", line)
		}
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func skipAllocsUnderRace(t testing.TB) {
	t.Helper()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
}
