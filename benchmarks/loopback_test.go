package benchmarks

import (
	"net"
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
)

// onLoopbacks runs f as subtest "ipv4", then as "ipv6" with
// harness.LoopbackEnv set to ::1 (which its helper processes inherit),
// skipped on a machine without ::1.
func onLoopbacks(t *testing.T, f func(t *testing.T)) {
	t.Run("ipv4", func(t *testing.T) {
		t.Setenv(harness.LoopbackEnv, "127.0.0.1")
		f(t)
	})
	t.Run("ipv6", func(t *testing.T) {
		uc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Skipf("this machine has no IPv6 loopback (cannot bind ::1: %v)", err)
		}
		uc.Close()
		t.Setenv(harness.LoopbackEnv, "::1")
		f(t)
	})
}
