package delivery

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// lossyLink carries packets built by a Sender to a Receiver over a
// simulated network: seeded, with drops, duplicates and reordering. It plays
// the connection's part: refs of dropped (or refused) packets are reported
// lost, refs of delivered packets acknowledged, some late, some twice, some
// reported lost before their ack arrives (a spurious loss).
type lossyLink struct {
	t        *testing.T
	rng      *rand.Rand
	s        *Sender
	r        *Receiver
	max      int // MaxFramePayload
	drop     float64
	dup      float64
	spurious float64 // delivered packets also reported lost first
	tick     int
	now      time.Time
	events   []linkEvent
	frame    wire.Frame
	refs     []Ref
	buf      []byte

	sentPackets, refused int
}

type linkEvent struct {
	at   int
	kind int // evArrive, evAck, evLost
	data []byte
	refs []Ref
}

const (
	evArrive = iota
	evAck
	evLost
)

func newLossyLink(t *testing.T, seed uint64, cfg Config, drop float64) *lossyLink {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &lossyLink{
		t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		s: s, r: r, max: s.cfg.MaxFramePayload,
		drop: drop, dup: 0.02, spurious: 0.02,
		now: time.Unix(1000, 0),
	}
}

func (l *lossyLink) at(delay int, e linkEvent) {
	e.at = l.tick + delay
	l.events = append(l.events, e)
}

// step sends up to burst packets, then advances one tick (1 ms) and
// processes the events due.
func (l *lossyLink) step(burst int) {
	for range burst {
		if !l.s.HasData() {
			break
		}
		var pkt []byte
		pkt, l.refs = l.s.AppendFrames(l.buf[:0], l.max, l.now, l.refs[:0])
		if len(pkt) == 0 {
			l.t.Fatal("HasData was true but AppendFrames wrote nothing")
		}
		if len(pkt) > l.max {
			l.t.Fatalf("AppendFrames wrote %d bytes, max %d", len(pkt), l.max)
		}
		l.sentPackets++
		data := append([]byte(nil), pkt...)
		refs := append([]Ref(nil), l.refs...)
		if l.rng.Float64() < l.drop {
			l.at(5+l.rng.IntN(20), linkEvent{kind: evLost, refs: refs})
			continue
		}
		l.at(1+l.rng.IntN(8), linkEvent{kind: evArrive, data: data, refs: refs})
		if l.rng.Float64() < l.dup {
			l.at(1+l.rng.IntN(30), linkEvent{kind: evArrive, data: data, refs: refs})
		}
	}
	l.tick++
	l.now = l.now.Add(time.Millisecond)
	due := l.events[:0:0]
	rest := l.events[:0]
	for _, e := range l.events {
		if e.at <= l.tick {
			due = append(due, e)
		} else {
			rest = append(rest, e)
		}
	}
	l.events = rest
	l.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, e := range due {
		switch e.kind {
		case evLost:
			for _, r := range e.refs {
				l.s.OnLost(r)
			}
		case evAck:
			for _, r := range e.refs {
				l.s.OnAcked(r)
			}
		case evArrive:
			l.arrive(e)
		}
	}
}

// arrive hands a packet to the Receiver and schedules its ack, or its loss
// if the Receiver refused a frame (the connection does not ack it then).
func (l *lossyLink) arrive(e linkEvent) {
	full := false
	err := wire.ParseFrames(e.data, &l.frame, func(f *wire.Frame) error {
		var err error
		switch f.Type {
		case wire.FrameMessage:
			err = l.r.OnMessage(&f.Message, l.now)
		case wire.FrameFragment:
			err = l.r.OnFragment(&f.Fragment, l.now)
		default:
			l.t.Fatalf("unexpected frame %v", f.Type)
		}
		if errors.Is(err, ErrBufferFull) {
			full = true
			return nil
		}
		return err
	})
	if err != nil {
		l.t.Fatalf("tick %d: receiver: %v", l.tick, err)
	}
	if b := l.r.BufferedBytes(); b > l.r.cfg.RecvBufferBytes || b < 0 {
		l.t.Fatalf("BufferedBytes %d outside 0..%d", b, l.r.cfg.RecvBufferBytes)
	}
	if full {
		l.refused++
		l.at(10+l.rng.IntN(20), linkEvent{kind: evLost, refs: e.refs})
		return
	}
	if l.rng.Float64() < l.spurious {
		l.at(0, linkEvent{kind: evLost, refs: e.refs})
	}
	l.at(1+l.rng.IntN(10), linkEvent{kind: evAck, refs: e.refs})
	if l.rng.Float64() < 0.05 {
		l.at(20+l.rng.IntN(40), linkEvent{kind: evAck, refs: e.refs})
	}
}

// testMessage builds message i of channel ch: its number, then a pattern
// derived from both, n bytes in all (at least 12).
func testMessage(ch uint8, i uint64, n int) []byte {
	b := make([]byte, max(n, 12))
	binary.BigEndian.PutUint64(b, i)
	b[8] = ch
	binary.BigEndian.PutUint16(b[9:], uint16(len(b)))
	for j := 11; j < len(b); j++ {
		b[j] = byte(uint64(j)*31 + i*7 + uint64(ch))
	}
	return b
}

// checkMessage verifies a delivered message and returns its number.
func checkMessage(t *testing.T, ch uint8, data []byte) uint64 {
	t.Helper()
	if len(data) < 12 {
		t.Fatalf("channel %d: delivered %d bytes, too short", ch, len(data))
	}
	i := binary.BigEndian.Uint64(data)
	want := testMessage(ch, i, len(data))
	if data[8] != ch || string(data) != string(want) {
		t.Fatalf("channel %d: message %d corrupted", ch, i)
	}
	return i
}

// randSize returns a message size: mostly small, some a few fragments.
func randSize(rng *rand.Rand) int {
	if rng.IntN(40) == 0 {
		return 2000 + rng.IntN(6000)
	}
	return 12 + rng.IntN(300)
}

// runLink queues total messages on channel 0 (as fast as the queue
// accepts) and runs the link until the sender is idle, calling onMsg for
// every delivered message. The game pauses reading now and then.
func runLink(t *testing.T, l *lossyLink, total uint64, onMsg func(i uint64)) {
	t.Helper()
	var queued uint64
	for steps := 0; ; steps++ {
		if steps > 400000 {
			t.Fatalf("no completion after %d steps: queued %d, idle %v", steps, queued, l.s.Idle())
		}
		for queued < total {
			err := l.s.Queue(0, testMessage(0, queued, randSize(l.rng)), l.now)
			if errors.Is(err, ErrQueueFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			queued++
		}
		l.step(4)
		l.r.Expire(l.now)
		if steps%100 < 70 { // the game stops reading for 30 ticks in 100
			for ch, data, ok := l.r.Next(); ok; ch, data, ok = l.r.Next() {
				onMsg(checkMessage(t, ch, data))
			}
		}
		if queued == total && l.s.Idle() && len(l.events) == 0 {
			break
		}
	}
	for ch, data, ok := l.r.Next(); ok; ch, data, ok = l.r.Next() {
		onMsg(checkMessage(t, ch, data))
	}
	l.r.Next()
}

func TestLinkReliableOrdered(t *testing.T) {
	cfg := Config{Modes: []Mode{ReliableOrdered}, MaxMessageSize: 16 << 10, RecvBufferBytes: 48 << 10, SendQueueBytes: 128 << 10, Window: 64}
	l := newLossyLink(t, 1, cfg, 0.2)
	var next uint64
	runLink(t, l, 10000, func(i uint64) {
		if i != next {
			t.Fatalf("delivered message %d, want %d", i, next)
		}
		next++
	})
	if next != 10000 {
		t.Fatalf("delivered %d messages, want 10000", next)
	}
	if b := l.r.BufferedBytes(); b != 0 {
		t.Fatalf("BufferedBytes %d after everything was delivered", b)
	}
	if l.refused == 0 {
		t.Error("the receive buffer never filled: flow control was not exercised")
	}
	t.Logf("%d packets, %d refused for a full buffer", l.sentPackets, l.refused)
}

func TestLinkReliableUnordered(t *testing.T) {
	cfg := Config{Modes: []Mode{ReliableUnordered}, MaxMessageSize: 16 << 10, RecvBufferBytes: 48 << 10, SendQueueBytes: 128 << 10, Window: 64}
	l := newLossyLink(t, 2, cfg, 0.2)
	seen := make([]bool, 10000)
	n, outOfOrder := 0, 0
	var last uint64
	runLink(t, l, 10000, func(i uint64) {
		if i >= uint64(len(seen)) || seen[i] {
			t.Fatalf("message %d delivered twice or never sent", i)
		}
		if i < last {
			outOfOrder++
		}
		last = i
		seen[i] = true
		n++
	})
	if n != 10000 {
		t.Fatalf("delivered %d messages, want 10000", n)
	}
	if outOfOrder == 0 {
		t.Error("everything arrived in order: the link did not reorder")
	}
}

func TestLinkUnreliableSequenced(t *testing.T) {
	cfg := Config{Modes: []Mode{UnreliableSequenced}}
	l := newLossyLink(t, 3, cfg, 0.2)
	var last uint64
	n := 0
	runLink(t, l, 10000, func(i uint64) {
		if n > 0 && i <= last {
			t.Fatalf("message %d delivered after %d", i, last)
		}
		last = i
		n++
	})
	// Reordering makes the newest-wins rule drop much more than the 20%
	// the link loses.
	if n < 1000 || n >= 10000 {
		t.Fatalf("delivered %d of 10000 over a 20%% lossy reordering link", n)
	}
	t.Logf("delivered %d of 10000", n)
}

func TestLinkUnreliable(t *testing.T) {
	cfg := Config{Modes: []Mode{Unreliable}}
	l := newLossyLink(t, 4, cfg, 0.2)
	l.dup = 0.2 // many duplicates: at-most-once must hold
	seen := make([]bool, 10000)
	n, outOfOrder := 0, 0
	var last uint64
	runLink(t, l, 10000, func(i uint64) {
		if i >= uint64(len(seen)) || seen[i] {
			t.Fatalf("message %d delivered twice or never sent", i)
		}
		if i < last {
			outOfOrder++
		}
		last = i
		seen[i] = true
		n++
	})
	if n < 5000 || n >= 10000 {
		t.Fatalf("delivered %d of 10000 over a 20%% lossy link", n)
	}
	if outOfOrder == 0 {
		t.Error("no message was delivered out of order: the link did not reorder")
	}
	if l.r.BufferedBytes() != 0 {
		l.r.Expire(l.now.Add(time.Hour))
		if b := l.r.BufferedBytes(); b != 0 {
			t.Fatalf("BufferedBytes %d after Expire", b)
		}
	}
}

func TestLinkOneMebibyteReliable(t *testing.T) {
	for _, mode := range []Mode{ReliableOrdered, ReliableUnordered} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLossyLink(t, 5, Config{Modes: []Mode{mode}}, 0.05)
			msg := testMessage(0, 77, 1<<20)
			if err := l.s.Queue(0, msg, l.now); err != nil {
				t.Fatal(err)
			}
			var got []byte
			for steps := 0; !l.s.Idle() || len(l.events) > 0; steps++ {
				if steps > 100000 {
					t.Fatal("1 MiB message not delivered")
				}
				l.step(8)
				if ch, data, ok := l.r.Next(); ok {
					if got != nil {
						t.Fatal("delivered twice")
					}
					if ch != 0 {
						t.Fatalf("channel %d", ch)
					}
					got = append([]byte(nil), data...)
				}
			}
			if string(got) != string(msg) {
				t.Fatalf("1 MiB message: got %d bytes, not intact", len(got))
			}
			l.r.Next()
			if b := l.r.BufferedBytes(); b != 0 {
				t.Fatalf("BufferedBytes %d after delivery", b)
			}
		})
	}
}
