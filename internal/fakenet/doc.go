// Package fakenet is an in-memory UDP network for tests.
//
// A [Network] is a set of [Conn]s, each bound to one address. A datagram
// written to an address is copied into that address's bounded receive queue
// and read back by [Conn.ReadFromUDPAddrPort]. The network behaves like UDP
// on a perfect link: nothing is reordered or delayed, but a datagram to an
// address nobody listens on is silently dropped, and a datagram that finds
// the receive queue full is dropped too, as a real socket buffer would. Both
// drops are counted in [Network.Stats]. Loss, latency and the rest come from
// wrapping a Conn in netcode's link conditioner (Config.Link).
//
// Conn implements netcode.PacketConn, the subset of *net.UDPConn that
// netcode uses, so code written against that interface runs unchanged over
// a real socket or over fakenet.
//
// # Synctest
//
// fakenet starts no goroutines and blocks only on channels, so a goroutine
// blocked in ReadFromUDPAddrPort is durably blocked inside a testing/synctest
// bubble and the bubble's fake clock can advance. Create the Network and
// call Listen inside the bubble: the receive queues are channels, and a
// channel belongs to the bubble it was made in.
//
// # Addresses
//
// An address is an IP and a port; IPv4-mapped IPv6 addresses are unmapped, so
// ::ffff:127.0.0.1 and 127.0.0.1 name the same socket. Listen needs a concrete
// IP (not 0.0.0.0 or ::); port 0 picks a free port from 49152 up. Any IP works,
// since nothing leaves the process, but tests conventionally use 127.0.0.1.
//
// # Example
//
//	func TestEcho(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			n := fakenet.New()
//			srv, _ := n.Listen(netip.MustParseAddrPort("127.0.0.1:4000"))
//			cl, _ := n.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
//			defer srv.Close()
//			defer cl.Close()
//
//			cl.WriteToUDPAddrPort([]byte("ping"), srv.AddrPort())
//			buf := make([]byte, 1500)
//			k, from, _ := srv.ReadFromUDPAddrPort(buf)
//			fmt.Println(string(buf[:k]), from == cl.AddrPort()) // ping true
//		})
//	}
package fakenet
