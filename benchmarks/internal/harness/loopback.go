package harness

import (
	"net"
	"net/netip"
	"os"
)

// LoopbackEnv selects the loopback address the suites run on (issue 13
// item 8): unset or "127.0.0.1" for IPv4, "::1" for IPv6. Helper processes
// inherit it with the environment. Every socket of a suite, its
// baselines' too, is on that address, so ratios compare like with like.
const LoopbackEnv = "PUMPNET_BENCH_LOOPBACK"

// LoopbackIP returns the address LoopbackEnv selects (127.0.0.1 when it
// is unset or not a loopback address).
func LoopbackIP() netip.Addr {
	if a, err := netip.ParseAddr(os.Getenv(LoopbackEnv)); err == nil && a.IsLoopback() {
		return a.Unmap()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// LoopbackAddr returns "host:0" on the loopback address ("[::1]:0" for
// IPv6), for Listen calls.
func LoopbackAddr() string { return netip.AddrPortFrom(LoopbackIP(), 0).String() }

// LoopbackNet returns the UDP network of the loopback address: "udp4" or
// "udp6".
func LoopbackNet() string {
	if LoopbackIP().Is4() {
		return "udp4"
	}
	return "udp6"
}

// LoopbackUDPAddr returns the loopback address, port 0, for net and pion.
func LoopbackUDPAddr() *net.UDPAddr {
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(LoopbackIP(), 0))
}

// ListenLoopbackUDP opens a UDP socket on the loopback address.
func ListenLoopbackUDP() (*net.UDPConn, error) {
	return net.ListenUDP(LoopbackNet(), LoopbackUDPAddr())
}
