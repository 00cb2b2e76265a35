package wire

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzSeeds returns valid encodings of every frame type, one by one and as a
// whole payload, plus a few broken ones.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	var all []byte
	for _, s := range sampleFrames() {
		if s.frame.Type == FrameMessage && len(s.frame.Message.Data) > 2000 {
			continue // keep the corpus small
		}
		enc := appendFrame(nil, &s.frame)
		seeds = append(seeds, enc)
		all = append(all, enc...)
	}
	seeds = append(seeds, all, benchPayload(),
		[]byte{0x03, 0x01, 0x85, 0x80, 0x00, 0x82, 0x00, 'h', 'i'},                        // non-minimal varints
		[]byte{0x03, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1}, // length 2^63
		[]byte{0x04, 0, 0, 2, 2, 0},    // index = count
		[]byte{0x05, 0, 2, 0xc3, 0x28}, // reason not UTF-8
		[]byte{0x02, 1, 0, 33},         // mask length 33
		bytes.Repeat([]byte{0xff}, 12), // unknown type, overflowing varints
		append([]byte{0x01}, 0x09),     // ping then unknown
	)
	return seeds
}

func FuzzParseHeader(f *testing.F) {
	f.Add(AppendHeader(nil, Header{}))
	f.Add(AppendHeader(nil, Header{KeyPhase: true, ConnID: ConnID{1, 2, 3, 4, 5, 6, 7, 8}, PN: 0xffffffff}))
	f.Add(append(AppendHeader(nil, Header{PN: 1}), 0x01, 0x02))
	f.Add([]byte{0x16, 0xfe, 0xfd}) // a DTLS record
	f.Add([]byte{0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x80, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotPumpnet) && !errors.Is(err, ErrReservedBits) {
				t.Fatalf("ParseHeader(%x): unexpected error %v", b, err)
			}
			return
		}
		// What parses re-encodes to the same 13 bytes.
		if re := AppendHeader(nil, h); !bytes.Equal(re, b[:HeaderLen]) {
			t.Fatalf("ParseHeader(%x) = %+v, re-encoded %x", b, h, re)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		payload = payload[:len(payload):len(payload)]
		// Walk with ParseFrame, checking what each parse reports.
		var f Frame
		var types []FrameType
		var walkErr error
		for off := 0; off < len(payload); {
			n, err := ParseFrame(payload[off:], &f)
			if err != nil {
				if n != 0 {
					t.Fatalf("ParseFrame at %d: used %d bytes on error %v", off, n, err)
				}
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownFrame) {
					t.Fatalf("ParseFrame at %d: unexpected error %v", off, err)
				}
				walkErr = err
				break
			}
			if n <= 0 || n > len(payload)-off {
				t.Fatalf("ParseFrame at %d used %d of %d bytes", off, n, len(payload)-off)
			}
			checkParsed(t, &f, payload[off:off+n])
			types = append(types, f.Type)
			off += n
		}
		// ParseFrames sees the same frames and the same outcome.
		var got []FrameType
		err := ParseFrames(payload, &f, func(f *Frame) error { got = append(got, f.Type); return nil })
		if len(payload) == 0 {
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("ParseFrames(empty) = %v", err)
			}
			return
		}
		if (err == nil) != (walkErr == nil) || len(got) != len(types) {
			t.Fatalf("ParseFrames: %d frames, %v; ParseFrame walk: %d frames, %v", len(got), err, len(types), walkErr)
		}
		for i := range got {
			if got[i] != types[i] {
				t.Fatalf("frame %d: ParseFrames %v, ParseFrame %v", i, got[i], types[i])
			}
		}
	})
}

// checkParsed checks the invariants of a frame parsed from enc.
func checkParsed(t *testing.T, f *Frame, enc []byte) {
	t.Helper()
	switch f.Type {
	case FrameAck:
		if f.Ack.MaskLen > MaxAckMaskBytes {
			t.Fatalf("ack mask length %d", f.Ack.MaskLen)
		}
	case FrameFragment:
		if f.Fragment.Count < 2 || f.Fragment.Count > MaxFragmentCount || f.Fragment.Index >= f.Fragment.Count {
			t.Fatalf("fragment %d/%d", f.Fragment.Index, f.Fragment.Count)
		}
		checkAlias(t, f.Fragment.Data, enc)
	case FrameMessage:
		checkAlias(t, f.Message.Data, enc)
	case FrameClose:
		if len(f.Close.Reason) > MaxCloseReason {
			t.Fatalf("close reason of %d bytes", len(f.Close.Reason))
		}
		checkAlias(t, f.Close.Reason, enc)
	}
}

// checkAlias checks that data is the tail of enc and cannot grow into what
// follows it.
func checkAlias(t *testing.T, data, enc []byte) {
	t.Helper()
	if cap(data) != len(data) {
		t.Fatalf("parsed data has len %d cap %d", len(data), cap(data))
	}
	if len(data) > 0 && &data[len(data)-1] != &enc[len(enc)-1] {
		t.Fatal("parsed data does not end where the frame ends")
	}
}

// FuzzFrameRoundTrip parses a payload and re-appends each frame. The Append
// functions write minimal varints, so the re-encoding is never longer than
// the input; when it has the same length every varint was minimal and the
// bytes must be equal; when it is shorter the input had non-minimal varints
// (accepted, PROTOCOL.md) and the re-encoding must parse to the same frame.
func FuzzFrameRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var f, g Frame
		for off := 0; off < len(payload); {
			n, err := ParseFrame(payload[off:], &f)
			if err != nil {
				return
			}
			in := payload[off : off+n]
			re := appendFrame(nil, &f)
			if l := frameLen(&f); l != len(re) {
				t.Fatalf("%v: Len function %d, appended %d", f.Type, l, len(re))
			}
			switch {
			case len(re) > len(in):
				t.Fatalf("%v: re-encoding %x is longer than input %x", f.Type, re, in)
			case len(re) == len(in):
				if !bytes.Equal(re, in) {
					t.Fatalf("%v: re-encoding %x differs from minimal input %x", f.Type, re, in)
				}
			default:
				m, err := ParseFrame(re, &g)
				if err != nil || m != len(re) {
					t.Fatalf("%v: re-encoding %x of %x: ParseFrame = %d, %v", f.Type, re, in, m, err)
				}
				if d := frameDiff(&g, &f); d != "" {
					t.Fatalf("re-encoding %x of %x: %s", re, in, d)
				}
			}
			off += n
		}
	})
}
