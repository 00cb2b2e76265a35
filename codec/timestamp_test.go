package codec

import (
	"bytes"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// riskyNanos makes a 64-bit timestamp whose payload starts with 0xde.
const riskyNanos = 0xde<<22 + 12345

// TestMsgpackMisreadsTimestampAsMap shows the msgpack quirk that the
// validator guards against, on an input small enough to be harmless: a
// valid timestamp decoded into a map becomes the map {"a": 1}.
func TestMsgpackMisreadsTimestampAsMap(t *testing.T) {
	ts := mustHex(t, "d7 ff de0001 a161 01 0000") // map16 of 1 entry: "a": 1
	var tm time.Time
	if err := msgpack.Unmarshal(ts, &tm); err != nil {
		t.Fatalf("not a valid timestamp: %v", err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(ts, &m); err != nil || len(m) != 1 {
		t.Fatalf("msgpack no longer misreads timestamps as maps (%v, %v): revisit timestamp.go", m, err)
	}
	wantErr(t, Validate(ts, Limits{}), ErrInvalid)
	// Decode accepts it as the time it is, and refuses to see a map in it.
	if err := Default().Decode(ts, &tm); err != nil {
		t.Fatal(err)
	}
	var m2 map[string]any
	wantErr(t, Default().Decode(ts, &m2), ErrDecode)
}

func TestRiskyTimestampsDecode(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		want      time.Time
	}{
		{"timestamp64 starting 0xde", "d7 ff de00000400000001", time.Unix(1, 0xde000004>>2)},
		{"timestamp64 starting 0xdf", "d7 ff df00000000000002", time.Unix(2, 0xdf000000>>2)},
		{"timestamp32 after 2088", "d6 ff de000001", time.Unix(0xde000001, 0)},
		{"timestamp32 0xdf", "d6 ff dfffffff", time.Unix(0xdfffffff, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := mustHex(t, tc.hex)
			wantErr(t, Validate(data, Limits{}), ErrInvalid)
			var got time.Time
			if err := Default().Decode(data, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			var a any
			if err := Default().Decode(data, &a); err != nil || !equalValues(a, tc.want) {
				t.Fatalf("into any: %v, %v", a, err)
			}
			// Several in one message, nested.
			msg := append(mustHex(t, "82 a6616374696f6e a178 a174 93"), data...)
			msg = append(append(append(msg, 0x91), data...), data...)
			var m Msg
			if err := Default().Decode(msg, &m); err != nil {
				t.Fatal(err)
			}
			l := m["t"].([]any)
			if !equalValues(l[0], tc.want) || !equalValues(l[1].([]any)[0], tc.want) || !equalValues(l[2], tc.want) {
				t.Fatalf("got %v", l)
			}
		})
	}
}

// TestAppendRewritesRiskyTimestamps: msgpack encodes such times in the
// 64-bit form; Append rewrites them so that its output passes Validate.
func TestAppendRewritesRiskyTimestamps(t *testing.T) {
	when := time.Unix(1700000000, riskyNanos)
	raw, err := msgpack.Marshal(when)
	if err != nil || raw[0] != 0xd7 || raw[2] != 0xde {
		t.Fatalf("msgpack encodes %v as % x: the test needs a risky timestamp", when, raw)
	}
	type at struct {
		Action string    `msgpack:"action"`
		When   time.Time `msgpack:"when"`
		List   []any     `msgpack:"list"`
	}
	for _, v := range []any{
		Msg{"action": "t", "when": when, "list": []any{when, "x", when}},
		at{Action: "t", When: when, List: []any{when}},
	} {
		b, err := Default().Append([]byte("pre"), v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("pre")) {
			t.Fatalf("lost the prefix: %q", b)
		}
		b = b[3:]
		if err := Validate(b, Limits{}); err != nil {
			t.Fatalf("Append's output fails Validate: %v\n% x", err, b)
		}
		if !bytes.Contains(b, appendTimestamp96(nil, 1700000000, riskyNanos)) {
			t.Fatalf("no 12-byte timestamp in % x", b)
		}
		var back at
		if err := Default().Decode(b, &back); err != nil || !back.When.Equal(when) || !equalValues(back.List[0], when) {
			t.Fatalf("decoded %+v, %v", back, err)
		}
	}
}

func TestCanonicalTimesKeepsOtherBytes(t *testing.T) {
	in := mustHex(t, "94 01 d7 ff de00000400000001 a3 616263 d6 ff 00000001")
	out, err := canonicalTimes([]byte("x"), in, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte("x"), mustHex(t, "94 01 c7 0c ff 37800001 0000000000000001 a3 616263 d6 ff 00000001")...)
	if !bytes.Equal(out, want) {
		t.Fatalf("got  % x\nwant % x", out, want)
	}
}
