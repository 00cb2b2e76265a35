package benchmarks

import (
	"net"
	"net/netip"
	"os"
	"testing"
)

// loopbackEnv selects the loopback address the suite runs on (issue 13
// item 8): unset or "127.0.0.1" for IPv4, "::1" for IPv6. Helper processes
// inherit it with the environment. Every socket of the suite, its
// baselines' too, is on that address, so ratios compare like with like.
const loopbackEnv = "PUMPNET_BENCH_LOOPBACK"

// loopbackIP returns the address loopbackEnv selects (127.0.0.1 when it
// is unset or not an IP address).
func loopbackIP() netip.Addr {
	if a, err := netip.ParseAddr(os.Getenv(loopbackEnv)); err == nil && a.IsLoopback() {
		return a.Unmap()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// loopbackAddr returns "host:0" on the loopback address ("[::1]:0" for
// IPv6), for Listen calls.
func loopbackAddr() string { return netip.AddrPortFrom(loopbackIP(), 0).String() }

// loopbackNet returns the UDP network of the loopback address: "udp4" or
// "udp6".
func loopbackNet() string {
	if loopbackIP().Is4() {
		return "udp4"
	}
	return "udp6"
}

// loopbackUDPAddr returns the loopback address, port 0, for net and pion.
func loopbackUDPAddr() *net.UDPAddr {
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopbackIP(), 0))
}

// listenLoopbackUDP opens a UDP socket on the loopback address.
func listenLoopbackUDP() (*net.UDPConn, error) {
	return net.ListenUDP(loopbackNet(), loopbackUDPAddr())
}

// onLoopbacks runs f as subtest "ipv4", then as "ipv6" with loopbackEnv
// set to ::1 (which its helper processes inherit), skipped on a machine
// without ::1.
func onLoopbacks(t *testing.T, f func(t *testing.T)) {
	t.Run("ipv4", func(t *testing.T) {
		t.Setenv(loopbackEnv, "127.0.0.1")
		f(t)
	})
	t.Run("ipv6", func(t *testing.T) {
		uc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Skipf("this machine has no IPv6 loopback (cannot bind ::1: %v)", err)
		}
		uc.Close()
		t.Setenv(loopbackEnv, "::1")
		f(t)
	})
}
