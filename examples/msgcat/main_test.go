package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pumpnet/pumpnet/codec"
)

func TestJSONRoundTrip(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-json", `{"text":"hi","action":"chat","n":3}`}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	// "action" is encoded first: fixmap of 3, then the key "action".
	if !strings.Contains(s, "msgpack (") || !strings.Contains(s, ": 83 a6 61 63 74 69 6f 6e a4 63 68 61 74") {
		t.Fatalf("action not first in the encoding:\n%s", s)
	}
	if !strings.Contains(s, `"action":"chat"`) || !strings.Contains(s, `"text":"hi"`) || !strings.Contains(s, `"n":3`) {
		t.Fatalf("decoded JSON lost fields:\n%s", s)
	}
}

func TestHostileHexIsAnError(t *testing.T) {
	for _, in := range []string{"dd ff ff ff ff", "df ff ff ff ff"} {
		var out bytes.Buffer
		err := run([]string{"-hex", in}, nil, &out, &out)
		if err == nil || !errors.Is(err, codec.ErrLength) {
			t.Fatalf("%s: %v", in, err)
		}
	}
}

func TestStdinLines(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("{\"action\":\"a\"}\nnot json\n{\"action\":\"b\"}\n")
	if err := run(nil, in, &out, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Count(s, "decoded (action") != 2 || !strings.Contains(s, "error:") {
		t.Fatalf("output:\n%s", s)
	}
}

// TestJSONErrorsSayWhatAMessageIs: input that is not a message gets an
// error that says what a message must look like, in the user's terms
// (not "JSON at offset 0 is not null" or "cannot decode a JSON
// []interface {} into a Msg").
func TestJSONErrorsSayWhatAMessageIs(t *testing.T) {
	for in, want := range map[string]string{
		"not json":          "not JSON",
		"[1,2]":             "got an array",
		`"x"`:               "got a string",
		"3":                 "got a number",
		"null":              "got null",
		`{"text":"hi"}`:     `no "action" key`,
		`{"action":5}`:      "not a string",
		`{"action":"a"} {}`: "not JSON",
	} {
		var out bytes.Buffer
		err := run([]string{"-json", in}, nil, &out, &out)
		if err == nil {
			t.Errorf("%s: accepted", in)
			continue
		}
		s := err.Error()
		if !strings.Contains(s, want) || !strings.Contains(s, `a message is a JSON object with a string "action"`) ||
			strings.Contains(s, "interface {}") || strings.Contains(s, "is not null") {
			t.Errorf("%s: %q (want %q and what a message is)", in, s, want)
		}
	}
}
