package linkcond

import (
	"fmt"
	"net/netip"
)

// WriteToUDPAddrPort offers b to the Send direction and returns len(b)
// whether or not the datagram is dropped, as UDP would. A datagram due now
// with nothing queued ahead of it is written to the wrapped conn at once,
// and that write's error is returned; otherwise b is copied and written by
// the scheduler at its due time. It returns an error wrapping
// ErrDatagramTooLarge for a datagram over MaxDatagramSize and one matching
// net.ErrClosed after Close. It never blocks for long and is safe for
// concurrent use; concurrent writes are serialised.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > MaxDatagramSize {
		return 0, fmt.Errorf("linkcond: write to %v: %w: %d bytes, limit %d", addr, ErrDatagramTooLarge, len(b), MaxDatagramSize)
	}
	if c.closed.Load() {
		return 0, c.closedErr("write")
	}
	now := c.now()
	d := &c.tx
	d.mu.Lock()
	immediate, wake := d.offer(now, b, addr)
	var err error
	for range immediate {
		if _, werr := c.pc.WriteToUDPAddrPort(b, addr); werr != nil {
			d.stats.WriteErrors++
			err = werr
		} else {
			d.stats.Delivered++
		}
	}
	d.mu.Unlock()
	if wake {
		signal(c.wake)
	}
	if err != nil {
		return 0, fmt.Errorf("linkcond: %w", err)
	}
	return len(b), nil
}

// flushSend writes every delayed copy that is due and returns the due time
// of the next one, if any. It holds tx.mu for one write at a time, so that
// writers are not held up behind a long batch, and writes in (due, arrival)
// order.
func (c *Conn) flushSend() (int64, bool) {
	d := &c.tx
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		next, ok := d.next()
		if !ok || next > c.now() {
			return next, ok
		}
		p := d.delay.pop()
		if _, err := c.pc.WriteToUDPAddrPort(p.buf, p.addr); err != nil {
			d.stats.WriteErrors++
		} else {
			d.stats.Delivered++
		}
		d.release(p)
		d.mu.Unlock()
		d.mu.Lock()
	}
}
