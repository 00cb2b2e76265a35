package delivery

import (
	"errors"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

var t0 = time.Unix(1000, 0)

// unit is a frame as the tests see it.
type unit struct {
	frag        bool
	ch          uint8
	seq         uint64
	index, cnt  uint32
	data        []byte
	frameLength int
}

func parseUnits(t *testing.T, pkt []byte) []unit {
	t.Helper()
	var us []unit
	var f wire.Frame
	for off := 0; off < len(pkt); {
		n, err := wire.ParseFrame(pkt[off:], &f)
		if err != nil {
			t.Fatalf("sender wrote an unparsable frame at %d: %v", off, err)
		}
		switch f.Type {
		case wire.FrameMessage:
			us = append(us, unit{ch: f.Message.Channel, seq: f.Message.Seq, data: append([]byte(nil), f.Message.Data...), frameLength: n})
		case wire.FrameFragment:
			ff := f.Fragment
			us = append(us, unit{frag: true, ch: ff.Channel, seq: ff.Seq, index: ff.Index, cnt: ff.Count, data: append([]byte(nil), ff.Data...), frameLength: n})
		default:
			t.Fatalf("sender wrote a %v frame", f.Type)
		}
		off += n
	}
	return us
}

func mustSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// flush builds one packet of at most max bytes.
func flush(t *testing.T, s *Sender, max int) ([]unit, []Ref) {
	t.Helper()
	pkt, refs := s.AppendFrames(nil, max, t0, nil)
	if len(pkt) > max {
		t.Fatalf("packet of %d bytes, max %d", len(pkt), max)
	}
	return parseUnits(t, pkt), refs
}

func TestQueueErrors(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered, Unreliable}, MaxMessageSize: 1000, SendQueueBytes: 2000})
	if err := s.Queue(2, []byte("x"), t0); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("channel 2 of 2: %v, want ErrNoChannel", err)
	}
	if err := s.Queue(0, make([]byte, 1001), t0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("1001 bytes, limit 1000: %v, want ErrTooLarge", err)
	}
	if err := s.Queue(0, make([]byte, 1000), t0); err != nil {
		t.Fatalf("1000 bytes, limit 1000: %v", err)
	}
	if s.Idle() {
		t.Fatal("Idle with a queued message")
	}
}

func TestQueueFullThenWorksAfterAcks(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered}, MaxMessageSize: 1000, SendQueueBytes: 4000})
	n := 0
	for ; n < 100; n++ {
		err := s.Queue(0, make([]byte, 500), t0)
		if errors.Is(err, ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 || n == 100 {
		t.Fatalf("queued %d messages of 500 bytes into 4000: the bound is not enforced", n)
	}
	if got, want := s.QueuedReliableBytes(), n*500; got != want {
		t.Fatalf("QueuedReliableBytes %d, want %d", got, want)
	}
	// Sending does not free anything: unacked bytes still count.
	var refs []Ref
	for s.HasData() {
		var r []Ref
		_, r = flush(t, s, 1171)
		refs = append(refs, r...)
	}
	if err := s.Queue(0, make([]byte, 500), t0); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("after sending, before acks: %v, want ErrQueueFull", err)
	}
	for _, r := range refs {
		s.OnAcked(r)
	}
	if !s.Idle() || s.QueuedReliableBytes() != 0 {
		t.Fatalf("after all acks: Idle %v, QueuedReliableBytes %d", s.Idle(), s.QueuedReliableBytes())
	}
	if err := s.Queue(0, make([]byte, 500), t0); err != nil {
		t.Fatalf("after acks: %v", err)
	}
}

func TestEmptyQueueTakesMaxMessage(t *testing.T) {
	s := mustSender(t, Config{MaxMessageSize: 4096, SendQueueBytes: 4096})
	if err := s.Queue(0, make([]byte, 4096), t0); err != nil {
		t.Fatalf("largest message into an empty queue: %v", err)
	}
	if err := s.Queue(0, nil, t0); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("second message: %v, want ErrQueueFull", err)
	}
}

func TestSenderWindow(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered, Unreliable}, Window: 4})
	for i := range 10 {
		if err := s.Queue(0, []byte{byte(i)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	us, refs := flush(t, s, 1171)
	if len(us) != 4 || len(refs) != 4 {
		t.Fatalf("window 4: sent %d units, %d refs", len(us), len(refs))
	}
	for i, u := range us {
		if u.seq != uint64(i) || refs[i] != (Ref{Channel: 0, Seq: uint64(i)}) {
			t.Fatalf("unit %d: seq %d ref %+v", i, u.seq, refs[i])
		}
	}
	if s.HasData() {
		t.Fatal("HasData with a full window and nothing lost")
	}
	// Acking seq 1..3 does not move the window: seq 0 is the oldest.
	for _, r := range refs[1:] {
		s.OnAcked(r)
	}
	if s.HasData() {
		t.Fatal("window moved although its oldest message is unacked")
	}
	// An unreliable channel has no window.
	for range 10 {
		if err := s.Queue(1, []byte("u"), t0); err != nil {
			t.Fatal(err)
		}
	}
	if us, refs := flush(t, s, 1171); len(us) != 10 || len(refs) != 0 {
		t.Fatalf("unreliable: %d units, %d refs; want 10 and none", len(us), len(refs))
	}
	s.OnAcked(refs[0])
	us, refs = flush(t, s, 1171)
	if len(us) != 4 || us[0].seq != 4 || us[3].seq != 7 {
		t.Fatalf("after acking seq 0: %+v", us)
	}
	for _, r := range refs {
		s.OnAcked(r)
	}
	us, _ = flush(t, s, 1171)
	if len(us) != 2 || us[1].seq != 9 {
		t.Fatalf("last two: %+v", us)
	}
}

func TestFragmentation(t *testing.T) {
	s := mustSender(t, Config{})
	fs := s.cfg.fragSize
	msg := testMessage(0, 1, 3*fs+17)
	if err := s.Queue(0, msg, t0); err != nil {
		t.Fatal(err)
	}
	small := testMessage(0, 2, fs) // exactly the fragment size: one MESSAGE
	if err := s.Queue(0, small, t0); err != nil {
		t.Fatal(err)
	}
	var got []byte
	var all []unit
	for s.HasData() {
		us, _ := flush(t, s, 1171)
		all = append(all, us...)
	}
	if len(all) != 5 {
		t.Fatalf("%d units, want 4 fragments and a message", len(all))
	}
	for i, u := range all[:4] {
		if !u.frag || u.index != uint32(i) || u.cnt != 4 || u.seq != 0 {
			t.Fatalf("unit %d: %+v", i, u)
		}
		if i < 3 && len(u.data) != fs {
			t.Fatalf("fragment %d carries %d bytes, want %d", i, len(u.data), fs)
		}
		if u.frameLength+FrameReserve > s.cfg.MaxFramePayload {
			t.Fatalf("fragment frame of %d bytes leaves less than FrameReserve in %d", u.frameLength, s.cfg.MaxFramePayload)
		}
		got = append(got, u.data...)
	}
	if string(got) != string(msg) {
		t.Fatal("fragments do not concatenate to the message")
	}
	if all[4].frag || string(all[4].data) != string(small) || all[4].seq != 1 {
		t.Fatalf("message of fragment size: %+v", all[4])
	}
}

func TestUnreliableFragmentsSentOnce(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{Unreliable}})
	if err := s.Queue(0, make([]byte, 10000), t0); err != nil {
		t.Fatal(err)
	}
	n := 0
	for s.HasData() {
		us, refs := flush(t, s, 1171)
		if len(refs) != 0 {
			t.Fatalf("unreliable fragments produced refs %v", refs)
		}
		n += len(us)
	}
	if n != 10 {
		t.Fatalf("%d fragments sent, want 10", n)
	}
	// Lost or acked refs of an unreliable channel name nothing.
	s.OnLost(Ref{Channel: 0, Seq: 0, Frag: 3})
	if s.HasData() || !s.Idle() {
		t.Fatal("an unreliable fragment came back after being sent")
	}
}

func TestOnLostResendsOnceUnlessAcked(t *testing.T) {
	s := mustSender(t, Config{})
	for i := range 3 {
		if err := s.Queue(0, []byte{byte(i)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	_, refs := flush(t, s, 1171)
	if len(refs) != 3 {
		t.Fatalf("%d refs", len(refs))
	}
	s.OnLost(refs[0])
	s.OnLost(refs[0]) // idempotent: one resend
	s.OnAcked(refs[1])
	s.OnLost(refs[1])                  // already acked: no resend
	s.OnLost(refs[2])                  // lost, then acked before the resend goes out
	s.OnAcked(refs[2])                 // late ack
	s.OnLost(Ref{Channel: 0, Seq: 99}) // never sent
	s.OnLost(Ref{Channel: 9, Seq: 0})  // no such channel
	us, rs := flush(t, s, 1171)
	if len(us) != 1 || us[0].seq != 0 || len(rs) != 1 || rs[0] != refs[0] {
		t.Fatalf("resent %+v refs %v, want seq 0 once", us, rs)
	}
	if s.HasData() {
		t.Fatal("more to send after the only resend")
	}
	// Lost again after the resend: resent again.
	s.OnLost(refs[0])
	if us, _ := flush(t, s, 1171); len(us) != 1 {
		t.Fatalf("second loss: %d units resent", len(us))
	}
	s.OnAcked(refs[0])
	s.OnAcked(refs[0])
	if !s.Idle() {
		t.Fatal("not idle after every unit was acked")
	}
	s.OnLost(refs[0]) // after the message is freed
	if s.HasData() {
		t.Fatal("a freed message came back")
	}
}

func TestResendsGoFirst(t *testing.T) {
	s := mustSender(t, Config{})
	for i := range 3 {
		if err := s.Queue(0, testMessage(0, uint64(i), 100), t0); err != nil {
			t.Fatal(err)
		}
	}
	_, refs := flush(t, s, 250) // two messages fit
	if len(refs) != 2 {
		t.Fatalf("%d refs", len(refs))
	}
	s.OnLost(refs[1])
	us, _ := flush(t, s, 1171)
	if len(us) != 2 || us[0].seq != 1 || us[1].seq != 2 {
		t.Fatalf("want resend of seq 1 then seq 2, got %+v", us)
	}
}

func TestRoundRobin(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered, ReliableUnordered, Unreliable}, Window: 4096})
	// Channel 0 has a large backlog queued first; channels 1 and 2 queue
	// later. Neither may wait for channel 0's backlog.
	if err := s.Queue(0, make([]byte, 50000), t0); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := s.Queue(0, testMessage(0, uint64(i), 40), t0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if err := s.Queue(1, testMessage(1, uint64(i), 40), t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Queue(2, testMessage(2, uint64(i), 40), t0); err != nil {
			t.Fatal(err)
		}
	}
	// Units per channel; the turn of a channel whose next unit does not fit
	// in what is left of a packet passes to the next channel.
	var per [3]int
	var lastUnit [3]int // packet of each channel's latest unit
	total := [3]int{200 + (50000+s.cfg.fragSize-1)/s.cfg.fragSize, 20, 20}
	for p := 0; s.HasData(); p++ {
		us, _ := flush(t, s, 1171)
		for _, u := range us {
			per[u.ch]++
			lastUnit[u.ch] = p
		}
		for ch := range 3 {
			if per[ch] < total[ch] && p-lastUnit[ch] >= 2 {
				t.Fatalf("packet %d: channel %d has data but got nothing in two packets (%v)", p, ch, per)
			}
		}
		if d := per[1] - per[2]; d > 1 || d < -1 {
			t.Fatalf("packet %d: channels 1 and 2 unequal: %v", p, per)
		}
	}
	if per != total {
		t.Fatalf("units %v, want %v", per, total)
	}
}

func TestHasDataAgreesWithAppendFrames(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered}, Window: 2})
	if s.HasData() {
		t.Fatal("HasData on a new Sender")
	}
	if pkt, refs := s.AppendFrames(nil, 1171, t0, nil); len(pkt) != 0 || len(refs) != 0 {
		t.Fatal("AppendFrames wrote something with nothing queued")
	}
	_ = s.Queue(0, []byte("a"), t0)
	if !s.HasData() {
		t.Fatal("no HasData with a message queued")
	}
	// A packet with no room writes nothing and loses nothing.
	if pkt, _ := s.AppendFrames(make([]byte, 1171), 1171, t0, nil); len(pkt) != 1171 {
		t.Fatal("AppendFrames wrote into a full packet")
	}
	if !s.HasData() {
		t.Fatal("message lost by a full packet")
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{Modes: make([]Mode, 257)},
		{Modes: []Mode{4}},
		{MaxMessageSize: -1},
		{MaxMessageSize: 1<<30 + 1},
		{MaxFramePayload: 300},   // fragments below MinFragmentSize
		{MaxFramePayload: 70000}, // above a datagram
		{MaxMessageSize: 1 << 30, SendQueueBytes: 1 << 30, RecvBufferBytes: 1 << 31}, // too many fragments
		{SendQueueBytes: 1000},
		{Window: -1},
		{Window: 1<<16 + 1},
		{FragmentTimeout: -time.Second},
		{RecvBufferBytes: 1 << 20}, // cannot hold a 1 MiB message with its bookkeeping
	}
	for i, c := range bad {
		if _, err := NewSender(c); !errors.Is(err, ErrConfig) {
			t.Errorf("config %d: NewSender: %v, want ErrConfig", i, err)
		}
		if _, err := NewReceiver(c); !errors.Is(err, ErrConfig) {
			t.Errorf("config %d: NewReceiver: %v, want ErrConfig", i, err)
		}
	}
	s := mustSender(t, Config{})
	if len(s.chans) != 1 || s.chans[0].mode != ReliableOrdered {
		t.Fatal("default Modes is not one ReliableOrdered channel")
	}
	if s.cfg.MaxMessageSize != 1<<20 || s.cfg.MaxFramePayload != 1171 || s.cfg.SendQueueBytes != 8<<20 ||
		s.cfg.Window != 1024 || s.cfg.RecvBufferBytes != 8<<20 || s.cfg.FragmentTimeout != 2*time.Second {
		t.Fatalf("defaults: %+v", s.cfg.Config)
	}
	modes := []Mode{Unreliable}
	s = mustSender(t, Config{Modes: modes})
	modes[0] = ReliableOrdered
	if s.chans[0].mode != Unreliable {
		t.Fatal("Sender aliases the caller's Modes")
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{
		ReliableOrdered: "reliable-ordered", ReliableUnordered: "reliable-unordered",
		Unreliable: "unreliable", UnreliableSequenced: "unreliable-sequenced", 9: "Mode(9)",
	} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", uint8(m), got, want)
		}
	}
	if !ReliableOrdered.Reliable() || !ReliableUnordered.Reliable() || Unreliable.Reliable() || UnreliableSequenced.Reliable() {
		t.Error("Reliable() wrong")
	}
}

// OldestUnacked names the queue time of the oldest reliable message not yet
// fully acknowledged, across channels, whether it is queued, in flight or
// lost and queued for resending; unreliable messages never count.
func TestOldestUnacked(t *testing.T) {
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered, Unreliable, ReliableUnordered}, Window: 2})
	if _, ok := s.OldestUnacked(); ok {
		t.Fatal("an empty sender has an oldest unacked message")
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	check := func(what string, want time.Time) {
		t.Helper()
		got, ok := s.OldestUnacked()
		if !ok || !got.Equal(want) {
			t.Fatalf("%s: oldest unacked %v (%t), want %v", what, got.Sub(t0), ok, want.Sub(t0))
		}
	}
	if err := s.Queue(1, []byte("u"), at(0)); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.OldestUnacked(); ok {
		t.Fatal("an unreliable message counts")
	}
	for i := 1; i <= 3; i++ { // channel 0: seq 0, 1 (window 2), then 2 waits
		if err := s.Queue(0, []byte{byte(i)}, at(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Queue(2, []byte("x"), at(4)); err != nil {
		t.Fatal(err)
	}
	check("all queued", at(1))
	_, refs := flush(t, s, 1171)
	if len(refs) != 3 {
		t.Fatalf("refs %+v", refs)
	}
	check("in flight", at(1))
	head, second := Ref{Channel: 0, Seq: 0}, Ref{Channel: 0, Seq: 1}
	s.OnLost(head)
	check("lost, queued for resending", at(1))
	s.OnAcked(second)
	check("head still unacked", at(1))
	s.OnAcked(head)
	check("head acked: the queued third message of channel 0", at(3))
	_, refs = flush(t, s, 1171) // the resend of 0/0 was pruned; 0/2 goes
	for _, r := range refs {
		s.OnAcked(r)
	}
	check("channel 0 done: channel 2's message", at(4))
	s.OnAcked(Ref{Channel: 2, Seq: 0})
	if o, ok := s.OldestUnacked(); ok {
		t.Fatalf("everything acknowledged, oldest unacked %v", o.Sub(t0))
	}
}

// TestSenderWindowRingGrows: a reliable channel's window ring starts at
// minSlots and grows, with messages in flight and a window base that moved,
// up to a Window that is not a power of two; every message stays tracked
// (acks, losses and OldestUnacked find it) and the window still stops at
// Window messages in flight (issue 13 item 7).
func TestSenderWindowRingGrows(t *testing.T) {
	const window = 100
	s := mustSender(t, Config{Modes: []Mode{ReliableOrdered}, Window: window})
	c := &s.chans[0]
	queue := func(n int, at time.Time) {
		t.Helper()
		for range n {
			if err := s.Queue(0, []byte("m"), at); err != nil {
				t.Fatal(err)
			}
		}
	}
	send := func() []Ref {
		t.Helper()
		var all []Ref
		for {
			_, refs := flush(t, s, 1171)
			if len(refs) == 0 {
				return all
			}
			all = append(all, refs...)
		}
	}
	queue(5, t0)
	refs := send()
	if len(refs) != 5 || len(c.slots) != minSlots {
		t.Fatalf("5 in flight: %d sent, ring of %d, want 5 and %d", len(refs), len(c.slots), minSlots)
	}
	// Acknowledge 0..2: the base moves to 3, then 60 more in flight grow
	// the ring twice (16, 32, 64, 100 capped at Window) past the moved base.
	for _, r := range refs[:3] {
		s.OnAcked(r)
	}
	queue(200, t0.Add(time.Second))
	refs = append(refs[3:], send()...)
	if len(refs) != window || len(c.slots) != window {
		t.Fatalf("%d in flight in a ring of %d, want %d in a ring of %d", len(refs), len(c.slots), window, window)
	}
	for i, r := range refs {
		if r.Seq != uint64(3+i) || s.lookup(r) == nil {
			t.Fatalf("in flight #%d: %+v, lookup %v", i, r, s.lookup(r))
		}
	}
	if at, ok := s.OldestUnacked(); !ok || !at.Equal(t0) {
		t.Fatalf("OldestUnacked = %v %v, want %v", at, ok, t0)
	}
	// A loss is resent; acknowledging everything, out of order, empties
	// the window and lets the rest go.
	s.OnLost(refs[50])
	if us, _ := flush(t, s, 1171); len(us) == 0 || us[0].seq != refs[50].Seq {
		t.Fatalf("resend: %+v, want seq %d first", us, refs[50].Seq)
	}
	for i := len(refs) - 1; i >= 0; i-- {
		s.OnAcked(refs[i])
	}
	if c.base != c.nextSeq {
		t.Fatalf("all acknowledged, base %d nextSeq %d", c.base, c.nextSeq)
	}
	got := 0
	for rest := send(); len(rest) > 0; rest = send() {
		got += len(rest)
		for _, r := range rest {
			s.OnAcked(r)
		}
	}
	if got != 205-3-window {
		t.Fatalf("%d sent after the window emptied, want %d", got, 205-3-window)
	}
	if !s.Idle() {
		t.Fatal("not idle with everything acknowledged")
	}
}
