package delivery

import (
	"strconv"
	"testing"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// sendLoop is one steady-state round of the send path: queue a message on
// channel ch, write it into a packet, acknowledge the packet (or, every
// lossEvery rounds, lose it first and resend it).
type sendLoop struct {
	s         *Sender
	ch        uint8
	msg       []byte
	buf       []byte
	refs      []Ref
	round     int
	lossEvery int
}

func newSendLoop(tb testing.TB, size int, ch uint8, lossEvery int) *sendLoop {
	return &sendLoop{
		s:   mustSender(tb, Config{Modes: fourModes}),
		ch:  ch,
		msg: make([]byte, size), buf: make([]byte, 0, 2048), refs: make([]Ref, 0, 64),
		lossEvery: lossEvery,
	}
}

func (l *sendLoop) run() int {
	if err := l.s.Queue(l.ch, l.msg, t0); err != nil {
		panic(err)
	}
	n := 0
	for l.s.HasData() {
		var pkt []byte
		pkt, l.refs = l.s.AppendFrames(l.buf[:0], l.s.cfg.MaxFramePayload, t0, l.refs[:0])
		n += len(pkt)
		l.round++
		if l.lossEvery > 0 && l.round%l.lossEvery == 0 {
			for _, r := range l.refs {
				l.s.OnLost(r)
			}
			continue
		}
		for _, r := range l.refs {
			l.s.OnAcked(r)
		}
	}
	return n
}

func TestSendPathAllocatesNothing(t *testing.T) {
	for _, size := range []int{64, 1000, 1200, 5000} {
		for ch := range uint8(4) {
			for _, loss := range []int{0, 7} {
				l := newSendLoop(t, size, ch, loss)
				for range 200 {
					l.run()
				}
				if a := testing.AllocsPerRun(1000, func() { l.run() }); a != 0 {
					t.Errorf("%d-byte message on %v (loss every %d): %.2f allocations per message", size, fourModes[ch], loss, a)
				}
				if !l.s.Idle() {
					t.Errorf("%d-byte message on %v: sender not idle after the loop", size, fourModes[ch])
				}
			}
		}
	}
}

// recvLoop is one steady-state round of the receive path: frames of one
// message (or, with swap, of two messages in reverse order) arrive and the
// game takes them.
type recvLoop struct {
	r      *Receiver
	ch     uint8
	seq    uint64
	data   []byte
	frames []wire.FragmentFrame // a fragmented message's frames
	msg    wire.MessageFrame
	swap   bool
}

func newRecvLoop(tb testing.TB, size int, ch uint8, swap bool) *recvLoop {
	r, err := NewReceiver(Config{Modes: fourModes})
	if err != nil {
		tb.Fatal(err)
	}
	l := &recvLoop{r: r, ch: ch, data: make([]byte, size), swap: swap}
	fs := r.cfg.fragSize
	if size > fs {
		count := uint32((size + fs - 1) / fs)
		for i := range count {
			lo := int(i) * fs
			l.frames = append(l.frames, wire.FragmentFrame{Channel: ch, Index: i, Count: count, Data: l.data[lo:min(lo+fs, size)]})
		}
	}
	return l
}

func (l *recvLoop) deliver(seq uint64) {
	if l.frames == nil {
		l.msg = wire.MessageFrame{Channel: l.ch, Seq: seq, Data: l.data}
		if err := l.r.OnMessage(&l.msg, t0); err != nil {
			panic(err)
		}
		return
	}
	for i := range l.frames {
		l.frames[i].Seq = seq
		if err := l.r.OnFragment(&l.frames[i], t0); err != nil {
			panic(err)
		}
	}
}

func (l *recvLoop) run() int {
	n := 0
	if l.swap {
		l.deliver(l.seq + 1)
		l.deliver(l.seq)
		l.seq += 2
	} else {
		l.deliver(l.seq)
		l.seq++
	}
	for _, data, ok := l.r.Next(); ok; _, data, ok = l.r.Next() {
		n += len(data)
	}
	return n
}

func TestReceivePathAllocatesNothing(t *testing.T) {
	for _, size := range []int{64, 1000, 1200, 5000} {
		for ch := range uint8(4) {
			for _, swap := range []bool{false, true} {
				if swap && ch == 3 {
					continue // sequenced drops the older one
				}
				l := newRecvLoop(t, size, ch, swap)
				for range 200 {
					l.run()
				}
				var n int
				if a := testing.AllocsPerRun(1000, func() { n = l.run() }); a != 0 {
					t.Errorf("%d-byte message on %v (reordered %v): %.2f allocations per round", size, fourModes[ch], swap, a)
				}
				if want := size * map[bool]int{false: 1, true: 2}[swap]; n != want {
					t.Errorf("%d-byte message on %v (reordered %v): round delivered %d bytes, want %d", size, fourModes[ch], swap, n, want)
				}
			}
		}
	}
}

func BenchmarkSendPath(b *testing.B) {
	for _, size := range []int{64, 1200} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			s, err := NewSender(Config{})
			if err != nil {
				b.Fatal(err)
			}
			msg := make([]byte, size)
			buf := make([]byte, 0, 2048)
			refs := make([]Ref, 0, 64)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Queue(0, msg, t0); err != nil {
					b.Fatal(err)
				}
				for s.HasData() {
					var pkt []byte
					pkt, refs = s.AppendFrames(buf[:0], 1171, t0, refs[:0])
					_ = pkt
					for _, r := range refs {
						s.OnAcked(r)
					}
				}
			}
		})
	}
}

func BenchmarkReceivePath(b *testing.B) {
	for _, size := range []int{64, 1200} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			l := newRecvLoop(b, size, 0, false)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				l.run()
			}
		})
	}
}
