package fakenet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// MaxDatagramSize is the largest datagram fakenet carries: the UDP payload
// limit over IPv4 (65535 - 20 - 8 bytes).
const MaxDatagramSize = 65507

// DefaultQueueLen is the receive queue length, in datagrams, of a Conn made
// by [Network.Listen].
const DefaultQueueLen = 1024

const (
	firstEphemeralPort = 49152
	numEphemeralPorts  = 65536 - firstEphemeralPort
)

// Errors returned by fakenet, wrapped with detail; match them with errors.Is.
// A Conn used after Close returns an error matching net.ErrClosed instead.
var (
	ErrAddrInUse        = errors.New("fakenet: address already in use")
	ErrNoFreePort       = errors.New("fakenet: no free port")
	ErrInvalidAddr      = errors.New("fakenet: invalid address")
	ErrDatagramTooLarge = errors.New("fakenet: datagram too large")
)

// Stats counts datagrams across a whole Network since New.
type Stats struct {
	// Sent counts datagrams accepted by WriteToUDPAddrPort or Inject,
	// whatever became of them. Calls that returned an error are not counted.
	Sent uint64
	// Injected counts the datagrams among Sent that came from Inject.
	Injected uint64
	// Delivered counts datagrams placed in a receive queue.
	Delivered uint64
	// DroppedQueueFull counts datagrams dropped because the destination's
	// receive queue was full.
	DroppedQueueFull uint64
	// DroppedNoRoute counts datagrams dropped because nothing listened on the
	// destination address.
	DroppedNoRoute uint64
}

// Network is an in-memory UDP network: a set of Conns keyed by address.
// The zero value is not usable; call New. All methods are safe for concurrent
// use and none blocks for long.
type Network struct {
	mu       sync.Mutex
	conns    map[netip.AddrPort]*Conn
	nextPort int // offset into the ephemeral range for the next port-0 Listen
	free     freeList
	stats    Stats
}

// New returns an empty Network. It starts no goroutines and needs no Close.
// Inside a testing/synctest bubble, call New and Listen inside the bubble.
func New() *Network {
	return &Network{conns: make(map[netip.AddrPort]*Conn)}
}

// Listen binds a Conn to addr with a receive queue of DefaultQueueLen
// datagrams. It is ListenQueue(addr, DefaultQueueLen).
func (n *Network) Listen(addr netip.AddrPort) (*Conn, error) {
	return n.ListenQueue(addr, DefaultQueueLen)
}

// ListenQueue binds a Conn to addr with a receive queue of queueLen
// datagrams (at least 1). The IP must be concrete (not unspecified); port 0
// picks a free port from 49152 up. A bound address yields an error matching
// ErrAddrInUse. ListenQueue does not block and is safe for concurrent use.
func (n *Network) ListenQueue(addr netip.AddrPort, queueLen int) (*Conn, error) {
	ip := addr.Addr().Unmap()
	if !ip.IsValid() || ip.IsUnspecified() {
		return nil, fmt.Errorf("fakenet: listen %v: %w: need a concrete IP such as 127.0.0.1", addr, ErrInvalidAddr)
	}
	if queueLen < 1 {
		return nil, fmt.Errorf("fakenet: listen %v: queue length %d, want at least 1", addr, queueLen)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	a := netip.AddrPortFrom(ip, addr.Port())
	if a.Port() == 0 {
		found := false
		for range numEphemeralPorts {
			p := uint16(firstEphemeralPort + n.nextPort)
			n.nextPort = (n.nextPort + 1) % numEphemeralPorts
			if _, taken := n.conns[netip.AddrPortFrom(ip, p)]; !taken {
				a = netip.AddrPortFrom(ip, p)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("fakenet: listen %v: %w", addr, ErrNoFreePort)
		}
	} else if _, taken := n.conns[a]; taken {
		return nil, fmt.Errorf("fakenet: listen %v: %w", a, ErrAddrInUse)
	}
	c := &Conn{
		net:    n,
		addr:   a,
		laddr:  net.UDPAddrFromAddrPort(a),
		queue:  make(chan datagram, queueLen),
		closed: make(chan struct{}),
	}
	n.conns[a] = c
	return c, nil
}

// Inject delivers b to the Conn bound to to as if it came from from, which
// may be any valid address, bound or not (for spoofing tests). Like a write,
// it drops and counts the datagram when nothing listens on to or its queue is
// full. It returns an error only for an invalid address or a datagram over
// MaxDatagramSize. Inject copies b, does not block and is safe for concurrent
// use.
func (n *Network) Inject(from, to netip.AddrPort, b []byte) error {
	if !from.IsValid() {
		return fmt.Errorf("fakenet: inject from %v: %w", from, ErrInvalidAddr)
	}
	return n.send(netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), to, b, true)
}

// Stats returns the network's counters. It is safe for concurrent use.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// send copies b into the receive queue of the Conn bound to to.
func (n *Network) send(from, to netip.AddrPort, b []byte, injected bool) error {
	if !to.IsValid() {
		return fmt.Errorf("fakenet: write to %v: %w", to, ErrInvalidAddr)
	}
	if len(b) > MaxDatagramSize {
		return fmt.Errorf("fakenet: write to %v: %w: %d bytes, limit %d", to, ErrDatagramTooLarge, len(b), MaxDatagramSize)
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stats.Sent++
	if injected {
		n.stats.Injected++
	}
	dst := n.conns[to]
	if dst == nil {
		n.stats.DroppedNoRoute++
		return nil
	}
	buf := n.free.get(len(b))
	copy(buf, b)
	select {
	case dst.queue <- datagram{buf: buf, from: from}:
		n.stats.Delivered++
	default:
		n.free.put(buf)
		n.stats.DroppedQueueFull++
	}
	return nil
}

// recycle returns a datagram buffer to the free list.
func (n *Network) recycle(b []byte) {
	n.mu.Lock()
	n.free.put(b)
	n.mu.Unlock()
}

// unbind removes c from the address table if it is still bound there.
func (n *Network) unbind(c *Conn) {
	n.mu.Lock()
	if n.conns[c.addr] == c {
		delete(n.conns, c.addr)
	}
	n.mu.Unlock()
}
