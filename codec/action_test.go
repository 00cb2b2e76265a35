package codec

import (
	"errors"
	"testing"
	"unsafe"
)

func TestActionBytes(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		want      string
		err       error
	}{
		{"first", "82 a6616374696f6e a46d6f7665 a178 01", "move", nil},
		{"after other values", "83 a178 92 01 81 a16b c3 a179 c4 02 0102 a6616374696f6e a3676f21", "go!", nil},
		{"str8 action", "81 a6616374696f6e d9 03 616263", "abc", nil},
		{"map16", "de 0001 a6616374696f6e a178", "x", nil},
		{"rest unchecked", "82 a6616374696f6e a178 a179", "x", nil}, // value of "y" missing: Decode's job
		{"not a map", "92 01 02", "", ErrNoAction},
		{"nil", "c0", "", ErrNoAction},
		{"empty map", "80", "", ErrNoAction},
		{"no action", "81 a178 01", "", ErrNoAction},
		{"Action is not action", "81 a6416374696f6e a178", "", ErrNoAction},
		{"bin key does not count", "81 c406616374696f6e a178", "", ErrNoAction},
		{"action int", "81 a6616374696f6e 01", "", ErrBadAction},
		{"action bin", "81 a6616374696f6e c4 01 78", "", ErrBadAction},
		{"action nil", "81 a6616374696f6e c0", "", ErrBadAction},
		{"action empty", "81 a6616374696f6e a0", "", ErrBadAction},
		{"action truncated", "81 a6616374696f6e a5 6162", "", ErrLength},
		{"hostile value before action", "82 a178 dd ffffffff a6616374696f6e a178", "", ErrLength},
		{"hostile map", "df ffffffff", "", ErrLength},
		{"empty", "", "", ErrTruncated},
		{"reserved", "81 c1 01", "", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := mustHex(t, tc.hex)
			got, err := ActionBytes(data)
			if tc.err != nil {
				wantErr(t, err, tc.err)
				_, err = Default().Action(data)
				wantErr(t, err, tc.err)
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("ActionBytes = %q, %v; want %q", got, err, tc.want)
			}
			// The result aliases the input.
			start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
			p := uintptr(unsafe.Pointer(unsafe.SliceData(got)))
			if p < start || p >= start+uintptr(len(data)) {
				t.Fatal("ActionBytes copied the action")
			}
			if a, err := Default().Action(data); err != nil || a != tc.want {
				t.Fatalf("Action = %q, %v", a, err)
			}
		})
	}
}

func TestActionBytesErrorMessages(t *testing.T) {
	for hex, want := range map[string]string{
		"92 01 02":             "codec: message is a msgpack array, not a map",
		"81 a178 01":           `codec: message has no "action" key`,
		"81 a6616374696f6e 01": "codec: action is a msgpack int, not a string",
		"81 a6616374696f6e a0": "codec: action is empty",
	} {
		_, err := ActionBytes(mustHex(t, hex))
		if err == nil || err.Error() != want {
			t.Errorf("ActionBytes(%s) = %v, want %q", hex, err, want)
		}
	}
}

func TestActionLimits(t *testing.T) {
	// The codec's Action applies its limits to what it skips; ActionBytes
	// only bounds the depth.
	data := append([]byte{0x82, 0xa1, 'x'}, nilArray(70000)...)
	data = append(data, mustHex(t, "a6616374696f6e a178")...)
	if a, err := ActionBytes(data); err != nil || string(a) != "x" {
		t.Fatalf("ActionBytes = %q, %v", a, err)
	}
	_, err := Default().Action(data)
	wantErr(t, err, ErrTooManyElements)
	_, err = Msgpack(Limits{MaxSize: 100}).Action(data)
	wantErr(t, err, ErrTooLarge)
	deep := append([]byte{0x82, 0xa1, 'x'}, nested(MaxDepthLimit+5, 0x91)...)
	deep = append(deep, mustHex(t, "a6616374696f6e a178")...)
	_, err = ActionBytes(deep)
	wantErr(t, err, ErrTooDeep)
}

// TestActionTruncated cuts encoded messages at every byte: no panic, an
// error until the action is complete, and the right action after.
func TestActionTruncated(t *testing.T) {
	for _, c := range codecs() {
		full, err := c.Append(nil, sampleMsg())
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for k := range len(full) {
			// JSON's Action walks the whole message; msgpack's stops at the
			// action (header, key, "sample": 15 bytes) but checks the
			// top-level map's declared length first.
			a, err := c.Action(full[:k])
			if (c.Name() == "json" || k < 1+7+7) && err == nil {
				t.Fatalf("%s: Action(%q) = %q, want an error", c.Name(), full[:k], a)
			}
			if err == nil && a != "sample" {
				t.Fatalf("%s: Action(%q) = %q", c.Name(), full[:k], a)
			}
			if err == nil {
				ok++
			}
			if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrLength) {
				t.Fatalf("%s: Action(%q): %v", c.Name(), full[:k], err)
			}
		}
		if c.Name() == "msgpack" && ok < len(full)-30 {
			t.Fatalf("msgpack: Action found the action in only %d of %d prefixes", ok, len(full))
		}
	}
}

func TestActionBytesAllocatesNothing(t *testing.T) {
	skipAllocsUnderRace(t)
	b, err := Default().Append(nil, Msg{"zzz": []any{1, 2, 3}, "action": "move", "a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	// Put the action last, so ActionBytes has to skip values.
	late := mustHex(t, "83 a161 a162 a3 7a7a7a 93 01 02 03 a6616374696f6e a46d6f7665")
	handlers := map[string]int{"move": 1}
	for _, data := range [][]byte{b, late} {
		if n := testing.AllocsPerRun(1000, func() {
			a, err := ActionBytes(data)
			if err != nil || handlers[string(a)] != 1 {
				t.Fatalf("%q, %v", a, err)
			}
		}); n != 0 {
			t.Fatalf("ActionBytes + map lookup: %v allocations, want 0", n)
		}
	}
}

func TestRotateRight(t *testing.T) {
	for _, tc := range []struct {
		in   string
		k    int
		want string
	}{
		{"abcdef", 2, "efabcd"},
		{"abcdef", 0, "abcdef"},
		{"abcdef", 6, "abcdef"},
		{"abcdef", 5, "bcdefa"},
		{"", 1, ""},
	} {
		b := []byte(tc.in)
		rotateRight(b, tc.k)
		if string(b) != tc.want {
			t.Errorf("rotateRight(%q, %d) = %q, want %q", tc.in, tc.k, b, tc.want)
		}
	}
}

func TestJSONAction(t *testing.T) {
	c := JSON(Limits{})
	for _, tc := range []struct {
		in   string
		want string
		err  error
	}{
		{`{"action":"move","x":1}`, "move", nil},
		{` { "x" : [1, {"action": "no"}] , "action" : "late" } `, "late", nil},
		{`{"\u0061ction":"esc"}`, "esc", nil},
		{`{"action":"\u00e9t\u00e9"}`, "été", nil},
		{`{"action":"été"}`, "été", nil},
		{`{"action":"a\"b"}`, `a"b`, nil},
		{`[1]`, "", ErrNoAction},
		{`{}`, "", ErrNoAction},
		{`{"Action":"x"}`, "", ErrNoAction},
		{`{"action":1}`, "", ErrBadAction},
		{`{"action":null}`, "", ErrBadAction},
		{`{"action":""}`, "", ErrBadAction},
		{`{"action":"x"`, "", ErrTruncated},
		{`{"action":"x"} 1`, "", ErrInvalid},
		{``, "", ErrTruncated},
	} {
		a, err := c.Action([]byte(tc.in))
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Action(%s) = %q, %v; want %v", tc.in, a, err, tc.err)
			}
			continue
		}
		if err != nil || a != tc.want {
			t.Errorf("Action(%s) = %q, %v; want %q", tc.in, a, err, tc.want)
		}
	}
}
