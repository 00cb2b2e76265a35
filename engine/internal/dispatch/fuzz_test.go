package dispatch

import (
	"errors"
	"testing"

	"github.com/pumpnet/pumpnet/codec"
)

// FuzzDispatch feeds arbitrary bytes to a table with a handler of every
// message kind: Dispatch must return an error or run the handlers, never
// crash, and never run a handler and fail to decode.
func FuzzDispatch(f *testing.F) {
	for _, seed := range [][]byte{
		{0xdd, 0xff, 0xff, 0xff, 0xff},
		{0xdf, 0xff, 0xff, 0xff, 0xff},
		append([]byte{0x82, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xa1, 'm', 0xa1, 'x'}, 0xdd, 0xff, 0xff, 0xff, 0xff),
		moveBytes(f, "m"),
		encode(f, codec.Msg{"action": "m", "text": "hi", "tags": []string{"a"}}),
		encode(f, codec.Msg{"action": "other", "n": []any{1, "x", nil, map[string]any{"k": 1.5}}}),
	} {
		f.Add(seed)
	}
	tb := New[*peer](codec.Default())
	ran := 0
	for _, err := range []error{
		HandleFunc(tb, "m", func(_ *peer, m Move) { ran++ }),
		HandleFunc(tb, "m", func(_ *peer, c *Chat) { ran++ }),
		tb.Handle("m", func(m codec.Msg) { ran++ }),
		tb.Handle("", func(_ *peer, m any) { ran++ }),
		tb.Handle("m", func(_ *peer, c Chat) { ran++ }),
	} {
		if err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ran = 0
		n, err := tb.Dispatch(&peer{}, data)
		if n != ran {
			t.Fatalf("Dispatch says %d handlers ran, %d did", n, ran)
		}
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v after %d handlers ran", err, n)
			}
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
		}
	})
}
