package delivery

import (
	"fmt"
	"slices"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// recvChannel is one channel's receive side.
type recvChannel struct {
	mode Mode
	// Reliable modes: next is the next expected sequence number
	// (ordered) or the lowest one not yet received (unordered). Messages
	// and fragment sets in [next, next+Window) that cannot be delivered
	// yet live in slots[seq % Window] (allocated on first use).
	next  uint64
	slots []*inMsg
	// ReliableUnordered: bit seq % Window is set once seq in
	// [next, next+Window) was delivered.
	done []uint64
	// Unreliable: the highest sequence number delivered and a bit per
	// sequence number in (hi-Window, hi] that was delivered.
	hasHi bool
	hi    uint64
	seen  []uint64
	// UnreliableSequenced: the last sequence number delivered.
	hasLast bool
	last    uint64
	// Unreliable modes: incomplete fragment sets, oldest first.
	sets []*inMsg
}

// Receiver is the receive side of a connection's channels: it takes the
// MESSAGE and FRAGMENT frames of authenticated packets, drops duplicates,
// reassembles fragments, orders what must be ordered, and hands complete
// messages to the game through Next.
//
// Memory is charged against Config.RecvBufferBytes before anything is
// stored, at what it really costs: a whole message the capacity of the
// pooled buffer that holds it (at most a quarter above its length) plus 192
// bytes; a fragment set 192 bytes plus one bit per declared fragment
// (rounded up to 8 bytes) when it starts; each stored fragment its buffer's
// capacity plus 64 bytes. Declared counts and sizes are checked against
// MaxMessageSize before any allocation, and storage grows with the bytes
// actually received, never from a declared total. BufferedBytes never
// exceeds RecvBufferBytes. Not charged: the per-channel tables sized by the
// Config (a reliable channel's Window pointers once it first stores out of
// order, Window-bit sets), the buffer Next assembles fragmented messages
// into (at most MaxMessageSize, kept for reuse), and freed buffers kept
// for reuse (at most RecvBufferBytes) with up to 1024 freed records.
//
// Flow control and progress. A frame that does not fit is refused with
// ErrBufferFull and nothing of it is stored; the connection then does not
// acknowledge the packet, so a reliable sender resends it later. To make
// sure a full buffer cannot deadlock a reliable channel (messages held
// behind a gap while the message that fills the gap is refused, or several
// half-received fragment sets waiting for each other), the last
// MaxMessageSize (plus bookkeeping) of the buffer is reserved for the head
// of a reliable channel: the next expected message (ordered) or the lowest
// missing one (unordered), and only for one head fragment set at a time
// until it completes. Everything else fits in the rest. Since a correct
// sender resends the head until it is acknowledged, the head always
// completes once the game drains what is deliverable.
//
// Reliable fragment sets never expire: a correct sender completes them,
// and a peer that does not can only stall its own connection, within
// RecvBufferBytes. Incomplete sets of unreliable channels are freed by
// Expire after FragmentTimeout, and at most 16 per channel exist (the
// oldest is dropped when a new one starts).
//
// A Receiver is not safe for concurrent use: the connection serialises
// every call. No method blocks. OnMessage and Next allocate nothing in
// steady state.
type Receiver struct {
	cfg       resolved
	chans     []recvChannel
	ready     ring[*inMsg]
	out       *inMsg // returned by Next; freed at the next call
	scratch   []byte // fragmented messages are assembled here by Next
	assembled bool   // Next used scratch since the last Trim
	pool      pool
	free      []*inMsg
	freeLow   int // the fewest free records since the last Trim
	buffered  int
	unrelSets int // incomplete unreliable sets, all channels

	hasHolder bool // a reliable head set is using the reserve
	holderCh  uint8
	holderSeq uint64
}

// NewReceiver returns a Receiver for cfg, or an error wrapping ErrConfig.
func NewReceiver(cfg Config) (*Receiver, error) {
	rc, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	r := &Receiver{cfg: rc, chans: make([]recvChannel, len(rc.Modes))}
	words := (rc.Window + 63) / 64
	for i, m := range rc.Modes {
		c := &r.chans[i]
		c.mode = m
		switch m {
		case ReliableUnordered:
			c.done = make([]uint64, words)
		case Unreliable:
			c.seen = make([]uint64, words)
		}
	}
	r.pool.limit = rc.RecvBufferBytes
	return r, nil
}

// BufferedBytes returns the bytes charged against RecvBufferBytes: stored
// messages not yet taken by Next (including the one Next returned last),
// and fragment sets being reassembled.
func (r *Receiver) BufferedBytes() int { return r.buffered }

func bitGet(b []uint64, i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }
func bitSet(b []uint64, i uint64)      { b[i/64] |= 1 << (i % 64) }
func bitClear(b []uint64, i uint64)    { b[i/64] &^= 1 << (i % 64) }

func (r *Receiver) newMsg() *inMsg {
	if n := len(r.free); n > 0 {
		m := r.free[n-1]
		r.free[n-1] = nil
		r.free = r.free[:n-1]
		r.freeLow = min(r.freeLow, n-1)
		return m
	}
	return new(inMsg)
}

// Trim gives back to the garbage collector what the Receiver keeps for
// reuse and did not need since the last Trim: pooled buffers and records
// nothing took, the assembly buffer if Next did not use it, a ready
// queue that stayed small, and the window table of a channel that holds
// nothing. A connection calls it every few seconds (see Sender.Trim). It
// never blocks.
func (r *Receiver) Trim() {
	r.pool.trim()
	r.free, r.freeLow = trimFree(r.free, r.freeLow)
	if !r.assembled {
		r.scratch = nil
	}
	r.assembled = false
	r.ready.trim()
	for i := range r.chans {
		c := &r.chans[i]
		if c.slots != nil && !slices.ContainsFunc(c.slots, func(m *inMsg) bool { return m != nil }) {
			c.slots = nil // setSlot allocates it again on the next gap
		}
	}
}

// freeMsg uncharges m and returns its buffers to the pool.
func (r *Receiver) freeMsg(m *inMsg) {
	r.buffered -= m.cost
	r.pool.put(m.buf)
	for i := range m.parts {
		r.pool.put(m.parts[i].buf)
		m.parts[i] = part{}
	}
	have, parts := m.have[:0], m.parts[:0]
	if cap(parts) > 16 {
		parts = nil // do not keep large tables in idle records
	}
	if cap(have) > 8 {
		have = nil
	}
	*m = inMsg{have: have, parts: parts}
	if len(r.free) < maxFreeMsgs {
		r.free = append(r.free, m)
	}
}

// admit charges cost if it fits. head says the frame belongs to the head of
// a reliable channel, which may use the reserve (see Receiver); set says it
// is a fragment, whose set then holds the reserve until it completes.
func (r *Receiver) admit(cost int, head, set bool, ch uint8, seq uint64) bool {
	limit := r.cfg.RecvBufferBytes
	if r.buffered+cost > limit-r.cfg.reserve {
		if !head || r.buffered+cost > limit {
			return false
		}
		if r.hasHolder && (r.holderCh != ch || r.holderSeq != seq) {
			return false
		}
		if set {
			r.hasHolder, r.holderCh, r.holderSeq = true, ch, seq
		}
	}
	r.buffered += cost
	return true
}

// checkWindow reports a reliable sequence number at or beyond next+Window.
//
// A correct sender cannot send one. It starts message seq only while seq <
// base+Window, where base is its oldest message not fully acknowledged.
// Every message below base was fully acknowledged; a unit is acknowledged
// only in a packet the receiver processed without ErrBufferFull, that is,
// only once the receiver stored it (or had it already). So every message
// below base was completely received, and the receiver's next (the first
// message not completely received in order, or the lowest one missing) is
// at least base. Hence seq < base+Window <= next+Window. Resends are of
// messages already started, so the same bound holds.
func (r *Receiver) checkWindow(c *recvChannel, ch uint8, seq uint64) error {
	if seq-c.next >= uint64(r.cfg.Window) {
		return fmt.Errorf("%w: channel %d seq %d beyond the window [%d, %d)",
			ErrProtocol, ch, seq, c.next, c.next+uint64(r.cfg.Window))
	}
	return nil
}

func (r *Receiver) slot(c *recvChannel, seq uint64) *inMsg {
	if c.slots == nil {
		return nil
	}
	return c.slots[seq%uint64(len(c.slots))]
}

func (r *Receiver) setSlot(c *recvChannel, seq uint64, m *inMsg) {
	if c.slots == nil {
		c.slots = make([]*inMsg, r.cfg.Window)
	}
	c.slots[seq%uint64(len(c.slots))] = m
}

// OnMessage takes a MESSAGE frame. It returns nil when the message was
// stored or dropped as a duplicate (or, on unreliable channels, as stale),
// ErrBufferFull when it does not fit (nothing stored), or an error wrapping
// ErrProtocol. It copies what it keeps; f may be reused after the call.
func (r *Receiver) OnMessage(f *wire.MessageFrame, now time.Time) error {
	_ = now
	if int(f.Channel) >= len(r.chans) {
		return fmt.Errorf("%w: message on channel %d, have %d", ErrProtocol, f.Channel, len(r.chans))
	}
	if len(f.Data) > r.cfg.MaxMessageSize {
		return fmt.Errorf("%w: channel %d seq %d: %d-byte message above MaxMessageSize %d",
			ErrProtocol, f.Channel, f.Seq, len(f.Data), r.cfg.MaxMessageSize)
	}
	c := &r.chans[f.Channel]
	seq := f.Seq
	cost := bufCharge(len(f.Data)) + recvMsgOverhead
	switch c.mode {
	case ReliableOrdered, ReliableUnordered:
		if seq < c.next {
			return nil
		}
		if err := r.checkWindow(c, f.Channel, seq); err != nil {
			return err
		}
		if c.mode == ReliableUnordered && bitGet(c.done, seq%uint64(r.cfg.Window)) {
			return nil
		}
		if old := r.slot(c, seq); old != nil {
			if old.frag {
				return fmt.Errorf("%w: channel %d seq %d: whole message for a fragmented one", ErrProtocol, f.Channel, seq)
			}
			return nil
		}
		if !r.admit(cost, seq == c.next, false, f.Channel, seq) {
			return ErrBufferFull
		}
		m := r.storeWhole(f, cost)
		if c.mode == ReliableUnordered {
			r.ready.push(m)
			r.markDone(c, seq)
		} else if seq == c.next {
			r.ready.push(m)
			c.next++
			r.drainOrdered(c)
		} else {
			r.setSlot(c, seq, m)
		}
	default:
		if !r.unreliableFresh(c, seq) {
			return nil
		}
		if r.findSet(c, seq) >= 0 {
			return fmt.Errorf("%w: channel %d seq %d: whole message for a fragmented one", ErrProtocol, f.Channel, seq)
		}
		if !r.admit(cost, false, false, f.Channel, seq) {
			return ErrBufferFull
		}
		r.ready.push(r.storeWhole(f, cost))
		r.markUnreliable(c, seq)
	}
	return nil
}

func (r *Receiver) storeWhole(f *wire.MessageFrame, cost int) *inMsg {
	m := r.newMsg()
	m.ch, m.seq, m.cost = f.Channel, f.Seq, cost
	m.buf = r.pool.get(len(f.Data))
	copy(m.buf, f.Data)
	return m
}

// drainOrdered moves the complete messages at the head of ordered channel c
// to the ready queue.
func (r *Receiver) drainOrdered(c *recvChannel) {
	for c.slots != nil {
		i := c.next % uint64(len(c.slots))
		m := c.slots[i]
		if m == nil || !m.complete() {
			return
		}
		c.slots[i] = nil
		r.ready.push(m)
		c.next++
	}
}

// markDone records that seq of unordered channel c was delivered and moves
// next past the delivered prefix.
func (r *Receiver) markDone(c *recvChannel, seq uint64) {
	w := uint64(r.cfg.Window)
	bitSet(c.done, seq%w)
	for bitGet(c.done, c.next%w) {
		bitClear(c.done, c.next%w)
		c.next++
	}
}

// unreliableFresh reports whether seq on an unreliable channel may still be
// delivered: not delivered already, not older than the newest delivered
// (sequenced), and not so old that it could be a forgotten duplicate
// (more than Window below the highest delivered).
func (r *Receiver) unreliableFresh(c *recvChannel, seq uint64) bool {
	if c.mode == UnreliableSequenced {
		return !c.hasLast || seq > c.last
	}
	if !c.hasHi || seq > c.hi {
		return true
	}
	w := uint64(r.cfg.Window)
	return c.hi-seq < w && !bitGet(c.seen, seq%w)
}

// markUnreliable records the delivery of seq on an unreliable channel and
// frees the incomplete sets that can no longer be delivered.
func (r *Receiver) markUnreliable(c *recvChannel, seq uint64) {
	if c.mode == UnreliableSequenced {
		c.hasLast, c.last = true, seq
	} else {
		w := uint64(r.cfg.Window)
		switch {
		case !c.hasHi:
			c.hasHi, c.hi = true, seq
		case seq > c.hi && seq-c.hi >= w:
			clear(c.seen)
			c.hi = seq
		case seq > c.hi:
			// Counted, not "s <= seq": seq may be the largest uint64.
			for d := range seq - c.hi {
				bitClear(c.seen, (c.hi+1+d)%w)
			}
			c.hi = seq
		}
		bitSet(c.seen, seq%w)
	}
	keep := c.sets[:0]
	for _, m := range c.sets {
		if r.unreliableFresh(c, m.seq) {
			keep = append(keep, m)
		} else {
			r.freeMsg(m)
			r.unrelSets--
		}
	}
	clear(c.sets[len(keep):])
	c.sets = keep
}

func (r *Receiver) findSet(c *recvChannel, seq uint64) int {
	for i, m := range c.sets {
		if m.seq == seq {
			return i
		}
	}
	return -1
}

// dropSet frees incomplete unreliable set i of channel c.
func (r *Receiver) dropSet(c *recvChannel, i int) {
	r.freeMsg(c.sets[i])
	copy(c.sets[i:], c.sets[i+1:])
	c.sets[len(c.sets)-1] = nil
	c.sets = c.sets[:len(c.sets)-1]
	r.unrelSets--
}

// OnFragment takes a FRAGMENT frame. It returns nil when the fragment was
// stored or dropped as a duplicate (or stale), ErrBufferFull when it does
// not fit (nothing stored), or an error wrapping ErrProtocol. It copies
// what it keeps; f may be reused after the call. now starts the expiry
// clock of a new unreliable set.
func (r *Receiver) OnFragment(f *wire.FragmentFrame, now time.Time) error {
	if int(f.Channel) >= len(r.chans) {
		return fmt.Errorf("%w: fragment on channel %d, have %d", ErrProtocol, f.Channel, len(r.chans))
	}
	if f.Count < 2 || f.Index >= f.Count {
		// The parser rejects these; a hand-built frame must not index out
		// of range.
		return fmt.Errorf("%w: channel %d seq %d: fragment %d of %d", ErrProtocol, f.Channel, f.Seq, f.Index, f.Count)
	}
	c := &r.chans[f.Channel]
	if c.mode.Reliable() {
		return r.reliableFragment(c, f, now)
	}
	return r.unreliableFragment(c, f, now)
}

func (r *Receiver) reliableFragment(c *recvChannel, f *wire.FragmentFrame, now time.Time) error {
	seq := f.Seq
	if seq < c.next {
		return nil
	}
	if err := r.checkWindow(c, f.Channel, seq); err != nil {
		return err
	}
	if c.mode == ReliableUnordered && bitGet(c.done, seq%uint64(r.cfg.Window)) {
		return nil
	}
	m := r.slot(c, seq)
	if m != nil {
		if !m.frag {
			return fmt.Errorf("%w: channel %d seq %d: fragment of a whole message", ErrProtocol, f.Channel, seq)
		}
		if m.complete() {
			return nil
		}
	}
	// Checked before the duplicate test: f.Index is only known to fit m's
	// bitset once f.Count is known to match m's.
	if err := r.checkFragment(m, f); err != nil {
		return err
	}
	if m != nil && m.hasFrag(f.Index) {
		return nil
	}
	cost := bufCharge(len(f.Data)) + recvFragOverhead
	charge := cost
	if m == nil {
		charge += setCharge(int(f.Count))
	}
	if !r.admit(charge, seq == c.next, true, f.Channel, seq) {
		return ErrBufferFull
	}
	if m == nil {
		m = r.newSet(f, now)
		r.setSlot(c, seq, m)
	}
	r.addFragment(m, f, cost)
	if !m.complete() {
		return nil
	}
	if r.hasHolder && r.holderCh == f.Channel && r.holderSeq == seq {
		r.hasHolder = false
	}
	if c.mode == ReliableUnordered {
		r.setSlot(c, seq, nil)
		r.ready.push(m)
		r.markDone(c, seq)
	} else if seq == c.next {
		r.drainOrdered(c)
	}
	return nil
}

func (r *Receiver) unreliableFragment(c *recvChannel, f *wire.FragmentFrame, now time.Time) error {
	seq := f.Seq
	i := r.findSet(c, seq)
	var m *inMsg
	if i >= 0 {
		m = c.sets[i]
	} else if !r.unreliableFresh(c, seq) {
		return nil
	}
	if err := r.checkFragment(m, f); err != nil {
		return err
	}
	if m != nil && m.hasFrag(f.Index) {
		return nil
	}
	cost := bufCharge(len(f.Data)) + recvFragOverhead
	charge := cost
	if m == nil {
		charge += setCharge(int(f.Count))
		if len(c.sets) == maxUnreliableSets {
			r.dropSet(c, 0)
		}
	}
	if !r.admit(charge, false, true, f.Channel, seq) {
		return ErrBufferFull
	}
	if m == nil {
		m = r.newSet(f, now)
		if c.sets == nil {
			c.sets = make([]*inMsg, 0, maxUnreliableSets)
		}
		c.sets = append(c.sets, m)
		r.unrelSets++
		i = len(c.sets) - 1
	}
	r.addFragment(m, f, cost)
	if !m.complete() {
		return nil
	}
	copy(c.sets[i:], c.sets[i+1:])
	c.sets[len(c.sets)-1] = nil
	c.sets = c.sets[:len(c.sets)-1]
	r.unrelSets--
	r.ready.push(m)
	r.markUnreliable(c, seq)
	return nil
}

// Expire frees the incomplete fragment sets of unreliable channels whose
// first fragment arrived FragmentTimeout or more before now. Their
// messages are never delivered.
func (r *Receiver) Expire(now time.Time) {
	if r.unrelSets == 0 {
		return
	}
	for ci := range r.chans {
		c := &r.chans[ci]
		for i := 0; i < len(c.sets); {
			if now.Sub(c.sets[i].started) >= r.cfg.FragmentTimeout {
				r.dropSet(c, i)
			} else {
				i++
			}
		}
	}
}

// Next returns the next deliverable message and its channel, or ok false
// when there is none. data is valid until the next call of Next; the
// message's memory is released then.
func (r *Receiver) Next() (ch uint8, data []byte, ok bool) {
	if r.out != nil {
		r.freeMsg(r.out)
		r.out = nil
	}
	if r.ready.len() == 0 {
		return 0, nil, false
	}
	m := r.ready.pop()
	ch = m.ch
	if !m.frag {
		r.out = m
		return ch, m.buf, true
	}
	r.scratch = m.assemble(r.scratch)
	r.assembled = true
	r.freeMsg(m)
	return ch, r.scratch, true
}

// PooledBytesForTest returns the bytes of the buffers kept for reuse (for
// netcode's tests).
func (r *Receiver) PooledBytesForTest() int { return r.pool.retained }

// FreeRecordsForTest returns the message records kept for reuse (for
// netcode's tests).
func (r *Receiver) FreeRecordsForTest() int { return len(r.free) }
