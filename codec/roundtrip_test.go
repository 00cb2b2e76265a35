package codec

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// TestRoundTripMsgValues sends every supported Go type through both codecs
// inside a Msg and checks the Go type and value it comes back as (the
// package documentation's table).
func TestRoundTripMsgValues(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	same := func(v any) [2]any { return [2]any{v, v} }
	for _, tc := range []struct {
		name string
		in   any
		want [2]any // msgpack, json
	}{
		{"nil", nil, same(nil)},
		{"true", true, same(true)},
		{"false", false, same(false)},
		{"int8 min", int8(math.MinInt8), same(int64(math.MinInt8))},
		{"int8 max", int8(math.MaxInt8), same(int64(math.MaxInt8))},
		{"int16 min", int16(math.MinInt16), same(int64(math.MinInt16))},
		{"int16 max", int16(math.MaxInt16), same(int64(math.MaxInt16))},
		{"int32 min", int32(math.MinInt32), same(int64(math.MinInt32))},
		{"int32 max", int32(math.MaxInt32), same(int64(math.MaxInt32))},
		{"int64 min", int64(math.MinInt64), same(int64(math.MinInt64))},
		{"int64 max", int64(math.MaxInt64), same(int64(math.MaxInt64))},
		{"int", -42, same(int64(-42))},
		{"zero", 0, same(int64(0))},
		{"uint8 max", uint8(math.MaxUint8), same(int64(math.MaxUint8))},
		{"uint16 max", uint16(math.MaxUint16), same(int64(math.MaxUint16))},
		{"uint32 max", uint32(math.MaxUint32), same(int64(math.MaxUint32))},
		{"uint64 max int64", uint64(math.MaxInt64), same(int64(math.MaxInt64))},
		{"uint64 above int64", uint64(math.MaxInt64) + 1, same(uint64(math.MaxInt64) + 1)},
		{"uint64 max", uint64(math.MaxUint64), same(uint64(math.MaxUint64))},
		{"uint", uint(7), same(int64(7))},
		{"float32", float32(1.5), same(1.5)},
		{"float32 inexact", float32(0.1), [2]any{float64(float32(0.1)), 0.1}},
		{"float32 integral", float32(2), [2]any{2.0, int64(2)}},
		{"float32 max", float32(math.MaxFloat32), [2]any{float64(math.MaxFloat32), 3.4028235e38}}, // JSON writes float32s in their shortest form
		{"float64", -0.125, same(-0.125)},
		{"float64 integral", 3.0, [2]any{3.0, int64(3)}},
		{"float64 max", math.MaxFloat64, same(math.MaxFloat64)},
		{"float64 smallest", math.SmallestNonzeroFloat64, same(math.SmallestNonzeroFloat64)},
		{"empty string", "", same("")},
		{"string", "hello", same("hello")},
		{"unicode", "héllo, 世界 🎮 \u2028 <&>", same("héllo, 世界 🎮 \u2028 <&>")},
		{"empty bytes", []byte{}, [2]any{[]byte{}, ""}},
		{"bytes", []byte{0, 1, 0xff}, [2]any{[]byte{0, 1, 0xff}, "AAH/"}},
		{"nil bytes", []byte(nil), same(nil)},
		{"empty array", []any{}, same([]any{})},
		{"array", []any{1, "x", nil, true, []any{2.5}}, same([]any{int64(1), "x", nil, true, []any{2.5}})},
		{"int slice", []int{1, -2}, same([]any{int64(1), int64(-2)})},
		{"string slice", []string{"a", "b"}, same([]any{"a", "b"})},
		{"empty map", map[string]any{}, same(map[string]any{})},
		{"map", map[string]any{"a": 1, "b": map[string]any{"c": []any{}}}, same(map[string]any{"a": int64(1), "b": map[string]any{"c": []any{}}})},
		{"map of ints", map[string]int{"x": 1}, same(map[string]any{"x": int64(1)})},
		{"nested Msg", Msg{"k": "v"}, same(map[string]any{"k": "v"})},
		{"time", when, [2]any{when, "2024-05-06T07:08:09.123456789Z"}},
		{"time before 1970", time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), [2]any{time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), "1900-01-01T00:00:00.000000001Z"}},
	} {
		for i, c := range codecs() {
			t.Run(tc.name+"/"+c.Name(), func(t *testing.T) {
				b, err := c.Append(nil, Msg{"action": "v", "v": tc.in})
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				var m Msg
				if err := c.Decode(b, &m); err != nil {
					t.Fatalf("Decode(%q): %v", b, err)
				}
				got, ok := m["v"]
				if !ok {
					t.Fatalf("decoded %v has no v", m)
				}
				if !equalValues(got, tc.want[i]) {
					t.Fatalf("decoded %#v (%T), want %#v (%T)", got, got, tc.want[i], tc.want[i])
				}
				if m.Action() != "v" {
					t.Fatalf("action %q", m.Action())
				}
				// Decoding into *any gives the same, inside a map[string]any.
				var a any
				if err := c.Decode(b, &a); err != nil {
					t.Fatalf("Decode into any: %v", err)
				}
				am, ok := a.(map[string]any)
				if !ok || !equalValues(am["v"], tc.want[i]) {
					t.Fatalf("decoded into any %#v", a)
				}
			})
		}
	}
}

type point struct {
	X, Y int16
}

type inner struct {
	Name  string
	Tags  []string
	Score float64
}

// rich is a typed message with every kind of field.
type rich struct {
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	I      int
	U8     uint8
	U16    uint16
	U32    uint32
	U64    uint64
	U      uint
	F32    float32
	F64    float64
	B      bool
	S      string
	Bytes  []byte
	Action string `msgpack:"action" json:"action"`
	When   time.Time
	Pos    point
	Ptr    *point
	Nil    *point
	Path   []point
	Grid   [2][2]uint8
	Inner  inner
	Scores map[string]int32
	Named  map[string]inner
	Extra  any
	Omit   string `msgpack:",omitempty" json:",omitempty"`
	Skip   string `msgpack:"-" json:"-"`
}

func richValue() rich {
	return rich{
		I8: math.MinInt8, I16: math.MinInt16, I32: math.MinInt32, I64: math.MinInt64, I: math.MaxInt64,
		U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64, U: 1,
		F32: -1.25, F64: math.MaxFloat64, B: true, S: "héllo 🎮", Bytes: []byte{0, 1, 2},
		Action: "rich",
		When:   time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC),
		Pos:    point{-1, 2}, Ptr: &point{3, 4},
		Path:   []point{{1, 1}, {2, 2}},
		Grid:   [2][2]uint8{{1, 2}, {3, 4}},
		Inner:  inner{Name: "in", Tags: []string{"a", ""}, Score: 0.5},
		Scores: map[string]int32{"ann": -3, "bob": 4},
		Named:  map[string]inner{"x": {Name: "x"}},
		Extra:  "any",
	}
}

func TestRoundTripStruct(t *testing.T) {
	for _, c := range codecs() {
		t.Run(c.Name(), func(t *testing.T) {
			in := richValue()
			in.Skip = "not sent"
			b, err := c.Append(nil, &in)
			if err != nil {
				t.Fatal(err)
			}
			var out rich
			if err := c.Decode(b, &out); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			out.When = out.When.UTC()
			want := richValue()
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("round trip\n got %+v\nwant %+v", out, want)
			}
			// By value, too. (Not compared byte for byte: msgpack writes
			// typed maps such as Scores in Go's random map order.)
			b2, err := c.Append(nil, in)
			if err != nil {
				t.Fatal(err)
			}
			var out2 rich
			if err := c.Decode(b2, &out2); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			out2.When = out2.When.UTC()
			if !reflect.DeepEqual(out2, want) {
				t.Fatalf("round trip by value\n got %+v\nwant %+v", out2, want)
			}
		})
	}
}

// TestCodecsAgree decodes each codec's encoding of the same typed message
// into a Msg: apart from the documented differences (bytes, times, floats)
// the two agree.
func TestCodecsAgree(t *testing.T) {
	type msg struct {
		Action string `msgpack:"action" json:"action"`
		N      int64
		U      uint64
		F      float64
		S      string
		L      []int
		M      map[string]bool
	}
	in := msg{Action: "agree", N: -9, U: math.MaxUint64, F: 0.75, S: "ü", L: []int{1, 2}, M: map[string]bool{"t": true}}
	var got [2]Msg
	for i, c := range codecs() {
		b, err := c.Append(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Decode(b, &got[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !equalValues(got[0], got[1]) {
		t.Fatalf("msgpack gave %#v\njson gave %#v", got[0], got[1])
	}
}
