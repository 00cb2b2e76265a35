package linkcond

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// readBufSize fits any UDP datagram.
const readBufSize = 1 << 16

// maxReadBackoff bounds the pause after repeated read errors.
const maxReadBackoff = 100 * time.Millisecond

// ReadFromUDPAddrPort blocks until a datagram has passed the Receive
// direction, then copies it into b (truncating, as UDP does) and returns its
// length and sender. Datagrams come out in due-time order. A read error of
// the wrapped conn is returned once, wrapped; if the wrapped conn was closed
// underneath the Conn, that error is returned from then on. After Close it
// returns an error matching net.ErrClosed. It blocks only on channels and is
// safe for concurrent use.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	d := &c.rx
	for {
		if c.closed.Load() {
			return 0, netip.AddrPort{}, c.closedErr("read")
		}
		d.mu.Lock()
		if d.ready.len() > 0 {
			p := d.ready.pop()
			k := copy(b, p.buf)
			d.release(p)
			d.stats.Delivered++
			more := d.ready.len() > 0 || d.err != nil
			d.mu.Unlock()
			if more {
				signal(c.readable) // pass the turn to another reader
			}
			return k, p.addr, nil
		}
		if err := d.err; err != nil {
			if d.sticky {
				signal(c.readable)
			} else {
				d.err = nil
			}
			d.mu.Unlock()
			return 0, netip.AddrPort{}, fmt.Errorf("linkcond: read: %w", err)
		}
		d.mu.Unlock()
		select {
		case <-c.readable:
		case <-c.done:
		}
	}
}

// readLoop reads the wrapped conn until it fails for good and offers each
// datagram to the Receive direction.
func (c *Conn) readLoop() {
	buf := make([]byte, readBufSize)
	failures := 0
	for {
		n, from, err := c.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if c.closed.Load() {
				return
			}
			permanent := errors.Is(err, net.ErrClosed)
			c.rx.mu.Lock()
			c.rx.err, c.rx.sticky = err, permanent
			c.rx.mu.Unlock()
			signal(c.readable)
			if permanent {
				return
			}
			// A transient error (e.g. ICMP port unreachable on some systems):
			// report it and keep reading, pausing so a persistent one cannot spin.
			failures++
			if !c.pause(min(time.Duration(failures)*time.Millisecond, maxReadBackoff)) {
				return
			}
			continue
		}
		failures = 0
		c.receive(buf[:n], from)
	}
}

// pause waits for d or Close and reports whether the Conn is still open.
func (c *Conn) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.done:
		return false
	}
}

// receive offers one datagram to the Receive direction.
func (c *Conn) receive(b []byte, from netip.AddrPort) {
	now := c.now()
	d := &c.rx
	d.mu.Lock()
	immediate, wake := d.offer(now, b, from)
	for range immediate {
		d.ready.push(d.hold(now, b, from))
	}
	d.mu.Unlock()
	if immediate > 0 {
		signal(c.readable)
	}
	if wake {
		signal(c.wake)
	}
}

// flushReceive moves every due copy from the delay line to the ready queue
// and returns the due time of the next one, if any.
func (c *Conn) flushReceive() (int64, bool) {
	d := &c.rx
	d.mu.Lock()
	moved := false
	now := c.now()
	next, ok := d.next()
	for ok && next <= now {
		d.ready.push(d.delay.pop())
		moved = true
		next, ok = d.next()
	}
	d.mu.Unlock()
	if moved {
		signal(c.readable)
	}
	return next, ok
}
