package linkcond

import (
	"net"
	"net/netip"
)

// MaxDatagramSize is the largest datagram a Conn accepts: the UDP payload
// limit over IPv4 (65535 - 20 - 8 bytes). Larger writes fail with an error
// matching ErrDatagramTooLarge.
const MaxDatagramSize = 65507

// PacketConn is the packet socket that netcode runs on: the subset of
// *net.UDPConn it uses. *net.UDPConn, *fakenet.Conn and *Conn implement it.
//
// Implementations must be safe for concurrent use.
type PacketConn interface {
	// ReadFromUDPAddrPort blocks until a datagram arrives and copies it into
	// b. After Close it returns an error matching net.ErrClosed.
	ReadFromUDPAddrPort(b []byte) (n int, addr netip.AddrPort, err error)
	// WriteToUDPAddrPort sends b to addr. It never blocks for long.
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	// LocalAddr returns the local address.
	LocalAddr() net.Addr
	// Close is idempotent and unblocks pending reads.
	Close() error
}
