package discovery

// An in-memory LAN for the MDNS backend's unit tests: sockets of several
// "hosts" on named links, multicast delivered to every socket of the
// family on the link (the sender's included, as IP_MULTICAST_LOOP does),
// unicast to the sockets bound to the destination. It runs inside
// testing/synctest bubbles: every wait is on a channel.

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

type fakePacket struct {
	b   []byte
	src netip.AddrPort
	idx int
}

type sentPacket struct {
	from netip.AddrPort
	dst  netip.AddrPort
	msg  *dns.Msg
	link string
}

type fakeLAN struct {
	mu    sync.Mutex
	conns []*fakeConn
	sent  []sentPacket
	fail  map[string]bool // "link/v6" or "link/v4": listen fails
}

type fakeConn struct {
	lan    *fakeLAN
	link   string
	index  int
	v6     bool
	addr   netip.AddrPort
	in     chan fakePacket
	closed chan struct{}
	once   sync.Once
}

// host returns a listen seam for an MDNS on the host with these addresses
// (one per link it listens on, by interface name; IPv6 sockets use the
// first IPv6 address of the map under link+"/6").
func (l *fakeLAN) host(addrs map[string]string) func(*net.Interface, bool) (packetConn, error) {
	return func(ifc *net.Interface, v6 bool) (packetConn, error) {
		key := ifc.Name
		fam := "/v4"
		if v6 {
			key += "/6"
			fam = "/v6"
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.fail[ifc.Name+fam] {
			return nil, &net.OpError{Op: "listen", Err: errFakeListen}
		}
		a, ok := addrs[key]
		if !ok {
			return nil, &net.OpError{Op: "listen", Err: errFakeListen}
		}
		return l.attach(ifc.Name, ifc.Index, v6, netip.AddrPortFrom(netip.MustParseAddr(a), mdnsPort)), nil
	}
}

var errFakeListen = &net.AddrError{Err: "fake LAN: no address on this link", Addr: ""}

// attach adds a socket; l.mu must be held.
func (l *fakeLAN) attach(link string, index int, v6 bool, addr netip.AddrPort) *fakeConn {
	c := &fakeConn{lan: l, link: link, index: index, v6: v6, addr: addr, in: make(chan fakePacket, 512), closed: make(chan struct{})}
	l.conns = append(l.conns, c)
	return c
}

// sniff returns a socket that receives what any socket on link sends to
// the group of its family (and to addr).
func (l *fakeLAN) sniff(link string, v6 bool, addr string) *fakeConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attach(link, 99, v6, netip.AddrPortFrom(netip.MustParseAddr(addr), mdnsPort))
}

func (c *fakeConn) ReadFrom(b []byte) (int, netip.AddrPort, int, error) {
	select {
	case p := <-c.in:
		return copy(b, p.b), p.src, p.idx, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, 0, net.ErrClosed
	}
}

func (c *fakeConn) WriteTo(b []byte, dst netip.AddrPort) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	return c.lan.deliver(c.link, c.v6, slices.Clone(b), c.addr, dst)
}

func (c *fakeConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.lan.mu.Lock()
		defer c.lan.mu.Unlock()
		c.lan.conns = slices.DeleteFunc(c.lan.conns, func(x *fakeConn) bool { return x == c })
	})
	return nil
}

// deliver sends b from src to dst on link.
func (l *fakeLAN) deliver(link string, v6 bool, b []byte, src, dst netip.AddrPort) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := new(dns.Msg)
	if msg.Unpack(b) == nil {
		l.sent = append(l.sent, sentPacket{from: src, dst: dst, msg: msg, link: link})
	}
	group := dst == mdnsGroup4 || dst == mdnsGroup6
	for _, c := range l.conns {
		if c.link != link || c.v6 != v6 {
			continue
		}
		if !group && c.addr != dst {
			continue
		}
		select {
		case c.in <- fakePacket{b: b, src: src, idx: c.index}:
		default:
		}
	}
	return nil
}

// inject delivers a packet from src as if a host on link had sent it to
// dst.
func (l *fakeLAN) inject(t testing.TB, link string, msg *dns.Msg, src, dst netip.AddrPort) {
	t.Helper()
	b, err := msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	l.deliver(link, dst.Addr().Is6(), b, src, dst)
}

// packets returns what was sent so far, decoded.
func (l *fakeLAN) packets() []sentPacket {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent)
}

// read returns the next response c received, decoded, or nil if none is
// queued (queries are skipped).
func (c *fakeConn) read() (*dns.Msg, netip.AddrPort) {
	for {
		select {
		case p := <-c.in:
			m := new(dns.Msg)
			if m.Unpack(p.b) != nil || !m.Response {
				continue
			}
			return m, p.src
		default:
			return nil, netip.AddrPort{}
		}
	}
}
