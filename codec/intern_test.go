package codec

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// wide has more than 15 fields: its messages use a map 16 header.
type wide struct {
	A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P int
	Action                                         string `msgpack:"action"`
	Q                                              []byte
}

// plain has an untagged Action field.
type plain struct {
	Action string
	N      int
}

// The action entry cut out of the message before msgpack decodes the rest
// (intern.go): every header form, tagged and untagged action fields, the
// action anywhere in the map; the result is what decoding the whole
// message gives.
func TestSplicedDecodeMatchesWholeDecode(t *testing.T) {
	c := Default()
	w := wide{A: 1, H: 8, P: 16, Action: "wide one", Q: []byte{1, 2, 3}}
	cases := []struct {
		name string
		in   any
		into func() any
	}{
		{"fixmap", &move{X: 1, Action: "m", Tick: 9}, func() any { return new(move) }},
		{"map16", &w, func() any { return new(wide) }},
		{"untagged", &plain{Action: "guess", N: 4}, func() any { return new(plain) }},
		{"Msg into struct", Msg{"n": int64(3), "action": "mid", "x": 1.5}, func() any { return new(move) }},
	}
	for _, tc := range cases {
		b, err := c.Append(nil, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := tc.into()
		if err := c.Decode(b, got); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if reflect.ValueOf(got).Elem().FieldByName("Action").String() == "" {
			t.Errorf("%s: no action in %+v", tc.name, got)
		}
		want := tc.into()
		if err := msgpack.Unmarshal(b, want); err != nil {
			t.Fatalf("%s: msgpack: %v", tc.name, err)
		}
		// msgpack alone does not fill an untagged Action from "action".
		if p, ok := want.(*plain); ok {
			p.Action = "guess"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v, msgpack decodes %+v", tc.name, got, want)
		}
	}
}

// The intern table is bounded: names past it still decode, and a name in
// use is interned again after a flood of others.
func TestInternTableBounded(t *testing.T) {
	c := Default()
	for i := range maxInterned + 100 {
		name := fmt.Sprintf("action-%d", i)
		b, err := c.Append(nil, &move{Action: name, Tick: uint32(i)})
		if err != nil {
			t.Fatal(err)
		}
		var m move
		if err := c.Decode(b, &m); err != nil || m.Action != name || m.Tick != uint32(i) {
			t.Fatalf("%s: %+v, %v", name, m, err)
		}
	}
	interned.RLock()
	n := len(interned.m)
	interned.RUnlock()
	if n > maxInterned {
		t.Fatalf("intern table holds %d names, bound %d", n, maxInterned)
	}
	b, _ := c.Append(nil, &move{Action: "steady"})
	var m move
	if n := testing.AllocsPerRun(100, func() { c.Decode(b, &m) }); n != 0 && !raceEnabled {
		t.Errorf("after the flood: %v allocations decoding a message whose name is in use, want 0", n)
	}
}

// Decoders and their scratch buffers are shared through a pool: decoding
// on many goroutines at once never mixes messages.
func TestSplicedDecodeConcurrent(t *testing.T) {
	c := Default()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				want := move{X: float32(g), Action: fmt.Sprint("a", g%3), Tick: uint32(i), Flags: uint8(g)}
				b, err := c.Append(nil, &want)
				if err != nil {
					t.Error(err)
					return
				}
				var got move
				if err := c.Decode(b, &got); err != nil || got != want {
					t.Errorf("goroutine %d: decoded %+v, %v; want %+v", g, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzSplicedDecode: for any valid message, decoding into a struct with an
// action field gives what msgpack gives decoding the whole message, and
// the action the envelope reads.
func FuzzSplicedDecode(f *testing.F) {
	c := Default()
	for _, v := range []any{&move{X: 1, Action: "m"}, &wide{Action: "w", P: 2}, Msg{"action": "x", "Tick": int64(1)}} {
		b, _ := c.Append(nil, v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got move
		if err := c.Decode(b, &got); err != nil {
			return
		}
		act, aerr := c.Action(b)
		var want move
		if err := msgpack.Unmarshal(b, &want); err != nil {
			return // msgpack alone may refuse what the codec canonicalises
		}
		if aerr == nil {
			want.Action = act
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) { // NaN != NaN
			t.Fatalf("decoded %+v, msgpack decodes %+v (action %q)", got, want, act)
		}
	})
}
