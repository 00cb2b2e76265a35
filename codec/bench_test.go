package codec

import "testing"

// Run with: go test -run XXX -bench . -benchmem ./codec

func benchMove() *move {
	return &move{X: 12.5, Y: -3.25, Action: "move", Tick: 123456, Flags: 5}
}

func benchMsg() Msg {
	return Msg{"action": "chat", "text": "hello there", "x": 12.5, "tick": 123456, "team": "red"}
}

// BenchmarkStruct encodes and decodes the 5-field typed message.
func BenchmarkStruct(b *testing.B) {
	for _, c := range codecs() {
		in := benchMove()
		data, err := c.Append(nil, in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			buf := make([]byte, 0, 256)
			for b.Loop() {
				if buf, err = c.Append(buf[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.Name()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var out move
			for b.Loop() {
				if err := c.Decode(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.Name()+"/decode-numbers", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var out moveNumbers
			for b.Loop() {
				if err := c.Decode(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.Name()+"/roundtrip", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 256)
			var out move
			for b.Loop() {
				if buf, err = c.Append(buf[:0], in); err != nil {
					b.Fatal(err)
				}
				if err := c.Decode(buf, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMsg encodes and decodes a Msg with 5 keys.
func BenchmarkMsg(b *testing.B) {
	for _, c := range codecs() {
		in := benchMsg()
		data, err := c.Append(nil, in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			buf := make([]byte, 0, 256)
			for b.Loop() {
				if buf, err = c.Append(buf[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.Name()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var out Msg
			for b.Loop() {
				if err := c.Decode(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.Name()+"/roundtrip", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 256)
			var out Msg
			for b.Loop() {
				if buf, err = c.Append(buf[:0], in); err != nil {
					b.Fatal(err)
				}
				if err := c.Decode(buf, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for name, v := range map[string]any{"move": benchMove(), "msg": benchMsg(), "sample": sampleMsg()} {
		data, err := Default().Append(nil, v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := Validate(data, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	big := nilArray(65536)
	b.Run("65536-nils", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(big)))
		for b.Loop() {
			if err := Validate(big, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkActionBytes(b *testing.B) {
	data, err := Default().Append(nil, benchMove())
	if err != nil {
		b.Fatal(err)
	}
	handlers := map[string]int{"move": 1}
	b.ReportAllocs()
	for b.Loop() {
		a, err := ActionBytes(data)
		if err != nil || handlers[string(a)] != 1 {
			b.Fatal(a, err)
		}
	}
}
