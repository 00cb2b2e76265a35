package codec

import (
	"errors"
	"testing"
)

// guess is a message type as a newcomer writes it: no tags at all.
type guess struct {
	Action string
	Number int
}

// TestUntaggedActionField: a struct whose Action field has no tag is a
// message (its action travels as "action"), for both codecs, and decoding
// fills the field back.
func TestUntaggedActionField(t *testing.T) {
	for _, c := range []Codec{Default(), JSON(Limits{})} {
		t.Run(c.Name(), func(t *testing.T) {
			b, err := c.Append(nil, guess{Action: "guess", Number: 7})
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			act, err := c.Action(b)
			if err != nil || act != "guess" {
				t.Fatalf("Action = %q, %v; want guess", act, err)
			}
			var m Msg
			if err := c.Decode(b, &m); err != nil {
				t.Fatal(err)
			}
			if m.Action() != "guess" || m["Action"] != nil {
				t.Errorf("as a map: %v; want the action under %q only", m, ActionKey)
			}
			var g guess
			if err := c.Decode(b, &g); err != nil {
				t.Fatal(err)
			}
			if g != (guess{Action: "guess", Number: 7}) {
				t.Errorf("decoded %+v", g)
			}
			// A pointer works too, and an empty action is still refused.
			if _, err := c.Append(nil, &guess{Action: "guess"}); err != nil {
				t.Errorf("pointer: %v", err)
			}
			if _, err := c.Append(nil, guess{}); !errors.Is(err, ErrBadAction) {
				t.Errorf("empty action: %v, want ErrBadAction", err)
			}
		})
	}
}

// TestUntaggedActionNotGuessed: only a string field named exactly Action
// and left untagged stands for the action; a map's "Action" key, a field
// tagged with another name, or a struct that also has an "action" field
// are not rewritten.
func TestUntaggedActionNotGuessed(t *testing.T) {
	type renamed struct {
		Action string `json:"kind"`
	}
	type both struct {
		Action string
		Act    string `msgpack:"action" json:"action"`
	}
	type number struct{ Action int }
	for _, c := range []Codec{Default(), JSON(Limits{})} {
		for _, v := range []any{Msg{"Action": "x"}, renamed{"x"}, number{1}} {
			if _, err := c.Append(nil, v); !errors.Is(err, ErrNoAction) {
				t.Errorf("%s: %T: err %v, want ErrNoAction", c.Name(), v, err)
			}
		}
		b, err := c.Append(nil, both{Action: "outer", Act: "inner"})
		if c.Name() == "json" {
			// encoding/json matches keys ignoring case: two keys that
			// fold to "action" are ambiguous, and refused as before.
			if !errors.Is(err, ErrBadAction) {
				t.Errorf("json: both: err %v, want ErrBadAction", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		if a, _ := c.Action(b); a != "inner" {
			t.Errorf("%s: action %q, want the tagged field's", c.Name(), a)
		}
	}
}
