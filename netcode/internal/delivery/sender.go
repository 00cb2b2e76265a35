package delivery

import (
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// Ref names one reliable unit carried by a packet: a whole message (Frag 0
// of a message sent as one MESSAGE frame) or one fragment of it. The
// connection records the Refs that AppendFrames returns with the packet and
// reports each back through OnAcked or OnLost.
type Ref struct {
	// Channel is the message's channel.
	Channel uint8
	// Seq is the message's per-channel sequence number.
	Seq uint64
	// Frag is the fragment index, 0 for a whole message.
	Frag uint32
}

// Unit state flags of a reliable message (one byte per unit).
const (
	unitAcked  = 1 << 0 // acknowledged: never resent again
	unitQueued = 1 << 1 // in the resend queue
)

// outMsg is one queued or in-flight message.
type outMsg struct {
	seq   uint64
	buf   []byte // pooled: n data bytes, then (reliable) one state byte per unit
	n     int
	count uint32 // units: 1 for a MESSAGE frame, else fragments
	sent  uint32 // units sent at least once (they go out in order)
	acked uint32 // units acknowledged
	rel   bool
	at    time.Time // when Queue took it (reliable messages)
}

func (m *outMsg) state() []byte { return m.buf[m.n : m.n+int(m.count)] }

// unit returns the payload of unit i.
func (m *outMsg) unit(i uint32, fragSize int) []byte {
	if m.count == 1 {
		return m.buf[:m.n]
	}
	lo := int(i) * fragSize
	return m.buf[lo:min(lo+fragSize, m.n)]
}

// unitLen returns the length of the frame that carries unit i.
func (m *outMsg) unitLen(i uint32, fragSize int) int {
	if m.count == 1 {
		return wire.MessageFrameLen(m.seq, m.n)
	}
	return wire.FragmentFrameLen(m.seq, i, m.count, len(m.unit(i, fragSize)))
}

// appendUnit appends the frame that carries unit i.
func (m *outMsg) appendUnit(b []byte, ch uint8, i uint32, fragSize int) []byte {
	if m.count == 1 {
		return wire.AppendMessage(b, ch, m.seq, m.buf[:m.n])
	}
	return wire.AppendFragment(b, ch, m.seq, i, m.count, m.unit(i, fragSize))
}

// sendChannel is one channel's send side.
type sendChannel struct {
	mode    Mode
	queue   ring[*outMsg] // queued, not started; no sequence number yet
	cur     *outMsg       // started: some units not yet sent once
	nextSeq uint64        // sequence number of the next message started
	// Reliable channels: messages in [base, nextSeq) by seq % len(slots)
	// (see place); nil once fully acknowledged. base is the oldest not
	// fully acked.
	base  uint64
	slots []*outMsg
}

// Sender is the send side of a connection's channels: per-channel queues,
// fragmentation, and the bookkeeping of reliable units until they are
// acknowledged. It writes frames; which packet carries them, and when a
// packet counts as acknowledged or lost, is the connection's business (see
// package ackhandler).
//
// A Sender is not safe for concurrent use: the connection serialises every
// call. No method blocks. Queue, AppendFrames, OnAcked and OnLost allocate
// nothing in steady state: message buffers come from size-class pools
// bounded by SendQueueBytes.
type Sender struct {
	cfg      resolved
	chans    []sendChannel
	rr       int // channel that gets the next turn
	resend   ring[Ref]
	pool     pool
	free     []*outMsg
	freeLow  int // the fewest free records since the last Trim
	used     int // bytes charged against SendQueueBytes
	relBytes int // payload bytes of reliable messages queued or unacked
	live     int // messages queued or unacked
}

// maxFreeMsgs bounds the recycled message records a Sender or Receiver
// keeps.
const maxFreeMsgs = 1024

// NewSender returns a Sender for cfg, or an error wrapping ErrConfig.
func NewSender(cfg Config) (*Sender, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	s := &Sender{cfg: r, chans: make([]sendChannel, len(r.Modes))}
	for i, m := range r.Modes {
		s.chans[i].mode = m
	}
	s.pool.limit = r.SendQueueBytes
	return s, nil
}

// Queue copies data into channel ch's send queue. It never blocks. It
// returns ErrNoChannel or ErrTooLarge (wrapped), or ErrQueueFull when the
// message would take queued plus unacknowledged bytes beyond
// SendQueueBytes (an empty queue accepts any message up to MaxMessageSize).
// now is when the message was queued: OldestUnacked measures from it.
func (s *Sender) Queue(ch uint8, data []byte, now time.Time) error {
	if int(ch) >= len(s.chans) {
		return fmt.Errorf("%w: %d (have %d)", ErrNoChannel, ch, len(s.chans))
	}
	if len(data) > s.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), s.cfg.MaxMessageSize)
	}
	cost := len(data) + sendOverhead
	if s.used > 0 && s.used+cost > s.cfg.SendQueueBytes {
		return ErrQueueFull
	}
	c := &s.chans[ch]
	count := uint32(1)
	if len(data) > s.cfg.fragSize {
		count = uint32((len(data) + s.cfg.fragSize - 1) / s.cfg.fragSize)
	}
	m := s.newMsg()
	m.rel = c.mode.Reliable()
	m.n, m.count = len(data), count
	extra := 0
	if m.rel {
		extra = int(count)
	}
	m.buf = s.pool.get(len(data) + extra)
	copy(m.buf, data)
	if m.rel {
		clear(m.state())
		s.relBytes += len(data)
		m.at = now
	}
	s.used += cost
	s.live++
	c.queue.push(m)
	return nil
}

func (s *Sender) newMsg() *outMsg {
	if n := len(s.free); n > 0 {
		m := s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
		s.freeLow = min(s.freeLow, n-1)
		return m
	}
	return new(outMsg)
}

// Trim gives back to the garbage collector what the Sender keeps for
// reuse and did not need since the last Trim: pooled buffers and message
// records nothing took, queues that stayed small, and the window ring of
// a reliable channel with nothing in flight (back to its initial length).
// A connection calls it every few seconds: after a burst, a quiet
// connection returns to its idle size, and a busy one keeps what it uses
// (issue 13 item 7). It never blocks.
func (s *Sender) Trim() {
	s.pool.trim()
	s.free, s.freeLow = trimFree(s.free, s.freeLow)
	s.resend.trim()
	for i := range s.chans {
		c := &s.chans[i]
		c.queue.trim()
		if c.base == c.nextSeq && len(c.slots) > minSlots {
			c.slots = nil // place allocates minSlots again
		}
	}
}

// trimFree drops the low records nothing took from a free list.
func trimFree[T any](free []*T, low int) ([]*T, int) {
	n := len(free) - low
	clear(free[n:])
	if free = free[:n]; n == 0 {
		free = nil
	}
	return free, n
}

// release frees a message that is fully acked (reliable) or fully sent
// (unreliable).
func (s *Sender) release(m *outMsg) {
	s.used -= m.n + sendOverhead
	if m.rel {
		s.relBytes -= m.n
	}
	s.live--
	s.pool.put(m.buf)
	*m = outMsg{}
	if len(s.free) < maxFreeMsgs {
		s.free = append(s.free, m)
	}
}

// canStart reports whether channel c may start its next queued message.
func (s *Sender) canStart(c *sendChannel) bool {
	if c.queue.len() == 0 {
		return false
	}
	return !c.mode.Reliable() || c.nextSeq < c.base+uint64(s.cfg.Window)
}

// HasData reports whether AppendFrames would write something into an
// empty packet now: a resend, or a message its channel's window lets out.
func (s *Sender) HasData() bool {
	s.pruneResends()
	if s.resend.len() > 0 {
		return true
	}
	for i := range s.chans {
		c := &s.chans[i]
		if c.cur != nil || s.canStart(c) {
			return true
		}
	}
	return false
}

// pruneResends drops resend entries at the head of the queue whose unit
// was acknowledged after it was declared lost.
func (s *Sender) pruneResends() {
	for s.resend.len() > 0 {
		r := s.resend.front()
		m := s.lookup(r)
		if m != nil && m.state()[r.Frag]&unitAcked == 0 {
			return
		}
		s.resend.pop()
		if m != nil {
			m.state()[r.Frag] &^= unitQueued
		}
	}
}

// lookup returns the in-flight reliable message that unit r belongs to, or
// nil if r names nothing that is in flight (already fully acknowledged,
// never sent, an unreliable or unknown channel).
func (s *Sender) lookup(r Ref) *outMsg {
	if int(r.Channel) >= len(s.chans) {
		return nil
	}
	c := &s.chans[r.Channel]
	if c.slots == nil || r.Seq < c.base || r.Seq >= c.nextSeq {
		return nil
	}
	m := c.slots[r.Seq%uint64(len(c.slots))]
	if m == nil || m.seq != r.Seq || r.Frag >= m.sent {
		return nil
	}
	return m
}

// AppendFrames appends MESSAGE and FRAGMENT frames to b while they fit
// within max bytes of b (len(b) never exceeds max) and returns b and refs
// with one Ref appended per reliable unit written. Lost reliable units go
// first, oldest loss first; then new units, one per channel in turn
// (round-robin, so no channel starves another; a large message goes out
// one fragment per turn). A message of at most the fragment size (see
// Config.MaxFramePayload) goes as one MESSAGE frame; a larger one as
// FRAGMENT frames of exactly the fragment size but the last. Reliable
// channels start a message only while its sequence number is below the
// channel's oldest unacknowledged one plus Window. Unreliable units are
// written once and forgotten. It never blocks and allocates only if b or
// refs lack capacity.
func (s *Sender) AppendFrames(b []byte, max int, now time.Time, refs []Ref) ([]byte, []Ref) {
	_ = now
	fs := s.cfg.fragSize
	for s.pruneResends(); s.resend.len() > 0; s.pruneResends() {
		r := s.resend.front()
		m := s.lookup(r)
		if len(b)+m.unitLen(r.Frag, fs) > max {
			break
		}
		s.resend.pop()
		m.state()[r.Frag] &^= unitQueued
		b = m.appendUnit(b, r.Channel, r.Frag, fs)
		refs = append(refs, r)
	}
	n := len(s.chans)
	for idle := 0; idle < n && len(b) < max; {
		ch := s.rr
		s.rr++
		if s.rr == n {
			s.rr = 0
		}
		var wrote bool
		b, refs, wrote = s.appendNext(uint8(ch), b, max, refs)
		if wrote {
			idle = 0
		} else {
			idle++
		}
	}
	return b, refs
}

// appendNext writes channel ch's next new unit if it may go and fits.
func (s *Sender) appendNext(ch uint8, b []byte, max int, refs []Ref) ([]byte, []Ref, bool) {
	c := &s.chans[ch]
	fs := s.cfg.fragSize
	m := c.cur
	if m == nil {
		if !s.canStart(c) {
			return b, refs, false
		}
		m = c.queue.front()
		m.seq = c.nextSeq // for unitLen; committed below
	}
	i := m.sent
	if len(b)+m.unitLen(i, fs) > max {
		return b, refs, false
	}
	if c.cur == nil {
		c.queue.pop()
		c.nextSeq++
		c.cur = m
		if m.rel {
			s.place(c, m)
		}
	}
	b = m.appendUnit(b, ch, i, fs)
	m.sent++
	if m.rel {
		refs = append(refs, Ref{Channel: ch, Seq: m.seq, Frag: i})
	}
	if m.sent == m.count {
		c.cur = nil
		if !m.rel {
			s.release(m)
		}
	}
	return b, refs, true
}

// minSlots is the initial length of a reliable channel's window ring.
const minSlots = 16

// place puts m, just started (c.nextSeq is m.seq+1), in c's window ring.
// The ring starts at minSlots and doubles, up to Window, when the messages
// in flight outgrow it: a channel that never has many messages in flight
// never holds a Window of pointers (issue 13 item 7: 8 KiB per reliable
// channel at the default Window). Any length at least the messages in
// flight works, as they are consecutive sequence numbers.
func (s *Sender) place(c *sendChannel, m *outMsg) {
	if inFlight := c.nextSeq - c.base; inFlight > uint64(len(c.slots)) {
		n := max(len(c.slots), minSlots)
		for uint64(n) < inFlight {
			n *= 2
		}
		n = min(n, s.cfg.Window)
		slots := make([]*outMsg, n)
		for seq := c.base; seq < m.seq; seq++ {
			slots[seq%uint64(n)] = c.slots[seq%uint64(len(c.slots))]
		}
		c.slots = slots
	}
	c.slots[m.seq%uint64(len(c.slots))] = m
}

// OnAcked records that the packet carrying unit r was acknowledged. It is
// idempotent and ignores refs that name nothing in flight. When every unit
// of a message is acknowledged the message's memory is freed and the
// channel's window moves on.
func (s *Sender) OnAcked(r Ref) {
	m := s.lookup(r)
	if m == nil {
		return
	}
	st := m.state()
	if st[r.Frag]&unitAcked != 0 {
		return
	}
	st[r.Frag] |= unitAcked
	m.acked++
	if m.acked < m.count {
		return
	}
	c := &s.chans[r.Channel]
	c.slots[m.seq%uint64(len(c.slots))] = nil
	s.release(m)
	for c.base < c.nextSeq && c.slots[c.base%uint64(len(c.slots))] == nil {
		c.base++
	}
}

// OnLost records that the packet carrying unit r was declared lost: the
// unit is queued for resending unless it was acknowledged or is already
// queued. It is idempotent and ignores refs that name nothing in flight.
// A unit whose resend is still in flight when an older copy is declared
// lost is sent once more; the receiver drops the duplicate.
func (s *Sender) OnLost(r Ref) {
	m := s.lookup(r)
	if m == nil {
		return
	}
	st := m.state()
	if st[r.Frag]&(unitAcked|unitQueued) != 0 {
		return
	}
	st[r.Frag] |= unitQueued
	s.resend.push(r)
}

// OldestUnacked returns when the oldest reliable message that is not yet
// fully acknowledged (queued, partly sent, or in flight) was queued, and
// false if there is none. On a healthy connection it is at most a few round
// trips old; a reliable stream that makes no progress shows here, however
// quiet the connection is otherwise. It is O(channels) and allocates
// nothing.
func (s *Sender) OldestUnacked() (time.Time, bool) {
	var oldest time.Time
	found := false
	note := func(m *outMsg) {
		if m != nil && m.rel && (!found || m.at.Before(oldest)) {
			oldest, found = m.at, true
		}
	}
	for i := range s.chans {
		c := &s.chans[i]
		if !c.mode.Reliable() {
			continue
		}
		// Messages start in queue order, so the oldest one of a channel
		// is its oldest in-flight message (the window's base), else the
		// one being sent, else the head of its queue.
		if c.slots != nil && c.base < c.nextSeq {
			if m := c.slots[c.base%uint64(len(c.slots))]; m != nil {
				note(m)
				continue
			}
		}
		if c.cur != nil {
			note(c.cur)
			continue
		}
		if c.queue.len() > 0 {
			note(c.queue.front())
		}
	}
	return oldest, found
}

// QueuedReliableBytes returns the payload bytes of reliable messages that
// are queued or not yet fully acknowledged.
func (s *Sender) QueuedReliableBytes() int { return s.relBytes }

// Idle reports whether nothing is queued and nothing is unacknowledged
// (a graceful shutdown waits for this).
func (s *Sender) Idle() bool { return s.live == 0 }

// PooledBytesForTest returns the bytes of the buffers kept for reuse (for
// netcode's tests).
func (s *Sender) PooledBytesForTest() int { return s.pool.retained }

// FreeRecordsForTest returns the message records kept for reuse (for
// netcode's tests).
func (s *Sender) FreeRecordsForTest() int { return len(s.free) }
