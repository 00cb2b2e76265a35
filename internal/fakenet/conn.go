package fakenet

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// datagram is one queued datagram. buf comes from the Network's free list and
// goes back to it once read.
type datagram struct {
	buf  []byte
	from netip.AddrPort
}

// Conn is one bound address on a Network. It implements
// netcode.PacketConn. All methods are safe for concurrent use.
type Conn struct {
	net       *Network
	addr      netip.AddrPort
	laddr     *net.UDPAddr
	queue     chan datagram
	closed    chan struct{}
	closeOnce sync.Once
}

// AddrPort returns the address the Conn is bound to. It is safe for
// concurrent use.
func (c *Conn) AddrPort() netip.AddrPort { return c.addr }

// LocalAddr returns the bound address as a *net.UDPAddr. It is safe for
// concurrent use.
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// ReadFromUDPAddrPort blocks until a datagram arrives or the Conn is closed.
// It copies the datagram into b, truncating it if b is too short (as UDP
// does), and returns the number of bytes copied and the sender's address.
// After Close it returns an error matching net.ErrClosed. It blocks only on
// channels, so it is durably blocked inside a synctest bubble.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case <-c.closed:
		return 0, netip.AddrPort{}, c.closedErr("read")
	default:
	}
	select {
	case d := <-c.queue:
		k := copy(b, d.buf)
		c.net.recycle(d.buf)
		return k, d.from, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, c.closedErr("read")
	}
}

// WriteToUDPAddrPort copies b into the receive queue of the Conn bound to
// addr and returns len(b). It never blocks: when nothing listens on addr or
// the queue is full, the datagram is dropped and counted in Network.Stats
// with no error, as UDP would. It returns an error for an invalid address, a
// datagram over MaxDatagramSize, or a closed Conn (matching net.ErrClosed).
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, c.closedErr("write")
	default:
	}
	if err := c.net.send(c.addr, addr, b, false); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close unbinds the address, discards queued datagrams and unblocks every
// pending ReadFromUDPAddrPort. It is idempotent: later calls return nil. It
// does not block for long and is safe for concurrent use.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.net.unbind(c)
		close(c.closed)
		for {
			select {
			case d := <-c.queue:
				c.net.recycle(d.buf)
			default:
				return
			}
		}
	})
	return nil
}

func (c *Conn) closedErr(op string) error {
	return fmt.Errorf("fakenet: %s %v: %w", op, c.addr, net.ErrClosed)
}
