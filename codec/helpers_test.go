package codec

import (
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// move is the typical typed message of the tests and benchmarks. Action is
// deliberately not the first field: the codecs must still put it first.
type move struct {
	X      float32
	Y      float32
	Action string `msgpack:"action" json:"action"`
	Tick   uint32
	Flags  uint8
}

// moveNumbers has move's numeric fields only: decoding into it must not
// allocate at all.
type moveNumbers struct {
	X     float32
	Y     float32
	Tick  uint32
	Flags uint8
}

// mustHex decodes hex with optional spaces.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// codecs returns both codecs with default limits.
func codecs() []Codec { return []Codec{Msgpack(Limits{}), JSON(Limits{})} }

// wantErr fails unless err wraps want.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got error %q, want one wrapping %q", err, want)
	}
	if !strings.HasPrefix(err.Error(), "codec: ") {
		t.Fatalf("error %q lacks the codec: prefix", err)
	}
}

func skipAllocsUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
}

// sampleMsg is a message with a value of every kind the codecs carry.
func sampleMsg() Msg {
	return Msg{
		"action": "sample",
		"i":      int64(-5),
		"u":      uint64(math.MaxUint64),
		"f":      1.25,
		"s":      "héllo, 世界 🎮",
		"b":      []byte{1, 2, 3},
		"n":      nil,
		"t":      true,
		"a":      []any{int64(1), "x", []any{}},
		"m":      map[string]any{"k": int64(2), "deep": map[string]any{"z": false}},
		"when":   time.Unix(1700000000, 123456789),
	}
}

// equalValues compares decoded values like reflect.DeepEqual, except that
// times compare with time.Time.Equal (msgpack decodes them in time.Local).
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.Equal(bt)
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], bs[i]) {
				return false
			}
		}
		return true
	case Msg:
		return equalValues(map[string]any(a), b)
	case map[string]any:
		if bm, ok := b.(Msg); ok {
			b = map[string]any(bm)
		}
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) || (a == nil) != (bm == nil) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
