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
