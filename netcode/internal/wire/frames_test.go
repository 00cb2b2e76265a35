package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

// bytesAllocated returns the bytes of heap memory fn allocates, averaged
// over 10 runs after a warm-up run.
func bytesAllocated(fn func()) uint64 {
	fn()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / 10
}

func TestFrameRoundTrip(t *testing.T) {
	for _, s := range sampleFrames() {
		t.Run(s.name, func(t *testing.T) {
			enc := appendFrame([]byte("xyz"), &s.frame)[3:]
			if want := frameLen(&s.frame); len(enc) != want {
				t.Fatalf("appended %d bytes, Len function says %d", len(enc), want)
			}
			if enc[0] != byte(s.frame.Type) {
				t.Fatalf("first byte %#02x, want type %#02x", enc[0], byte(s.frame.Type))
			}
			// Parse with a trailing frame after it: n must stop at the end.
			in := append(enc[:len(enc):len(enc)], byte(FramePing))
			var f Frame
			n, err := ParseFrame(in, &f)
			if err != nil {
				t.Fatalf("ParseFrame: %v", err)
			}
			if n != len(enc) {
				t.Fatalf("ParseFrame used %d bytes, want %d", n, len(enc))
			}
			if d := frameDiff(&f, &s.frame); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestFrameTruncated(t *testing.T) {
	for _, s := range sampleFrames() {
		enc := appendFrame(nil, &s.frame)
		for n := range len(enc) {
			var f Frame
			// Cap the input so a read past it would panic, not see
			// stale bytes.
			used, err := ParseFrame(enc[:n:n], &f)
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s: ParseFrame(first %d of %d bytes) = %d, %v; want ErrTruncated",
					s.name, n, len(enc), used, err)
			}
			if used != 0 {
				t.Fatalf("%s: ParseFrame(first %d bytes) used %d bytes on error", s.name, n, used)
			}
			if n == 0 {
				continue
			}
			// The same inside a payload: ParseFrames reports it too.
			payload := append(AppendPing(nil), enc[:n]...)
			err = ParseFrames(payload, &f, func(*Frame) error { return nil })
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s: ParseFrames(ping + first %d bytes) = %v, want ErrTruncated", s.name, n, err)
			}
		}
	}
}

func TestFrameGolden(t *testing.T) {
	// Encodings written out by hand from PROTOCOL.md §5, so that Append and
	// Parse cannot agree on a wrong format.
	tests := []struct {
		name string
		enc  []byte
		want Frame
	}{
		{"padding", []byte{0x00}, Frame{Type: FramePadding}},
		{"ping", []byte{0x01}, Frame{Type: FramePing}},
		{"keys ready", []byte{0x06, 0x02, 0xaa, 0xbb}, Frame{Type: FrameKeysReady, Params: []byte{0xaa, 0xbb}}},
		{"ack", []byte{0x02, 0xac, 0x02, 0x01, 0x02, 0x05, 0x80}, Frame{Type: FrameAck, Ack: AckFrame{
			Largest: 300, DelayMicros: 1, MaskLen: 2, Mask: [MaxAckMaskBytes]byte{0x05, 0x80}}}},
		{"message", []byte{0x03, 0xff, 0x80, 0x01, 0x03, 'a', 'b', 'c'}, Frame{Type: FrameMessage,
			Message: MessageFrame{Channel: 255, Seq: 128, Data: []byte("abc")}}},
		{"fragment", []byte{0x04, 0x02, 0x05, 0xff, 0xff, 0x03, 0x80, 0x80, 0x04, 0x01, 'z'},
			Frame{Type: FrameFragment, Fragment: FragmentFrame{
				Channel: 2, Seq: 5, Index: 65535, Count: 65536, Data: []byte("z")}}},
		{"close", []byte{0x05, 0x07, 0x03, 'b', 'y', 'e'}, Frame{Type: FrameClose,
			Close: CloseFrame{Code: 7, Reason: []byte("bye")}}},
		{"path challenge", []byte{0x07, 1, 2, 3, 4, 5, 6, 7, 8}, Frame{Type: FramePathChallenge,
			Path: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}},
		{"path response", []byte{0x08, 8, 7, 6, 5, 4, 3, 2, 1}, Frame{Type: FramePathResponse,
			Path: [8]byte{8, 7, 6, 5, 4, 3, 2, 1}}},
	}
	for _, tt := range tests {
		var f Frame
		n, err := ParseFrame(tt.enc, &f)
		if err != nil || n != len(tt.enc) {
			t.Errorf("%s: ParseFrame(%x) = %d, %v; want %d, nil", tt.name, tt.enc, n, err, len(tt.enc))
			continue
		}
		if d := frameDiff(&f, &tt.want); d != "" {
			t.Errorf("%s: %s", tt.name, d)
		}
		if got := appendFrame(nil, &tt.want); !bytes.Equal(got, tt.enc) {
			t.Errorf("%s: append = %x, want %x", tt.name, got, tt.enc)
		}
	}
}

func TestParseFrameUnknownType(t *testing.T) {
	for i := 0x09; i <= 0xff; i++ {
		var f Frame
		// Enough bytes after the type that no length check interferes.
		in := append([]byte{byte(i)}, make([]byte, 16)...)
		n, err := ParseFrame(in, &f)
		if !errors.Is(err, ErrUnknownFrame) || n != 0 {
			t.Fatalf("ParseFrame(type %#02x) = %d, %v; want 0, ErrUnknownFrame", i, n, err)
		}
	}
}

func TestParseFrameMalformed(t *testing.T) {
	var huge []byte // MESSAGE declaring 2^63 bytes with 3 left
	huge = append(huge, byte(FrameMessage), 0, 0)
	huge = append(huge, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01) // 2^63
	huge = append(huge, 'a', 'b', 'c')
	overflow := bytes.Repeat([]byte{0xff}, 11)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"ack mask length 33", append([]byte{0x02, 0x01, 0x00, 33}, make([]byte, 33)...), ErrInvalid},
		{"ack mask length 255", append([]byte{0x02, 0x01, 0x00, 255}, make([]byte, 255)...), ErrInvalid},
		{"ack largest overflows", append([]byte{0x02}, overflow...), ErrInvalid},
		{"ack delay overflows", append([]byte{0x02, 0x01}, overflow...), ErrInvalid},
		{"message seq overflows", append([]byte{0x03, 0x00}, overflow...), ErrInvalid},
		{"message length overflows", append([]byte{0x03, 0x00, 0x00}, overflow...), ErrInvalid},
		{"message length 2^63, 3 bytes left", huge, ErrTruncated},
		{"message length 2^64-1", append([]byte{0x03, 0, 0}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'), ErrTruncated},
		{"message length 100000, 3 bytes left", []byte{0x03, 0, 0, 0xa0, 0x8d, 0x06, 'a', 'b', 'c'}, ErrTruncated},
		{"message length one more than left", []byte{0x03, 0, 0, 4, 'a', 'b', 'c'}, ErrTruncated},
		{"fragment count 0", []byte{0x04, 0, 0, 0, 0, 0}, ErrInvalid},
		{"fragment count 1", []byte{0x04, 0, 0, 0, 1, 0}, ErrInvalid},
		{"fragment count 65537", []byte{0x04, 0, 0, 0, 0x81, 0x80, 0x04, 0}, ErrInvalid},
		{"fragment count 2^64-1", append([]byte{0x04, 0, 0, 0}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0), ErrInvalid},
		{"fragment index = count", []byte{0x04, 0, 0, 2, 2, 0}, ErrInvalid},
		{"fragment index > count", []byte{0x04, 0, 0, 0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0}, ErrInvalid},
		{"fragment index 2^32 count 3", []byte{0x04, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 3, 0}, ErrInvalid},
		{"fragment index overflows", append([]byte{0x04, 0, 0}, overflow...), ErrInvalid},
		{"fragment length too long", []byte{0x04, 0, 0, 0, 2, 9, 'a'}, ErrTruncated},
		{"close reason 257", append([]byte{0x05, 0x00, 0x81, 0x02}, bytes.Repeat([]byte{'a'}, 257)...), ErrInvalid},
		{"close reason 2^63", append([]byte{0x05, 0x00}, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), ErrInvalid},
		{"close reason invalid UTF-8", []byte{0x05, 0x00, 0x02, 0xc3, 0x28}, ErrInvalid},
		{"close reason cut rune", []byte{0x05, 0x00, 0x01, 0xc3}, ErrInvalid},
		{"close reason surrogate", []byte{0x05, 0x00, 0x03, 0xed, 0xa0, 0x80}, ErrInvalid},
		{"close code overflows", append([]byte{0x05}, overflow...), ErrInvalid},
		{"ten continuation bytes", append([]byte{0x03, 0x00}, bytes.Repeat([]byte{0x80}, 10)...), ErrInvalid},
		{"tenth byte 2", append([]byte{0x03, 0x00}, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02), ErrInvalid},
	}
	for _, tt := range tests {
		var f Frame
		in := tt.in[:len(tt.in):len(tt.in)]
		var n int
		var err error
		allocated := bytesAllocated(func() { n, err = ParseFrame(in, &f) })
		if !errors.Is(err, tt.want) || n != 0 {
			t.Errorf("%s: ParseFrame(%x) = %d, %v; want 0, %v", tt.name, tt.in, n, err, tt.want)
		}
		// Only the error value itself may be allocated, never a buffer the
		// size of a declared length.
		if allocated > 1024 {
			t.Errorf("%s: ParseFrame allocated %d bytes on a malformed frame", tt.name, allocated)
		}
		if err != nil && len(err.Error()) < len("wire: ") || err != nil && err.Error()[:6] != "wire: " {
			t.Errorf("%s: error %q lacks the wire: prefix", tt.name, err)
		}
	}
}

func TestParseFrameNonMinimalVarint(t *testing.T) {
	// PROTOCOL.md: a varint that binary.Uvarint accepts is accepted even if
	// it is not minimally encoded.
	in := []byte{0x03, 0x01,
		0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, // seq 5 in 10 bytes
		0x82, 0x00, // length 2 in 2 bytes
		'h', 'i'}
	var f Frame
	n, err := ParseFrame(in, &f)
	if err != nil || n != len(in) {
		t.Fatalf("ParseFrame(%x) = %d, %v", in, n, err)
	}
	want := Frame{Type: FrameMessage, Message: MessageFrame{Channel: 1, Seq: 5, Data: []byte("hi")}}
	if d := frameDiff(&f, &want); d != "" {
		t.Fatal(d)
	}
	if re := appendFrame(nil, &f); len(re) != len(in)-10 {
		t.Fatalf("re-encoded %d bytes, want the minimal %d", len(re), len(in)-10)
	}
}

func TestParsedSlicesCannotOverwrite(t *testing.T) {
	// Appending to a parsed Data must not write into the next frame.
	b := AppendMessage(nil, 1, 1, []byte("one"))
	b = AppendMessage(b, 2, 2, []byte("two"))
	var f Frame
	n, err := ParseFrame(b, &f)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(f.Message.Data, 'X', 'X', 'X', 'X')
	if _, err := ParseFrame(b[n:], &f); err != nil || string(f.Message.Data) != "two" {
		t.Fatalf("second frame after appending to the first's data: %q, %v", f.Message.Data, err)
	}
}

func TestAckEliciting(t *testing.T) {
	// PROTOCOL.md §5, column "ack-eliciting".
	want := map[FrameType]bool{
		FramePadding: false, FramePing: true, FrameAck: false, FrameMessage: true,
		FrameFragment: true, FrameClose: false, FrameKeysReady: true,
		FramePathChallenge: true, FramePathResponse: true,
	}
	for i := range 256 {
		ft := FrameType(i)
		if got := ft.AckEliciting(); got != want[ft] {
			t.Errorf("%v.AckEliciting() = %v, want %v", ft, got, want[ft])
		}
	}
}

func TestFrameTypeString(t *testing.T) {
	seen := map[string]bool{}
	for i := range 9 {
		s := FrameType(i).String()
		if seen[s] || s == "" || s[0] == 'U' {
			t.Errorf("FrameType(%d).String() = %q", i, s)
		}
		seen[s] = true
	}
	if s := FrameType(0x2a).String(); s != "UNKNOWN(0x2a)" {
		t.Errorf("FrameType(0x2a).String() = %q", s)
	}
}

func TestAppendPadding(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 1200} {
		b := AppendPadding([]byte{0xee}, n)
		if len(b) != 1+max(n, 0) || b[0] != 0xee || bytes.Count(b[1:], []byte{0}) != max(n, 0) {
			t.Errorf("AppendPadding(n=%d) = %d bytes", n, len(b))
		}
	}
}

func TestParseFrames(t *testing.T) {
	samples := sampleFrames()
	var payload []byte
	for _, s := range samples {
		payload = appendFrame(payload, &s.frame)
	}
	var f Frame
	i := 0
	err := ParseFrames(payload, &f, func(g *Frame) error {
		if g != &f {
			t.Fatalf("yield got %p, want the caller's frame %p", g, &f)
		}
		if i >= len(samples) {
			t.Fatalf("yield called %d times for %d frames", i+1, len(samples))
		}
		if d := frameDiff(g, &samples[i].frame); d != "" {
			t.Fatalf("frame %d (%s): %s", i, samples[i].name, d)
		}
		i++
		return nil
	})
	if err != nil || i != len(samples) {
		t.Fatalf("ParseFrames = %v after %d frames, want nil after %d", err, i, len(samples))
	}
}

func TestParseFramesStops(t *testing.T) {
	payload := AppendPing(nil)
	payload = AppendMessage(payload, 1, 2, []byte("hello"))
	payload = AppendPing(payload)

	errStop := errors.New("stop")
	calls := 0
	var f Frame
	err := ParseFrames(payload, &f, func(g *Frame) error {
		calls++
		if g.Type == FrameMessage {
			return errStop
		}
		return nil
	})
	if err != errStop || calls != 2 {
		t.Fatalf("ParseFrames = %v after %d calls, want errStop (unwrapped) after 2", err, calls)
	}

	// A malformed frame stops the walk with the frames before it yielded.
	bad := append(payload[:len(payload):len(payload)], 0x09)
	var types []FrameType
	err = ParseFrames(bad, &f, func(g *Frame) error { types = append(types, g.Type); return nil })
	if !errors.Is(err, ErrUnknownFrame) || fmt.Sprint(types) != fmt.Sprint([]FrameType{FramePing, FrameMessage, FramePing}) {
		t.Fatalf("ParseFrames(... unknown) = %v, yielded %v", err, types)
	}
	// The error names the offset in the payload, not in the frame.
	if want := fmt.Sprintf("at offset %d", len(payload)); !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not say %q", err, want)
	}

	if err := ParseFrames(nil, &f, func(*Frame) error { t.Fatal("yield on empty payload"); return nil }); !errors.Is(err, ErrTruncated) {
		t.Fatalf("ParseFrames(empty) = %v, want ErrTruncated", err)
	}
}

func TestZeroAllocs(t *testing.T) {
	payload := benchPayload()
	var f Frame
	count := 0
	yield := func(*Frame) error { count++; return nil }
	if a := testing.AllocsPerRun(100, func() {
		if err := ParseFrames(payload, &f, yield); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ParseFrames allocated %v times per run", a)
	}
	var all []byte
	for _, s := range sampleFrames() {
		all = appendFrame(all, &s.frame)
	}
	if a := testing.AllocsPerRun(100, func() {
		for off := 0; off < len(all); {
			n, err := ParseFrame(all[off:], &f)
			if err != nil {
				t.Fatal(err)
			}
			off += n
		}
	}); a != 0 {
		t.Errorf("ParseFrame allocated %v times per run", a)
	}
	hdr := AppendHeader(nil, Header{KeyPhase: true, PN: 9})
	if a := testing.AllocsPerRun(100, func() {
		if _, err := ParseHeader(hdr); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ParseHeader allocated %v times per run", a)
	}

	buf := make([]byte, 0, 2*len(all)+HeaderLen)
	data := seqBytes(64)
	ack := AckFrame{Largest: 1 << 40, DelayMicros: 300, MaskLen: MaxAckMaskBytes, Mask: fullMask()}
	reason := "a reason that is not valid UTF-8 \xff and too long: " + string(seqBytes(300))
	if a := testing.AllocsPerRun(100, func() {
		b := AppendHeader(buf[:0], Header{PN: 7})
		b = AppendPing(b)
		b = AppendKeysReady(b, data[:8])
		b = AppendPadding(b, 3)
		b = AppendAck(b, &ack)
		b = AppendMessage(b, 3, 1<<20, data)
		b = AppendFragment(b, 3, 1<<20, 5, 9, data)
		b = AppendClose(b, 1, "bye")
		b = AppendClose(b, 1, reason)
		b = AppendPathChallenge(b, [8]byte{1})
		b = AppendPathResponse(b, [8]byte{2})
		if &b[0] != &buf[:1][0] {
			t.Fatal("appends reallocated the buffer")
		}
	}); a != 0 {
		t.Errorf("Append* allocated %v times per run into a buffer with capacity", a)
	}
	if a := testing.AllocsPerRun(100, func() {
		_ = AckFrameLen(&ack) + MessageFrameLen(1, 64) + FragmentFrameLen(1, 2, 3, 64) + CloseFrameLen(1, reason)
		_ = ack.Acks(5) || ack.Smallest() == 0
	}); a != 0 {
		t.Errorf("Len functions allocated %v times per run", a)
	}
}

// benchPayload is a 1200-byte payload of MESSAGE frames with 64 bytes of
// data each (69 bytes on the wire with a 2-byte seq); the last frame's data
// is shorter so that the payload is exactly 1200 bytes.
func benchPayload() []byte {
	const size = 1200
	data := seqBytes(64)
	b := make([]byte, 0, size)
	for seq := uint64(1000); ; seq++ {
		if len(b)+MessageFrameLen(seq, 64) <= size {
			b = AppendMessage(b, 1, seq, data)
			continue
		}
		last := size - len(b) - MessageFrameLen(seq, 0)
		return AppendMessage(b, 1, seq, data[:last])
	}
}

func TestBenchPayload(t *testing.T) {
	p := benchPayload()
	var f Frame
	n := 0
	if err := ParseFrames(p, &f, func(*Frame) error { n++; return nil }); err != nil || len(p) != 1200 || n != 18 {
		t.Fatalf("bench payload: %d bytes, %d frames, %v", len(p), n, err)
	}
}

func BenchmarkParseFrames(b *testing.B) {
	p := benchPayload()
	var f Frame
	var frames, bytesSeen int
	yield := func(f *Frame) error { frames++; bytesSeen += len(f.Message.Data); return nil }
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseFrames(p, &f, yield); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

func BenchmarkParseFrame(b *testing.B) {
	p := benchPayload()
	var f Frame
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < len(p); {
			n, err := ParseFrame(p[off:], &f)
			if err != nil {
				b.Fatal(err)
			}
			off += n
		}
	}
}

func BenchmarkAppendMessages(b *testing.B) {
	p := benchPayload()
	// The same frames, re-appended from their parsed form.
	type msg struct {
		seq  uint64
		data []byte
	}
	var msgs []msg
	var f Frame
	_ = ParseFrames(p, &f, func(f *Frame) error {
		msgs = append(msgs, msg{f.Message.Seq, f.Message.Data})
		return nil
	})
	buf := make([]byte, 0, len(p))
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		out := buf[:0]
		for _, m := range msgs {
			out = AppendMessage(out, 1, m.seq, m.data)
		}
		if len(out) != len(p) {
			b.Fatalf("appended %d bytes, want %d", len(out), len(p))
		}
	}
}

func TestKeysReadyParamsBounded(t *testing.T) {
	b := []byte{byte(FrameKeysReady)}
	b = binary.AppendUvarint(b, MaxKeysReadyParams+1)
	b = append(b, make([]byte, MaxKeysReadyParams+1)...)
	var f Frame
	if _, err := ParseFrame(b, &f); !errors.Is(err, ErrInvalid) {
		t.Fatalf("params of %d bytes: %v, want ErrInvalid", MaxKeysReadyParams+1, err)
	}
	if got := AppendKeysReady(nil, make([]byte, 1000)); len(got) != KeysReadyFrameLen(1000) {
		t.Fatalf("AppendKeysReady did not cut long params to the bound: %d bytes", len(got))
	}
}
