package linkcond

import (
	"net/netip"
	"sync"
)

// Hold limits of one direction. A real path holds any number of packets in
// flight; the conditioner bounds its memory instead. Datagrams offered past
// the limits are dropped and counted in DroppedQueue.
const (
	maxHeldPackets = 1 << 16
	maxHeldBytes   = 32 << 20
)

// direction is the state of one way through a Conn. mu guards everything.
type direction struct {
	mu    sync.Mutex
	cfg   Direction // defaults applied
	model model
	delay delayLine
	ready fifo // Receive only: copies due, waiting for ReadFromUDPAddrPort
	seq   uint64
	held  int // copies in delay and ready
	bytes int // their total size
	free  freeList
	stats DirectionStats

	// Receive only: err is returned by the next ReadFromUDPAddrPort once no
	// datagram is ready; sticky keeps it there (the underlying conn is gone).
	err    error
	sticky bool
}

// offer runs the model on datagram b to or from addr, offered at now, and
// puts the copies that must wait into the delay line. It returns how many
// copies are due now and may be handed on at once (no due copy waits in the
// delay line, so they overtake nothing), and whether a queued copy became the
// earliest, so the scheduler must re-arm its timer. d.mu must be held.
func (d *direction) offer(now int64, b []byte, addr netip.AddrPort) (immediate int, wake bool) {
	d.stats.Packets++
	if d.held >= maxHeldPackets || d.bytes+len(b) > maxHeldBytes {
		d.stats.DroppedQueue++
		return 0, false
	}
	v := d.model.decide(&d.cfg, now, len(b))
	switch v.drop {
	case dropLoss:
		d.stats.DroppedLoss++
		return 0, false
	case dropBurst:
		d.stats.DroppedBurst++
		return 0, false
	case dropQueue:
		d.stats.DroppedQueue++
		return 0, false
	}
	d.stats.Passed++
	d.stats.Duplicated += uint64(v.copies - 1)
	if v.reordered {
		d.stats.Reordered++
	}
	for _, due := range v.due[:v.copies] {
		if due <= now && (d.delay.len() == 0 || d.delay.peek().due > now) {
			immediate++ // nothing due is waiting: it overtakes nothing
			continue
		}
		if d.delay.push(d.hold(due, b, addr)) {
			wake = true
		}
	}
	return immediate, wake
}

// hold copies b into a recycled buffer and counts it as held.
func (d *direction) hold(due int64, b []byte, addr netip.AddrPort) packet {
	buf := d.free.get(len(b))
	copy(buf, b)
	d.seq++
	d.held++
	d.bytes += len(b)
	return packet{due: due, seq: d.seq, addr: addr, buf: buf}
}

// release recycles p's buffer and stops counting it as held.
func (d *direction) release(p packet) {
	d.held--
	d.bytes -= len(p.buf)
	d.free.put(p.buf)
}

// next returns the due time of the earliest delayed copy, if any. d.mu must
// be held.
func (d *direction) next() (int64, bool) {
	if d.delay.len() == 0 {
		return 0, false
	}
	return d.delay.peek().due, true
}

// discard drops every held copy. d.mu must be held.
func (d *direction) discard() {
	for d.delay.len() > 0 {
		d.release(d.delay.pop())
	}
	for d.ready.len() > 0 {
		d.release(d.ready.pop())
	}
}

// snapshot returns the counters with Pending filled in. d.mu must be held.
func (d *direction) snapshot() DirectionStats {
	s := d.stats
	s.Pending = d.held
	return s
}
