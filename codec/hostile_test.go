package codec

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// IMPORTANT: the raw inputs here kill the process with an unrecoverable
// out-of-memory if they ever reach msgpack unvalidated. They go through
// Decode only, which validates first: the test passing is the proof.

type hostileTarget struct {
	A   []any
	M   map[string]any
	S   []int
	T   map[string]string
	B   []byte
	Str string
	Msg Msg
}

// destinations returns fresh pointers of every shape Decode serves.
func destinations() []any {
	return []any{
		new(Msg), new(any), new([]any), new(map[string]any), new(hostileTarget),
		new([]int), new(string), new(map[string]int), new([]byte), new(move),
	}
}

func TestHostileMsgpack(t *testing.T) {
	inMsg := func(hex string) []byte { // {"action":"x","a": <hex>}
		return append(mustHex(t, "82 a6616374696f6e a178 a161"), mustHex(t, hex)...)
	}
	mapBomb := append([]byte{0xdf, 0, 7, 0xa1, 0x20}, bytes.Repeat([]byte{0x01, 0xc0}, 500000)...)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"array32 of 2^32-1 (dd ff ff ff ff)", mustHex(t, "dd ffffffff"), ErrLength},
		{"map32 of 2^32-1 (df ff ff ff ff)", mustHex(t, "df ffffffff"), ErrLength},
		{"str32 of 2^32-1", mustHex(t, "db ffffffff"), ErrLength},
		{"bin32 of 2^32-1", mustHex(t, "c6 ffffffff"), ErrLength},
		{"ext32 of 2^32-1", mustHex(t, "c9 ffffffff ff"), ErrLength},
		{"array16 of 65535", mustHex(t, "dc ffff"), ErrLength},
		{"map16 of 65535", mustHex(t, "de ffff"), ErrLength},
		{"array32 inside a message", inMsg("dd ffffffff"), ErrLength},
		{"map32 inside a message", inMsg("df ffffffff"), ErrLength},
		{"str32 inside a message", inMsg("db ffffffff"), ErrLength},
		{"bin32 inside a message", inMsg("c6 ffffffff"), ErrLength},
		{"arrays 10000 deep", nested(10000, 0x91), ErrTooDeep},
		{"maps 10000 deep", nested(10000, 0x81), ErrTooDeep},
		{"arrays 33 deep", nested(33, 0x91), ErrTooDeep},
		{"1e6 nils in an array", nilArray(1_000_000), ErrTooManyElements},
		{"500k map entries", mapBomb, ErrTooManyElements},
		// msgpack's DecodeMapLen skips an ext header and reads the payload
		// as a map header: an ext can smuggle a map32 length past a walker
		// that treats ext payloads as opaque.
		{"map32 inside an ext", mustHex(t, "c7 05 00 df ffffffff"), ErrInvalid},
		{"map32 inside an ext in a message", inMsg("c7 05 00 df ffffffff"), ErrInvalid},
		{"reserved byte", inMsg("c1"), ErrInvalid},
		{"trailing garbage", append(inMsg("01"), 0xdd), ErrInvalid},
		{"too large", append([]byte{0xc6, 0, 0x10, 0, 0}, make([]byte, 1<<20)...), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, dst := range destinations() {
				wantErr(t, Default().Decode(tc.data, dst), tc.want)
			}
			wantErr(t, Validate(tc.data, Limits{}), tc.want)
		})
	}
}

func TestHostileJSON(t *testing.T) {
	c := JSON(Limits{})
	many := "[" + strings.Repeat("null,", 100000) + "null]"
	for _, tc := range []struct {
		name string
		data string
		want error
	}{
		{"arrays 10000 deep", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), ErrTooDeep},
		{"objects 10000 deep", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), ErrTooDeep},
		{"unclosed 10000 deep", strings.Repeat("[", 10000), ErrTooDeep},
		{"arrays 33 deep", strings.Repeat("[", 33) + strings.Repeat("]", 33), ErrTooDeep},
		{"100001 nulls", many, ErrTooManyElements},
		{"too large", `{"action":"x","s":"` + strings.Repeat("a", 1<<20) + `"}`, ErrTooLarge},
		{"trailing", `{"action":"x"} {}`, ErrInvalid},
		{"unterminated string", `{"action":"x`, ErrTruncated},
		{"control byte", "{\"action\":\"x\x01\"}", ErrInvalid},
		{"bad literal", `{"action":tru}`, ErrInvalid},
		{"missing colon", `{"action" "x"}`, ErrInvalid},
		{"trailing comma", `{"action":"x",}`, ErrInvalid},
		{"bare word", `hello`, ErrInvalid},
		{"bad number", `{"action":"x","n":1-2}`, ErrDecode}, // structure fine; encoding/json rejects
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, dst := range destinations() {
				wantErr(t, c.Decode([]byte(tc.data), dst), tc.want)
			}
		})
	}
	if err := ValidateJSON([]byte(strings.Repeat("[", 32)+strings.Repeat("]", 32)), Limits{}); err != nil {
		t.Fatalf("depth 32: %v", err)
	}
	wantErr(t, ValidateJSON([]byte(many), Limits{}), ErrTooManyElements)
}

// TestTruncatedMessages cuts valid messages at every byte: Decode returns
// an error for every proper prefix, into every destination, and never
// panics.
func TestTruncatedMessages(t *testing.T) {
	for _, c := range codecs() {
		for _, v := range []any{sampleMsg(), richValue(), &move{X: 1, Action: "m", Tick: 9}} {
			full, err := c.Append(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			for k := range len(full) {
				for _, dst := range destinations() {
					if err := c.Decode(full[:k], dst); err == nil {
						t.Fatalf("%s: Decode(%q) into %T succeeded", c.Name(), full[:k], dst)
					}
				}
			}
		}
	}
}

func TestHostileTimestampIntoMap(t *testing.T) {
	// A valid timestamp64 (nanoseconds 939524095) whose payload starts with
	// 0xdf: in a map position msgpack would read map32 ffffffff and
	// allocate a map of 2^32 entries. Decode rewrites it first.
	data := mustHex(t, "82 a6616374696f6e a178 a4 7768656e d7 ff dfffffffffffffff")
	var into struct {
		When map[string]any `json:"when"`
	}
	wantErr(t, Default().Decode(data, &into), ErrDecode)
	var asTime struct {
		When time.Time `json:"when"`
	}
	if err := Default().Decode(data, &asTime); err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1<<34-1, 939524095); !asTime.When.Equal(want) {
		t.Fatalf("decoded %v, want %v", asTime.When, want)
	}
	wantErr(t, Validate(data, Limits{}), ErrInvalid)
}

// TestNilIntoValueWithCustomDecoder: msgpack v5.4.1 panics ("reflect: call
// of reflect.Value.IsNil on struct Value") when a nil arrives for a
// time.Time held by value (a struct type with a registered extension
// decoder). Found by FuzzValidateDecodable
// (testdata/fuzz/FuzzValidateDecodable/9c4cb639c9449bc7). Decode recovers
// it into an ErrDecode error, and its pooled decoders keep working. (A nil
// for a netip.Addr, whose decoding methods have pointer receivers, decodes
// as the zero Addr.)
func TestNilIntoValueWithCustomDecoder(t *testing.T) {
	type stamped struct {
		Action string     `msgpack:"action"`
		When   time.Time  `msgpack:"when"`
		Addr   netip.Addr `msgpack:"addr"`
	}
	for _, hex := range []string{
		"82 a6616374696f6e a178 a4 7768656e c0", // {action: x, when: nil}
		"93 a178 c0 c0",                         // [x, nil, nil] (array form)
	} {
		var s stamped
		err := Default().Decode(mustHex(t, hex), &s)
		wantErr(t, err, ErrDecode)
		if !strings.Contains(err.Error(), "panicked") {
			t.Errorf("%s: %v", hex, err)
		}
	}
	var s stamped
	if err := Default().Decode(mustHex(t, "82 a6616374696f6e a178 a4 61646472 c0"), &s); err != nil || s.Addr.IsValid() {
		t.Errorf("{action: x, addr: nil}: %+v, %v", s, err)
	}
	ok, err := Default().Append(nil, &stamped{Action: "x", When: time.Unix(5, 0), Addr: netip.MustParseAddr("10.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 { // the pool hands out fresh decoders after a panic
		var s stamped
		if err := Default().Decode(ok, &s); err != nil || s.Addr.String() != "10.0.0.1" || !s.When.Equal(time.Unix(5, 0)) {
			t.Fatalf("a good message after the recovered panic: %+v, %v", s, err)
		}
	}
}
