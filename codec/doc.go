// Package codec is pumpnet's message layer: it turns game messages into
// bytes and back, with msgpack (github.com/vmihailenco/msgpack/v5, the
// default) or JSON (encoding/json, for tools and clients in other
// languages), and it stands between the network and those libraries so that
// hostile bytes never reach them unchecked.
//
// A Codec is safe for concurrent use. Default() is the msgpack codec with
// DefaultLimits; Msgpack(lim) and JSON(lim) build codecs with other limits.
//
// # The action envelope
//
// A message is a map whose "action" key names the handler that receives it,
// as in PodSixNet. Append encodes a Msg, any map with string keys, or a
// struct (or pointer to one) with an action field, tagged
//
//	Action string `msgpack:"action" json:"action"`
//
// (or embedded through a struct that has one). A string field named Action
// with no tag at all is the action too: it would encode as "Action", so
// Append writes it as "action", and Decode fills it back (msgpack matches
// field names exactly), so a struct copied without tags,
//
//	type Guess struct {
//		Action string
//		Number int
//	}
//
// is a message. Its other fields keep their Go names ("Number") on the
// wire. The rules:
//
//   - The action must be a non-empty string, and there must be exactly one;
//     otherwise Append fails with ErrNoAction or ErrBadAction. Values that
//     are not maps (nil, numbers, slices) fail with ErrNoAction.
//   - The action is encoded first, whatever the struct's field order or the
//     map's key order: Append encodes the value, then finds the action entry
//     in the output and rotates it to the front, in place (no allocation).
//     The other entries keep their order: a struct's fields in declaration
//     order, a map's keys sorted (byte order), so a Msg always encodes to
//     the same bytes. Nested map[string]any, map[string]string and
//     map[string]bool are sorted too; other typed maps inside structs are
//     written by msgpack in Go's random map order (JSON sorts all maps).
//   - Action (and, for msgpack, the allocation-free ActionBytes) reads the
//     action from the top-level map without decoding the other values.
//     Keys other than "action" may come in any order from other encoders.
//   - Decode does not require an action (so Decode can read any value), but
//     it rejects a message whose top level has the action twice, because
//     Action returns the first while the libraries keep the last. For JSON,
//     whose struct decoding matches keys ignoring case, "Action" or "ACTION"
//     beside "action" counts as twice too.
//   - Decoding a msgpack message (up to 16 KiB) into a struct with an action
//     field allocates nothing for the action: the "action" entry is cut out
//     before msgpack decodes the rest, and the field gets an interned copy
//     of the name (at most 1,024 names are interned; others are allocated).
//
// Struct field names: the msgpack tag if present, else the json tag, else
// the Go field name, so a struct encodes with the same keys in both codecs.
// msgpack matches keys exactly; encoding/json ignores case.
//
// # Limits
//
// Every byte from outside passes the limits before any library sees it
// (Limits; zero fields mean the defaults):
//
//   - MaxSize, default 1 MiB (netcode's default maximum message): the
//     length of one message in bytes.
//   - MaxDepth, default 32 (at most MaxDepthLimit, 1024): how deeply arrays
//     and maps nest; the top-level map is depth 1.
//   - MaxElements, default 65536: array elements plus map entries, summed
//     over the whole message.
//
// Append enforces the same limits on what it produces, so a message Append
// writes is one Decode with the same limits accepts.
//
// # Hostile input
//
// msgpack v5.4.1 allocates what a header declares: it dies with an
// unrecoverable "fatal error: out of memory" on 5-byte inputs such as
// dd ff ff ff ff (decoded into any or a slice) or df ff ff ff ff (into a
// map), and it recurses once per nesting level. So Decode first walks the
// bytes with an allocation-free validator (Validate), which checks that:
// every str, bin and ext length fits in the bytes left; an array of n
// elements has at least n bytes left and a map of n entries at least 2n; the
// depth, element and size limits hold; the reserved byte 0xc1 does not
// occur; exactly one value is present, with no trailing bytes. Errors say
// what was wrong and where, e.g. "codec: array length 4294967295 exceeds 0
// remaining bytes", and wrap ErrLength, ErrTruncated, ErrTooDeep,
// ErrTooManyElements, ErrTooLarge or ErrInvalid (match with errors.Is).
//
// Extensions: the only msgpack extension accepted is the timestamp (type
// -1, 4, 8 or 12 bytes, nanoseconds below 1e9). msgpack reads an extension
// in a map-typed position as a map header (it skips the extension header and
// goes on into the payload), so any other extension could smuggle a map32
// length past the validator; and a timestamp whose payload starts with
// 0xde or 0xdf (about 0.8% of 64-bit timestamps: nanoseconds near 0.93e9)
// could too. Validate rejects those timestamps; Decode accepts them by
// rewriting each into the 12-byte form first; Append writes them in that
// form, so its output always passes Validate.
//
// msgpack v5.4.1 also panics (recoverably) when a nil arrives for a
// time.Time held by value; Decode recovers any panic inside msgpack into an
// ErrDecode error naming the target type, drops that pooled decoder, and
// carries on (TestNilIntoValueWithCustomDecoder). Use *time.Time for an
// optional time.
//
// The JSON codec checks MaxSize, MaxDepth and MaxElements, and the
// structure (brackets, strings, separators), with its own allocation-free
// scanner (ValidateJSON) before encoding/json sees the bytes.
//
// What validation bounds: every allocation msgpack makes from a declared
// length is at most the input's length times the size of one element. For
// a slice of a very large element type (say [4096]byte) that product can
// still be large; keep such types out of messages, or lower MaxElements.
//
// # Decoded types
//
// Decoding into a *struct fills its fields with their own types (a typed
// message of numeric fields decodes with no allocation at all, with pooled
// decoders). Decoding into a *Msg (clearing and reusing the map if it is
// not nil), a *map[string]any or an *any gives these Go types:
//
//	value             msgpack                      JSON
//	nil / null        nil                          nil
//	bool              bool                         bool
//	integer           int64; uint64 above MaxInt64 int64; uint64 above MaxInt64;
//	                                               float64 beyond uint64
//	float             float64 (float32 widened)    float64, but int64 if written
//	                                               without '.', 'e' or 'E'
//	string            string                       string
//	binary            []byte                       (a base64 string)
//	array             []any                        []any
//	map               map[string]any               map[string]any
//	timestamp         time.Time (time.Local)       (an RFC 3339 string)
//
// So the codecs agree, except that JSON has no binary or time (encoding/json
// writes []byte as base64 and time.Time as RFC 3339 text, which come back as
// strings), a float with an integral value (3.0) comes back from JSON as
// int64, and a float32 comes back from msgpack as the float64 of the same
// value (0.1f is 0.10000000149011612) but from JSON as the float64 of its
// shortest decimal (0.1). msgpack map keys must be strings (str or bin);
// other keys are an ErrDecode. Values of type any inside a struct are
// decoded by each library's own rules (msgpack: int64 for signed
// encodings, uint64 for unsigned ones, float64, string for str and bin;
// JSON: float64 for numbers); prefer concrete field types.
//
// # Example
//
//	package main
//
//	import (
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/codec"
//	)
//
//	type Move struct {
//		Action string  `msgpack:"action" json:"action"`
//		X      float32 `msgpack:"x" json:"x"`
//		Y      float32 `msgpack:"y" json:"y"`
//	}
//
//	func main() {
//		c := codec.Default()
//		data, err := c.Append(nil, &Move{Action: "move", X: 1, Y: 2})
//		if err != nil {
//			panic(err)
//		}
//		action, _ := codec.ActionBytes(data) // "move", aliases data
//		var m Move
//		if err := c.Decode(data, &m); err != nil { // validates, then decodes
//			panic(err)
//		}
//		fmt.Println(string(action), m.X, m.Y)
//	}
package codec
