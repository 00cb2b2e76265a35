package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// packetConn is an mDNS socket on one interface: bound to port 5353 beside
// any other mDNS stack on the host, joined to the mDNS group of its family
// on that interface, sending multicast there with IP TTL (hop limit) 255.
// ReadFrom reports the interface a packet arrived on (0 if unknown).
// Tests replace it with an in-memory LAN.
type packetConn interface {
	ReadFrom(b []byte) (n int, src netip.AddrPort, ifIndex int, err error)
	WriteTo(b []byte, dst netip.AddrPort) error
	Close() error
}

// listenMDNS opens the mDNS socket of one family on ifc: UDP port 5353 on
// the wildcard address with SO_REUSEADDR and SO_REUSEPORT (as Avahi and
// Bonjour do, so that they and several pumpnet processes share the port;
// multicast reaches every one of them), the group 224.0.0.251 or ff02::fb
// joined on ifc, multicast sent out of ifc with TTL 255 and looped back to
// the host's other mDNS sockets, unicast sent with TTL 255 too (RFC 6762
// §11), and the arrival interface of each packet reported.
func listenMDNS(ifc *net.Interface, v6 bool) (packetConn, error) {
	lc := net.ListenConfig{Control: reuseAddrPort}
	if v6 {
		c, err := lc.ListenPacket(context.Background(), "udp6", fmt.Sprintf("[::]:%d", mdnsPort))
		if err != nil {
			return nil, err
		}
		p := ipv6.NewPacketConn(c)
		err = errors.Join(
			p.JoinGroup(ifc, &net.UDPAddr{IP: net.IP(mdnsGroup6.Addr().AsSlice())}),
			p.SetMulticastInterface(ifc),
			p.SetMulticastHopLimit(255),
			p.SetHopLimit(255),
			p.SetMulticastLoopback(true),
			p.SetControlMessage(ipv6.FlagInterface, true))
		if err != nil {
			c.Close()
			return nil, err
		}
		return &conn6{p: p, c: c}, nil
	}
	c, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", mdnsPort))
	if err != nil {
		return nil, err
	}
	p := ipv4.NewPacketConn(c)
	err = errors.Join(
		p.JoinGroup(ifc, &net.UDPAddr{IP: net.IP(mdnsGroup4.Addr().AsSlice())}),
		p.SetMulticastInterface(ifc),
		p.SetMulticastTTL(255),
		p.SetTTL(255),
		p.SetMulticastLoopback(true),
		p.SetControlMessage(ipv4.FlagInterface, true))
	if err != nil {
		c.Close()
		return nil, err
	}
	return &conn4{p: p, c: c}, nil
}

type conn4 struct {
	p *ipv4.PacketConn
	c net.PacketConn
}

func (c *conn4) ReadFrom(b []byte) (int, netip.AddrPort, int, error) {
	n, cm, src, err := c.p.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, 0, err
	}
	idx := 0
	if cm != nil {
		idx = cm.IfIndex
	}
	return n, addrPortOf(src), idx, nil
}

func (c *conn4) WriteTo(b []byte, dst netip.AddrPort) error {
	_, err := c.p.WriteTo(b, nil, net.UDPAddrFromAddrPort(dst))
	return err
}

func (c *conn4) Close() error { return c.c.Close() }

type conn6 struct {
	p *ipv6.PacketConn
	c net.PacketConn
}

func (c *conn6) ReadFrom(b []byte) (int, netip.AddrPort, int, error) {
	n, cm, src, err := c.p.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, 0, err
	}
	idx := 0
	if cm != nil {
		idx = cm.IfIndex
	}
	return n, addrPortOf(src), idx, nil
}

func (c *conn6) WriteTo(b []byte, dst netip.AddrPort) error {
	_, err := c.p.WriteTo(b, nil, net.UDPAddrFromAddrPort(dst))
	return err
}

func (c *conn6) Close() error { return c.c.Close() }

// addrPortOf converts a UDP source address (unmapped; zone kept).
func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
