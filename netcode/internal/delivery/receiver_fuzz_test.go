package delivery

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// fuzzConfig makes limits easy to reach: small messages, a small window and
// a receive buffer barely above its minimum.
var fuzzConfig = Config{
	Modes:           fourModes,
	MaxMessageSize:  4096,
	MaxFramePayload: 341, // fragments of MinFragmentSize
	Window:          8,
	RecvBufferBytes: 8000,
	FragmentTimeout: 5 * time.Millisecond,
}

// accounted returns the charges of every record the Receiver holds; it
// must equal BufferedBytes.
func accounted(r *Receiver) int {
	sum := 0
	if r.out != nil {
		sum += r.out.cost
	}
	for i := range r.ready.len() {
		sum += r.ready.buf[(r.ready.head+i)&(len(r.ready.buf)-1)].cost
	}
	for _, c := range r.chans {
		for _, m := range c.slots {
			if m != nil {
				sum += m.cost
			}
		}
		for _, m := range c.sets {
			sum += m.cost
		}
	}
	return sum
}

// FuzzReceiver decodes the input as a sequence of wire frames and feeds
// MESSAGE and FRAGMENT frames to a Receiver; PING takes one message (Next),
// PADDING advances the clock 1 ms and calls Expire, KEYS_READY drains
// everything. Bytes that do not parse are skipped one at a time. The
// Receiver must never panic, return only nil, ErrBufferFull or ErrProtocol,
// keep BufferedBytes within 0..RecvBufferBytes and equal to the charges of
// what it holds, and never deliver more than MaxMessageSize bytes.
func FuzzReceiver(f *testing.F) {
	// Seeds: what real senders write, on every channel, with fragments.
	s, err := NewSender(fuzzConfig)
	if err != nil {
		f.Fatal(err)
	}
	var seed []byte
	for i, size := range []int{0, 10, 300, 600} {
		for ch := range uint8(4) {
			if err := s.Queue(ch, testMessage(ch, uint64(i), size), t0); err != nil {
				f.Fatal(err)
			}
		}
	}
	for s.HasData() {
		var refs []Ref
		seed, refs = s.AppendFrames(seed, len(seed)+341, t0, nil)
		for _, r := range refs {
			s.OnAcked(r)
		}
		seed = append(seed, byte(wire.FramePing))
	}
	f.Add(seed)
	f.Add(append(append([]byte(nil), seed[len(seed)/2:]...), seed[:len(seed)/2]...))
	f.Add(wire.AppendFragment(nil, 1, 3, 0, 16, make([]byte, 256)))
	f.Add(wire.AppendMessage(wire.AppendMessage(nil, 0, 7, []byte("x")), 0, 8, []byte("y")))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzReceiver(t, in) })
}

func fuzzReceiver(t *testing.T, in []byte) {
	{
		r, err := NewReceiver(fuzzConfig)
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		var fr wire.Frame
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrBufferFull) && !errors.Is(err, ErrProtocol) {
				t.Fatalf("unexpected error %v", err)
			}
			if b := r.BufferedBytes(); b < 0 || b > fuzzConfig.RecvBufferBytes {
				t.Fatalf("BufferedBytes %d outside 0..%d", b, fuzzConfig.RecvBufferBytes)
			}
			if a := accounted(r); a != r.BufferedBytes() {
				t.Fatalf("BufferedBytes %d, records hold %d", r.BufferedBytes(), a)
			}
		}
		next := func() bool {
			_, data, ok := r.Next()
			if len(data) > fuzzConfig.MaxMessageSize {
				t.Fatalf("delivered %d bytes", len(data))
			}
			check(nil)
			return ok
		}
		for off := 0; off < len(in); {
			n, err := wire.ParseFrame(in[off:], &fr)
			if err != nil {
				off++
				continue
			}
			off += n
			switch fr.Type {
			case wire.FrameMessage:
				check(r.OnMessage(&fr.Message, now))
			case wire.FrameFragment:
				check(r.OnFragment(&fr.Fragment, now))
			case wire.FramePing:
				next()
			case wire.FramePadding:
				now = now.Add(time.Millisecond)
				r.Expire(now)
				check(nil)
			case wire.FrameKeysReady:
				for next() {
				}
			}
		}
		for next() {
		}
		r.Expire(now.Add(time.Hour))
		check(nil)
	}
}

// TestReceiverRandomFrames runs the fuzz body on seeded random inputs drawn
// mostly from small byte values (frame types, channels, short varints), so
// that every `go test` explores frame sequences, not only the seeds.
func TestReceiverRandomFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		in := make([]byte, rng.IntN(8192))
		for j := range in {
			in[j] = byte(rng.IntN(10))
			if rng.IntN(4) == 0 {
				in[j] = byte(rng.Uint32())
			}
		}
		fuzzReceiver(t, in)
	}
}
