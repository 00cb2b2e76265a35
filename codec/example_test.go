package codec_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/codec"
)

// Move is a typed message: its Action field names the handler.
type Move struct {
	Action string  `msgpack:"action" json:"action"`
	X      float32 `msgpack:"x" json:"x"`
	Y      float32 `msgpack:"y" json:"y"`
	Tick   uint32  `msgpack:"tick" json:"tick"`
}

// Encode a typed message, read its action as a dispatcher would, and
// decode it into the handler's struct.
func Example() {
	c := codec.Default() // msgpack, DefaultLimits

	data, err := c.Append(nil, &Move{Action: "move", X: 1.5, Y: -2, Tick: 42})
	if err != nil {
		panic(err)
	}

	// The dispatcher: no decoding, no allocation.
	action, err := codec.ActionBytes(data)
	if err != nil {
		panic(err)
	}
	handlers := map[string]func([]byte){
		"move": func(data []byte) {
			var m Move
			if err := c.Decode(data, &m); err != nil { // validates, then decodes
				panic(err)
			}
			fmt.Printf("move to (%g, %g) at tick %d\n", m.X, m.Y, m.Tick)
		},
	}
	handlers[string(action)](data)

	// Hostile bytes are refused before msgpack sees them.
	var m Move
	fmt.Println(c.Decode([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, &m))
	// Output:
	// move to (1.5, -2) at tick 42
	// codec: array length 4294967295 exceeds 0 remaining bytes
}

// Untyped messages: Msg, with "action" first and the other keys sorted.
func ExampleMsg() {
	for _, c := range []codec.Codec{codec.Default(), codec.JSON(codec.Limits{})} {
		data, err := c.Append(nil, codec.Msg{"text": "hi", "action": "chat", "to": []string{"ann"}, "n": 3})
		if err != nil {
			panic(err)
		}
		var m codec.Msg
		if err := c.Decode(data, &m); err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d bytes, action %q, text %q, n %T, to %v\n", c.Name(), len(data), m.Action(), m["text"], m["n"], m["to"])
	}
	data, _ := codec.JSON(codec.Limits{}).Append(nil, codec.Msg{"text": "hi", "action": "chat"})
	fmt.Println(string(data))
	// Output:
	// msgpack: 32 bytes, action "chat", text "hi", n int64, to [ann]
	// json: 48 bytes, action "chat", text "hi", n int64, to [ann]
	// {"action":"chat","text":"hi"}
}

// Limits bound what a codec accepts; zero fields mean the defaults.
func ExampleLimits() {
	c := codec.Msgpack(codec.Limits{MaxDepth: 2})
	data, _ := codec.Default().Append(nil, codec.Msg{"action": "deep", "a": []any{[]any{1}}})
	var m codec.Msg
	fmt.Println(c.Decode(data, &m))
	// Output:
	// codec: array at offset 16 nests deeper than MaxDepth 2
}
