package codec

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

var validJSON = []string{
	`null`, `true`, `false`, `0`, `-1.5e+10`, `"s"`, `""`, `"\"\\\/\b\f\n\r\t\u00e9"`,
	`[]`, `{}`, `[1,"a",null,[{}]]`, ` { "a" : [ 1 , 2 ] , "b" : { } } `,
	`{"action":"move","x":1.5,"y":-2,"tick":7}`,
	"\t\r\n[\n1\n]\n",
	`{"é":"ü","🎮":[true]}`,
}

func TestValidateJSONAccepts(t *testing.T) {
	for _, in := range validJSON {
		if !json.Valid([]byte(in)) {
			t.Fatalf("test input %s is not JSON", in)
		}
		if err := ValidateJSON([]byte(in), Limits{}); err != nil {
			t.Errorf("ValidateJSON(%s) = %v", in, err)
		}
	}
}

func TestValidateJSONRejects(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
		msg  string
	}{
		{``, ErrTruncated, "codec: empty input"},
		{`   `, ErrTruncated, "codec: JSON input ends at offset 3 inside a value"},
		{`[1,2`, ErrTruncated, "codec: JSON input ends at offset 4 inside an array"},
		{`{"a":1`, ErrTruncated, "codec: JSON input ends at offset 6 inside an object"},
		{`{"a`, ErrTruncated, "codec: JSON input ends at offset 3 inside a string"},
		{`"\`, ErrTruncated, "codec: JSON input ends at offset 2 inside a string"},
		{`tr`, ErrTruncated, "codec: JSON input ends at offset 2 inside true"},
		{`[1]]`, ErrInvalid, "codec: 1 trailing bytes after the top-level JSON value"},
		{`{1:2}`, ErrInvalid, "codec: JSON byte '1' at offset 1, want a string key"},
		{`{"a" 1}`, ErrInvalid, "codec: JSON byte '1' at offset 5, want ':'"},
		{`[1 2]`, ErrInvalid, "codec: JSON byte '2' at offset 3, want ',' or ']'"},
		{`{"a":1 "b":2}`, ErrInvalid, "codec: JSON byte '\"' at offset 7, want ',' or '}'"},
		{`[,]`, ErrInvalid, "codec: JSON byte ',' at offset 1, want a value"},
		{"\xff", ErrInvalid, "codec: JSON byte 0xff at offset 0, want a value"},
		{`nul!`, ErrInvalid, "codec: JSON at offset 0 is not null"},
		{"\"a\nb\"", ErrInvalid, "codec: JSON control byte 0xa in string at offset 2"},
	} {
		err := ValidateJSON([]byte(tc.in), Limits{})
		wantErr(t, err, tc.want)
		if err.Error() != tc.msg {
			t.Errorf("ValidateJSON(%q) = %q, want %q", tc.in, err, tc.msg)
		}
	}
}

func TestValidateJSONLimits(t *testing.T) {
	wantErr(t, ValidateJSON([]byte(`[[[]]]`), Limits{MaxDepth: 2}), ErrTooDeep)
	if err := ValidateJSON([]byte(`[[]]`), Limits{MaxDepth: 2}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, ValidateJSON([]byte(`{"a":{"b":{}}}`), Limits{MaxDepth: 2}), ErrTooDeep)
	// Elements: array elements and object members, summed: 3 + 2 = 5.
	in := []byte(`{"a":[1,2],"b":3}`)
	wantErr(t, ValidateJSON(in, Limits{MaxElements: 3}), ErrTooManyElements)
	if err := ValidateJSON(in, Limits{MaxElements: 4}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, ValidateJSON([]byte(`"abcd"`), Limits{MaxSize: 5}), ErrTooLarge)
}

// TestValidateJSONTruncated: every proper prefix of a JSON object or array
// is rejected, without panicking.
func TestValidateJSONTruncated(t *testing.T) {
	full, err := JSON(Limits{}).Append(nil, sampleMsg())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range append([]string{string(full)}, validJSON[8:]...) {
		in = strings.TrimSpace(in)
		for k := range len(in) {
			err := ValidateJSON([]byte(in[:k]), Limits{})
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("ValidateJSON(%q) = %v, want ErrTruncated", in[:k], err)
			}
		}
	}
}

func TestValidateJSONAllocatesNothing(t *testing.T) {
	skipAllocsUnderRace(t)
	full, err := JSON(Limits{}).Append(nil, sampleMsg())
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := ValidateJSON(full, Limits{}); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("ValidateJSON allocates %v times, want 0", n)
	}
}

// spaced marshals itself with spaces, which encoding/json compacts: the
// action rotation relies on compact output.
type spaced struct{}

func (spaced) MarshalJSON() ([]byte, error) { return []byte(`{ "b" : [ 1 , 2 ] }`), nil }

func TestJSONAppendCompactsAndRotates(t *testing.T) {
	type withRaw struct {
		Raw    json.RawMessage
		S      spaced
		Action string `json:"action"`
	}
	b, err := JSON(Limits{}).Append([]byte("pre"), withRaw{Raw: json.RawMessage(`[ 1, { "x" : 2 } ]`), Action: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `pre{"action":"r","Raw":[1,{"x":2}],"S":{"b":[1,2]}}`; string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// No HTML escaping, keys sorted, action first.
	b, err = JSON(Limits{}).Append(nil, Msg{"z": "<&>", "action": "a", "b": 1})
	if err != nil || string(b) != `{"action":"a","b":1,"z":"<&>"}` {
		t.Fatalf("got %s, %v", b, err)
	}
}

func TestJSONNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"0", int64(0)},
		{"-0", int64(0)},
		{"-9223372036854775808", int64(math.MinInt64)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"9223372036854775808", uint64(math.MaxInt64) + 1},
		{"18446744073709551615", uint64(math.MaxUint64)},
		{"18446744073709551616", 18446744073709551616.0},
		{"-9223372036854775809", -9223372036854775809.0},
		{"1.0", 1.0},
		{"1e2", 100.0},
		{"2.5E-1", 0.25},
	} {
		var m Msg
		if err := JSON(Limits{}).Decode([]byte(`{"n":`+tc.in+`}`), &m); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if m["n"] != tc.want {
			t.Errorf("%s decoded as %#v (%T), want %#v (%T)", tc.in, m["n"], m["n"], tc.want, tc.want)
		}
	}
	var m Msg
	wantErr(t, JSON(Limits{}).Decode([]byte(`{"n":1e400}`), &m), ErrDecode)
}
