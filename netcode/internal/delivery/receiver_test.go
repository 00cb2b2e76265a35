package delivery

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

func mustReceiver(t testing.TB, cfg Config) *Receiver {
	t.Helper()
	r, err := NewReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func msgFrame(ch uint8, seq uint64, data []byte) *wire.MessageFrame {
	return &wire.MessageFrame{Channel: ch, Seq: seq, Data: data}
}

func fragFrame(ch uint8, seq uint64, index, count uint32, data []byte) *wire.FragmentFrame {
	return &wire.FragmentFrame{Channel: ch, Seq: seq, Index: index, Count: count, Data: data}
}

// frame is a MESSAGE or FRAGMENT frame for table tests.
type frame interface{}

func feed(r *Receiver, f frame) error {
	switch f := f.(type) {
	case *wire.MessageFrame:
		return r.OnMessage(f, t0)
	case *wire.FragmentFrame:
		return r.OnFragment(f, t0)
	}
	panic("not a frame")
}

type delivered struct {
	ch   uint8
	data string
}

func drain(r *Receiver) []delivered {
	var out []delivered
	for ch, data, ok := r.Next(); ok; ch, data, ok = r.Next() {
		out = append(out, delivered{ch, string(data)})
	}
	return out
}

func bytesOf(n int, b byte) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b + byte(i%7)
	}
	return s
}

// fourModes has one channel of each mode: 0 ordered, 1 unordered, 2
// unreliable, 3 sequenced.
var fourModes = []Mode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced}

func TestReceiverProtocolViolations(t *testing.T) {
	cfg := Config{Modes: fourModes, MaxMessageSize: 4096, Window: 8, RecvBufferBytes: 64 << 10}
	// maxCount for 4096 bytes is 16 (fragments of at least 256 bytes).
	b256, b300, b301 := bytesOf(256, 1), bytesOf(300, 2), bytesOf(301, 3)
	cases := []struct {
		name  string
		setup []frame
		bad   frame
	}{
		{name: "message on unknown channel", bad: msgFrame(4, 0, []byte("x"))},
		{name: "fragment on unknown channel", bad: fragFrame(4, 0, 0, 2, b256)},
		{name: "message over MaxMessageSize", bad: msgFrame(0, 0, make([]byte, 4097))},
		{name: "unreliable message over MaxMessageSize", bad: msgFrame(2, 0, make([]byte, 4097))},
		{name: "ordered seq beyond window", bad: msgFrame(0, 8, []byte("x"))},
		{name: "ordered fragment beyond window", bad: fragFrame(0, 8, 0, 2, b256)},
		{name: "unordered seq beyond window", setup: []frame{msgFrame(1, 0, []byte("a")), msgFrame(1, 1, []byte("b"))}, bad: msgFrame(1, 10, []byte("x"))},
		{name: "unordered fragment beyond window", bad: fragFrame(1, 8, 1, 2, b256)},
		{name: "fragment count above MaxMessageSize allows", bad: fragFrame(0, 0, 16, 17, b256)},
		{name: "unreliable fragment count too large", bad: fragFrame(2, 0, 0, 17, b256)},
		{name: "fragment count changes", setup: []frame{fragFrame(0, 0, 0, 4, b300)}, bad: fragFrame(0, 0, 1, 5, b300)},
		{name: "non-last fragment below MinFragmentSize", bad: fragFrame(0, 0, 0, 2, b256[:255])},
		{name: "non-last fragment sizes differ", setup: []frame{fragFrame(1, 0, 0, 4, b300)}, bad: fragFrame(1, 0, 1, 4, b301)},
		{name: "last fragment larger than the others", setup: []frame{fragFrame(2, 0, 0, 4, b300)}, bad: fragFrame(2, 0, 3, 4, b301)},
		{name: "others smaller than a last that came first", setup: []frame{fragFrame(3, 0, 3, 4, b301)}, bad: fragFrame(3, 0, 0, 4, b300)},
		{name: "fragments total above MaxMessageSize", bad: fragFrame(0, 0, 0, 15, b300)}, // 14*300+1 > 4096
		{name: "last fragment implies too much", bad: fragFrame(0, 0, 15, 16, b301)},      // 15*256+301 > 4096
		{name: "empty fragment", bad: fragFrame(0, 0, 1, 2, nil)},
		{name: "whole message for a fragmented seq", setup: []frame{fragFrame(0, 1, 0, 2, b256)}, bad: msgFrame(0, 1, []byte("x"))},
		{name: "unordered whole for a fragmented seq", setup: []frame{fragFrame(1, 1, 0, 2, b256)}, bad: msgFrame(1, 1, []byte("x"))},
		{name: "unreliable whole for a fragmented seq", setup: []frame{fragFrame(2, 1, 0, 2, b256)}, bad: msgFrame(2, 1, []byte("x"))},
		{name: "fragment for a whole held message", setup: []frame{msgFrame(0, 1, []byte("x"))}, bad: fragFrame(0, 1, 0, 2, b256)},
		{name: "index not below count", bad: fragFrame(0, 0, 2, 2, b256)},
		{name: "count below 2", bad: fragFrame(0, 0, 0, 1, b256)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustReceiver(t, cfg)
			for i, f := range tc.setup {
				if err := feed(r, f); err != nil {
					t.Fatalf("setup frame %d: %v", i, err)
				}
			}
			before := r.BufferedBytes()
			err := feed(r, tc.bad)
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("got %v, want ErrProtocol", err)
			}
			if r.BufferedBytes() != before {
				t.Fatalf("BufferedBytes %d -> %d: a refused frame was stored", before, r.BufferedBytes())
			}
		})
	}
}

func TestReceiverWindowEdge(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes, Window: 8})
	if err := r.OnMessage(msgFrame(0, 7, []byte("last in window")), t0); err != nil {
		t.Fatalf("seq next+Window-1: %v", err)
	}
	for seq := range uint64(7) {
		if err := r.OnMessage(msgFrame(0, seq, []byte{byte(seq)}), t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(drain(r)); got != 8 {
		t.Fatalf("delivered %d, want 8", got)
	}
	// The window moved: 15 is now the last seq inside it.
	if err := r.OnMessage(msgFrame(0, 15, []byte("x")), t0); err != nil {
		t.Fatalf("seq 15 after the window moved: %v", err)
	}
	if err := r.OnMessage(msgFrame(0, 16, []byte("x")), t0); !errors.Is(err, ErrProtocol) {
		t.Fatalf("seq 16: %v, want ErrProtocol", err)
	}
	// Unreliable channels have no window: any seq goes.
	if err := r.OnMessage(msgFrame(2, 1<<40, []byte("x")), t0); err != nil {
		t.Fatal(err)
	}
}

func TestReceiverOrderedReordersAndDedups(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes})
	big := bytesOf(600, 9) // seq 1, in three fragments
	steps := []frame{
		msgFrame(0, 2, []byte("two")),
		fragFrame(0, 1, 2, 3, big[512:]),
		msgFrame(0, 2, []byte("two")), // duplicate of a held message
		fragFrame(0, 1, 0, 3, big[:256]),
		fragFrame(0, 1, 0, 3, big[:256]), // duplicate fragment
		msgFrame(0, 0, []byte("zero")),
	}
	for i, f := range steps {
		if err := feed(r, f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if got := drain(r); len(got) != 1 || got[0].data != "zero" {
		t.Fatalf("before seq 1 completes: %v", got)
	}
	if err := feed(r, fragFrame(0, 1, 1, 3, big[256:512])); err != nil {
		t.Fatal(err)
	}
	got := drain(r)
	if len(got) != 2 || got[0].data != string(big) || got[1].data != "two" {
		t.Fatalf("after seq 1 completes: %d messages", len(got))
	}
	for _, f := range []frame{msgFrame(0, 0, []byte("zero")), fragFrame(0, 1, 1, 3, big[256:512]), msgFrame(0, 2, []byte("two"))} {
		if err := feed(r, f); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(r); len(got) != 0 {
		t.Fatalf("duplicates delivered: %v", got)
	}
	r.Next()
	if r.BufferedBytes() != 0 {
		t.Fatalf("BufferedBytes %d after everything was taken", r.BufferedBytes())
	}
}

func TestReceiverUnorderedDeliversOnArrivalOnce(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes, Window: 8})
	for _, seq := range []uint64{3, 0, 3, 7, 0} {
		if err := r.OnMessage(msgFrame(1, seq, []byte{byte(seq)}), t0); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(r)
	if len(got) != 3 || got[0].data != "\x03" || got[1].data != "\x00" || got[2].data != "\x07" {
		t.Fatalf("got %q", got)
	}
	// Lowest missing is 1, so 8 is inside the window and 9 is not.
	if err := r.OnMessage(msgFrame(1, 8, []byte("8")), t0); err != nil {
		t.Fatal(err)
	}
	if err := r.OnMessage(msgFrame(1, 9, []byte("9")), t0); !errors.Is(err, ErrProtocol) {
		t.Fatalf("seq 9 with 1 missing and window 8: %v", err)
	}
	for _, seq := range []uint64{1, 2, 4, 5, 6} {
		if err := r.OnMessage(msgFrame(1, seq, []byte{byte(seq)}), t0); err != nil {
			t.Fatal(err)
		}
	}
	if r.chans[1].next != 9 {
		t.Fatalf("lowest missing %d, want 9", r.chans[1].next)
	}
	if err := r.OnMessage(msgFrame(1, 16, []byte("16")), t0); err != nil {
		t.Fatalf("seq 16 with 9 missing: %v", err)
	}
}

func TestReceiverUnreliableAtMostOnce(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes, Window: 8})
	for _, seq := range []uint64{5, 5, 3, 3, 20, 5, 13, 12} {
		if err := r.OnMessage(msgFrame(2, seq, []byte{byte(seq)}), t0); err != nil {
			t.Fatal(err)
		}
	}
	// 5 and 3 once each; after 20, anything at or below 20-8 is too old
	// to tell from a duplicate and is dropped (12), 13 is inside.
	got := drain(r)
	want := []string{"\x05", "\x03", "\x14", "\x0d"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i].data != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestReceiverSequencedNewestWins(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes})
	if err := r.OnFragment(fragFrame(3, 8, 0, 2, bytesOf(300, 1)), t0); err != nil {
		t.Fatal(err)
	}
	held := r.BufferedBytes()
	for _, seq := range []uint64{5, 3, 6, 6, 9, 8} {
		if err := r.OnMessage(msgFrame(3, seq, []byte{byte(seq)}), t0); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(r)
	if len(got) != 3 || got[0].data != "\x05" || got[1].data != "\x06" || got[2].data != "\x09" {
		t.Fatalf("got %q, want 5 6 9", got)
	}
	r.Next()
	if held == 0 || r.BufferedBytes() != 0 {
		t.Fatalf("the incomplete set of seq 8 was not freed when 9 was delivered (%d -> %d)", held, r.BufferedBytes())
	}
	// Its remaining fragment no longer completes anything.
	if err := r.OnFragment(fragFrame(3, 8, 1, 2, []byte("z")), t0); err != nil {
		t.Fatal(err)
	}
	if got := drain(r); len(got) != 0 {
		t.Fatalf("stale set delivered: %d", len(got))
	}
}

// sendAll queues msg on a Sender and returns the packets it makes.
func sendAll(t *testing.T, cfg Config, ch uint8, msg []byte) (*Sender, [][]byte) {
	t.Helper()
	s := mustSender(t, cfg)
	if err := s.Queue(ch, msg, t0); err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for s.HasData() {
		pkt, refs := s.AppendFrames(nil, s.cfg.MaxFramePayload, t0, nil)
		if len(refs) != 0 && !s.chans[ch].mode.Reliable() {
			t.Fatal("unreliable data produced refs")
		}
		pkts = append(pkts, pkt)
	}
	return s, pkts
}

func deliverPacket(t *testing.T, r *Receiver, pkt []byte, now time.Time) {
	t.Helper()
	var f wire.Frame
	err := wire.ParseFrames(pkt, &f, func(f *wire.Frame) error {
		if f.Type == wire.FrameMessage {
			return r.OnMessage(&f.Message, now)
		}
		return r.OnFragment(&f.Fragment, now)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnreliableLargeMessageLostFragment(t *testing.T) {
	cfg := Config{Modes: fourModes}
	for _, ch := range []uint8{2, 3} {
		t.Run(cfg.Modes[ch].String(), func(t *testing.T) {
			s, pkts := sendAll(t, cfg, ch, bytesOf(20000, 4))
			if len(pkts) < 10 {
				t.Fatalf("%d packets for 20000 bytes", len(pkts))
			}
			if !s.Idle() || s.HasData() {
				t.Fatal("the Sender kept an unreliable message after sending it")
			}
			r := mustReceiver(t, cfg)
			for i, p := range pkts {
				if i != 3 { // fragment 3 is lost
					deliverPacket(t, r, p, t0.Add(time.Duration(i)*time.Millisecond))
				}
			}
			if got := drain(r); len(got) != 0 {
				t.Fatal("a message with a lost fragment was delivered")
			}
			if r.BufferedBytes() == 0 {
				t.Fatal("nothing buffered for the incomplete set")
			}
			r.Expire(t0.Add(cfg2s - time.Nanosecond))
			if r.BufferedBytes() == 0 {
				t.Fatal("Expire freed the set before FragmentTimeout")
			}
			r.Expire(t0.Add(cfg2s))
			if b := r.BufferedBytes(); b != 0 {
				t.Fatalf("BufferedBytes %d after Expire", b)
			}
			// The lost fragment turning up late delivers nothing.
			deliverPacket(t, r, pkts[3], t0.Add(3*time.Second))
			if got := drain(r); len(got) != 0 {
				t.Fatal("late fragment delivered an expired message")
			}
		})
	}
}

const cfg2s = 2 * time.Second

func TestReliableSetsNeverExpire(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes})
	if err := r.OnFragment(fragFrame(0, 0, 0, 2, bytesOf(300, 1)), t0); err != nil {
		t.Fatal(err)
	}
	r.Expire(t0.Add(time.Hour))
	if err := r.OnFragment(fragFrame(0, 0, 1, 2, []byte("end")), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := drain(r); len(got) != 1 || got[0].data != string(bytesOf(300, 1))+"end" {
		t.Fatal("reliable set lost to Expire")
	}
}

func TestUnreliableIncompleteSetsBounded(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes})
	for seq := range uint64(20) {
		if err := r.OnFragment(fragFrame(2, seq, 0, 2, bytesOf(300, byte(seq))), t0.Add(time.Duration(seq))); err != nil {
			t.Fatal(err)
		}
		if n := len(r.chans[2].sets); n > maxUnreliableSets {
			t.Fatalf("%d incomplete sets on one channel", n)
		}
	}
	// The oldest four were dropped; the newest completes.
	for _, seq := range []uint64{0, 19} {
		if err := r.OnFragment(fragFrame(2, seq, 1, 2, []byte{byte(seq)}), t0); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(r)
	if len(got) != 1 || got[0].data != string(bytesOf(300, 19))+"\x13" {
		t.Fatalf("got %d messages, want only seq 19", len(got))
	}
}

func TestBufferFullThenResumesAfterNext(t *testing.T) {
	for _, ch := range []uint8{0, 1, 2, 3} {
		t.Run(fourModes[ch].String(), func(t *testing.T) {
			cfg := Config{Modes: fourModes, MaxMessageSize: 4096, RecvBufferBytes: 12000}
			r := mustReceiver(t, cfg)
			var seq uint64
			var refused *wire.MessageFrame
			for ; seq < 100; seq++ {
				f := msgFrame(ch, seq, bytesOf(1000, byte(seq)))
				err := r.OnMessage(f, t0)
				if errors.Is(err, ErrBufferFull) {
					refused = f
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.BufferedBytes() > cfg.RecvBufferBytes {
					t.Fatalf("BufferedBytes %d above %d", r.BufferedBytes(), cfg.RecvBufferBytes)
				}
			}
			if refused == nil {
				t.Fatal("no ErrBufferFull while the game never called Next")
			}
			before := r.BufferedBytes()
			if err := r.OnMessage(refused, t0); !errors.Is(err, ErrBufferFull) || r.BufferedBytes() != before {
				t.Fatalf("retry without Next: %v, BufferedBytes %d -> %d", err, before, r.BufferedBytes())
			}
			// The game reads two messages; the refused one now fits.
			r.Next()
			r.Next()
			if err := r.OnMessage(refused, t0); err != nil {
				t.Fatalf("after Next: %v", err)
			}
			got := drain(r)
			if int(seq)-1 != len(got) {
				t.Fatalf("delivered %d more, want %d", len(got), seq-1)
			}
			if got[len(got)-1].data != string(refused.Data) {
				t.Fatal("the refused message was not delivered last")
			}
		})
	}
}

func TestReserveLetsTheHeadThrough(t *testing.T) {
	// Ordered channel, seq 0 missing: held messages fill the buffer, and
	// the message that fills the gap must still fit, or the channel would
	// deadlock (the held messages are acknowledged: nobody resends them).
	for _, fragmented := range []bool{false, true} {
		t.Run(fmt.Sprint("fragmented=", fragmented), func(t *testing.T) {
			cfg := Config{Modes: fourModes, MaxMessageSize: 4096, RecvBufferBytes: 12000, Window: 64}
			r := mustReceiver(t, cfg)
			seq := uint64(1)
			for ; ; seq++ {
				err := r.OnMessage(msgFrame(0, seq, bytesOf(1000, byte(seq))), t0)
				if errors.Is(err, ErrBufferFull) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if seq < 3 {
				t.Fatalf("only %d held messages fit", seq-1)
			}
			head := bytesOf(4096, 7)
			if fragmented {
				for i := range uint32(16) {
					if err := r.OnFragment(fragFrame(0, 0, i, 16, head[i*256:(i+1)*256]), t0); err != nil {
						t.Fatalf("head fragment %d: %v", i, err)
					}
				}
			} else if err := r.OnMessage(msgFrame(0, 0, head), t0); err != nil {
				t.Fatalf("head message: %v", err)
			}
			if r.BufferedBytes() > cfg.RecvBufferBytes {
				t.Fatalf("BufferedBytes %d above %d", r.BufferedBytes(), cfg.RecvBufferBytes)
			}
			got := drain(r)
			if uint64(len(got)) != seq || got[0].data != string(head) {
				t.Fatalf("delivered %d, want %d starting with the head", len(got), seq)
			}
		})
	}
}

func TestReserveHeldByOneHeadSet(t *testing.T) {
	cfg := Config{Modes: []Mode{ReliableOrdered, ReliableOrdered, Unreliable}, MaxMessageSize: 4096, RecvBufferBytes: 12000}
	r := mustReceiver(t, cfg)
	// Unreliable data fills the space outside the reserve, to the byte
	// (less than one empty message's charge is left).
	seq := uint64(0)
	for _, size := range []int{500, 0} {
		for ; ; seq++ {
			if err := r.OnMessage(msgFrame(2, seq, bytesOf(size, 1)), t0); errors.Is(err, ErrBufferFull) {
				break
			}
		}
	}
	a, b := bytesOf(4096, 1), bytesOf(4096, 2)
	if err := r.OnFragment(fragFrame(0, 0, 0, 16, a[:256]), t0); err != nil {
		t.Fatalf("first head set: %v", err)
	}
	// Another channel's head set must wait: two half-stored sets could
	// otherwise share the reserve and neither complete.
	if err := r.OnFragment(fragFrame(1, 0, 0, 16, b[:256]), t0); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("second head set: %v, want ErrBufferFull", err)
	}
	for i := uint32(1); i < 16; i++ {
		if err := r.OnFragment(fragFrame(0, 0, i, 16, a[i*256:(i+1)*256]), t0); err != nil {
			t.Fatalf("first head set, fragment %d: %v", i, err)
		}
	}
	if r.hasHolder {
		t.Fatal("the completed set still holds the reserve")
	}
	var gotA bool
	for ch, data, ok := r.Next(); ok; ch, data, ok = r.Next() {
		gotA = gotA || (ch == 0 && string(data) == string(a))
	}
	if !gotA {
		t.Fatal("first head set not delivered")
	}
	for i := range uint32(16) {
		if err := r.OnFragment(fragFrame(1, 0, i, 16, b[i*256:(i+1)*256]), t0); err != nil {
			t.Fatalf("second head set, fragment %d: %v", i, err)
		}
	}
	if got := drain(r); len(got) != 1 || got[0].data != string(b) {
		t.Fatal("second head set not delivered")
	}
}

func TestFragmentBombBounded(t *testing.T) {
	cfg := Config{Modes: fourModes} // 1 MiB messages, 8 MiB buffer
	r := mustReceiver(t, cfg)
	maxCount := uint32(r.cfg.maxCount)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	start := ms.TotalAlloc
	full := 0
	payload := bytesOf(MinFragmentSize, 5)
	for i := range 200000 {
		ch := uint8(i % 4)
		seq := uint64(i / 4 % 1024) // stays inside the reliable window
		f := fragFrame(ch, seq, uint32(i%int(maxCount-1)), maxCount, payload)
		err := r.OnFragment(f, t0.Add(time.Duration(i)*time.Microsecond))
		if errors.Is(err, ErrBufferFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
		if b := r.BufferedBytes(); b > cfg8MiB {
			t.Fatalf("frame %d: BufferedBytes %d above RecvBufferBytes", i, b)
		}
		if i%10000 == 0 {
			r.Expire(t0.Add(time.Duration(i) * time.Microsecond))
		}
	}
	runtime.ReadMemStats(&ms)
	if alloc := ms.TotalAlloc - start; alloc > 4*cfg8MiB {
		t.Fatalf("a fragment bomb made the Receiver allocate %d bytes", alloc)
	}
	if full == 0 {
		t.Fatal("the bomb never filled the buffer")
	}
	for ch := 2; ch < 4; ch++ {
		if n := len(r.chans[ch].sets); n > maxUnreliableSets {
			t.Fatalf("channel %d: %d incomplete sets", ch, n)
		}
	}
	reliable := 0
	for _, c := range r.chans[:2] {
		for _, m := range c.slots {
			if m != nil {
				reliable += m.cost
			}
		}
	}
	r.Expire(t0.Add(time.Hour))
	if r.BufferedBytes() != reliable {
		t.Fatalf("after Expire: BufferedBytes %d, reliable sets hold %d", r.BufferedBytes(), reliable)
	}
}

const cfg8MiB = 8 << 20

func TestNextDataValidUntilNextCall(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes})
	_ = r.OnMessage(msgFrame(2, 0, []byte("first")), t0)
	_ = r.OnMessage(msgFrame(2, 1, []byte("second")), t0)
	_, d1, _ := r.Next()
	if string(d1) != "first" {
		t.Fatalf("got %q", d1)
	}
	held := r.BufferedBytes()
	if held == 0 {
		t.Fatal("the message Next returned was uncharged while the caller holds it")
	}
	_, d2, _ := r.Next()
	if string(d2) != "second" || r.BufferedBytes() >= held {
		t.Fatalf("second Next: %q, BufferedBytes %d (was %d)", d2, r.BufferedBytes(), held)
	}
	if _, _, ok := r.Next(); ok || r.BufferedBytes() != 0 {
		t.Fatalf("empty Next: ok %v BufferedBytes %d", ok, r.BufferedBytes())
	}
}

func TestUnreliableLargestSeq(t *testing.T) {
	r := mustReceiver(t, Config{Modes: fourModes, Window: 8})
	for _, seq := range []uint64{1<<64 - 3, 1<<64 - 1, 1<<64 - 2, 1<<64 - 1} {
		if err := r.OnMessage(msgFrame(2, seq, []byte("x")), t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(drain(r)); got != 3 {
		t.Fatalf("delivered %d, want 3", got)
	}
}

func TestFragmentIndexBeyondKnownCount(t *testing.T) {
	// A set started with count 2 has a one-word bitset; a later fragment
	// claiming count 2000 and index 1000 must be refused, not indexed.
	for _, ch := range []uint8{0, 1, 2, 3} {
		r := mustReceiver(t, Config{Modes: fourModes})
		if err := r.OnFragment(fragFrame(ch, 0, 0, 2, bytesOf(300, 1)), t0); err != nil {
			t.Fatal(err)
		}
		if err := r.OnFragment(fragFrame(ch, 0, 1000, 2000, bytesOf(300, 1)), t0); !errors.Is(err, ErrProtocol) {
			t.Fatalf("%v: %v, want ErrProtocol", fourModes[ch], err)
		}
	}
}
