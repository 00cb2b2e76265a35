package dispatch

import (
	"testing"

	"github.com/pumpnet/pumpnet/codec"
)

// benchListener has a reflected handler of the 5-field Move.
type benchListener struct{ sum float64 }

func (b *benchListener) Network_move(_ *peer, m Move) { b.sum += m.Speed }

// BenchmarkDispatch dispatches one 5-field message (action plus five
// numbers, 44 bytes of msgpack) to one handler of each kind. "decode" is
// the baseline: codec.Decode into a Move, with no dispatch.
func BenchmarkDispatch(b *testing.B) {
	data := moveBytes(b, "move")
	p := &peer{}
	var sum float64
	run := func(b *testing.B, tb *Table[*peer]) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if n, err := tb.Dispatch(p, data); n != 1 || err != nil {
				b.Fatal(n, err)
			}
		}
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		c := codec.Default()
		var m Move
		for b.Loop() {
			if err := c.Decode(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HandleFunc", func(b *testing.B) {
		tb := New[*peer](codec.Default())
		if err := HandleFunc(tb, "move", func(_ *peer, m Move) { sum += m.Speed }); err != nil {
			b.Fatal(err)
		}
		run(b, tb)
	})
	b.Run("HandleFunc-pointer", func(b *testing.B) {
		tb := New[*peer](codec.Default())
		if err := HandleFunc(tb, "move", func(_ *peer, m *Move) { sum += m.Speed }); err != nil {
			b.Fatal(err)
		}
		run(b, tb)
	})
	b.Run("reflected-method", func(b *testing.B) {
		tb := New[*peer](codec.Default())
		if err := tb.Register(&benchListener{}); err != nil {
			b.Fatal(err)
		}
		run(b, tb)
	})
	b.Run("Msg", func(b *testing.B) {
		tb := New[*peer](codec.Default())
		if err := tb.Handle("move", func(_ *peer, m codec.Msg) { sum += m["speed"].(float64) }); err != nil {
			b.Fatal(err)
		}
		run(b, tb)
	})
	b.Run("unknown-action", func(b *testing.B) {
		tb := New[*peer](codec.Default())
		if err := tb.Handle("chat", func(_ *peer, m codec.Msg) {}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if n, err := tb.Dispatch(p, data); n != 0 || err != nil {
				b.Fatal(n, err)
			}
		}
	})
	_ = sum
}

// BenchmarkEvent delivers an error event to an error handler and a Msg
// catch-all (the Msg is built per Event).
func BenchmarkEvent(b *testing.B) {
	tb := New[*peer](codec.Default())
	if err := HandleFunc(tb, "error", func(_ *peer, err error) {}); err != nil {
		b.Fatal(err)
	}
	if err := tb.Handle("", func(m codec.Msg) {}); err != nil {
		b.Fatal(err)
	}
	ev := errTest
	p := &peer{}
	b.ReportAllocs()
	for b.Loop() {
		if n, err := tb.Event(p, "error", ev); n != 2 || err != nil {
			b.Fatal(n, err)
		}
	}
}

var errTest = codec.ErrDecode
