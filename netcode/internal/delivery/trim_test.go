package delivery

import (
	"testing"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// TestSenderTrimAfterBurst: what a burst left pooled (buffers, records,
// the grown window ring and queues) goes back to the garbage collector
// after two Trims of a quiet Sender; a Sender in steady use keeps what it
// uses, and allocates nothing, with a Trim every round (issue 13 item 7).
func TestSenderTrimAfterBurst(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered}})
	cycle := func(n int) {
		t.Helper()
		for range n {
			if err := s.Queue(0, make([]byte, 100), t0); err != nil {
				t.Fatal(err)
			}
		}
		var refs []Ref
		for s.HasData() {
			var r []Ref
			_, r = s.AppendFrames(nil, 1171, t0, nil)
			refs = append(refs, r...)
		}
		for _, r := range refs {
			s.OnAcked(r)
		}
	}
	cycle(500)
	c := &s.chans[0]
	if s.pool.retained == 0 || len(s.free) == 0 || len(c.slots) <= minSlots || len(c.queue.buf) <= 8 {
		t.Fatalf("after the burst: %d bytes pooled, %d records, ring %d, queue %d: nothing to trim", s.pool.retained, len(s.free), len(c.slots), len(c.queue.buf))
	}
	s.Trim() // the burst's gets found the pool empty: the next period decides
	s.Trim()
	if s.pool.retained != 0 || s.free != nil || c.slots != nil || c.queue.buf != nil {
		t.Fatalf("after two quiet Trims: %d bytes pooled, %d records, ring %d, queue %d", s.pool.retained, len(s.free), len(c.slots), len(c.queue.buf))
	}
	if !s.Idle() {
		t.Fatal("not idle")
	}
	// Steady use: 10 messages a round, a Trim every round.
	for range 3 {
		cycle(10)
		s.Trim()
	}
	if allocs := testing.AllocsPerRun(100, func() {
		l := loopCycle{s: s}
		l.run(10)
		s.Trim()
	}); allocs != 0 {
		t.Fatalf("steady rounds with a Trim each: %.1f allocations per round, want 0", allocs)
	}
	if s.pool.retained == 0 {
		t.Fatal("a Sender in use kept no buffer")
	}
}

// loopCycle is a round of cycle without allocating its own slices.
type loopCycle struct {
	s    *Sender
	buf  [2048]byte
	msg  [100]byte
	refs [64]Ref
}

func (l *loopCycle) run(n int) {
	for range n {
		if err := l.s.Queue(0, l.msg[:], t0); err != nil {
			panic(err)
		}
	}
	for l.s.HasData() {
		_, refs := l.s.AppendFrames(l.buf[:0], 1171, t0, l.refs[:0])
		for _, r := range refs {
			l.s.OnAcked(r)
		}
	}
}

// TestReceiverTrimAfterBurst: a receiver's pooled buffers and records, its
// assembly buffer and the window table a gap allocated go back after two
// quiet Trims (issue 13 item 7).
func TestReceiverTrimAfterBurst(t *testing.T) {
	r, err := NewReceiver(Config{Modes: []Mode{ReliableOrdered}, MaxFramePayload: 500})
	if err != nil {
		t.Fatal(err)
	}
	// Out of order (seq 1..199 before 0: the window table), then 0.
	for seq := uint64(1); seq < 200; seq++ {
		if err := r.OnMessage(&wire.MessageFrame{Channel: 0, Seq: seq, Data: make([]byte, 300)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.OnMessage(&wire.MessageFrame{Channel: 0, Seq: 0, Data: make([]byte, 300)}, t0); err != nil {
		t.Fatal(err)
	}
	// A fragmented message (the assembly buffer).
	for i := range uint32(3) {
		if err := r.OnFragment(&wire.FragmentFrame{Channel: 0, Seq: 200, Index: i, Count: 3, Data: make([]byte, 500)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for {
		if _, _, ok := r.Next(); !ok {
			break
		}
		got++
	}
	if got != 201 {
		t.Fatalf("%d messages delivered, want 201", got)
	}
	c := &r.chans[0]
	if r.pool.retained == 0 || len(r.free) == 0 || r.scratch == nil || c.slots == nil {
		t.Fatalf("after the burst: %d bytes pooled, %d records, scratch %d, slots %d: nothing to trim", r.pool.retained, len(r.free), len(r.scratch), len(c.slots))
	}
	r.Trim()
	r.Trim()
	// The last message Next returned is freed at the next call (done
	// above): nothing is buffered.
	if r.pool.retained != 0 || r.free != nil || r.scratch != nil || c.slots != nil || r.ready.buf != nil {
		t.Fatalf("after two quiet Trims: %d bytes pooled, %d records, scratch %d, slots %d, ready %d", r.pool.retained, len(r.free), len(r.scratch), len(c.slots), len(r.ready.buf))
	}
}
