package linkcond_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

// listenLoopback opens a UDP socket on 127.0.0.1 with a free port. Tests send
// real traffic to 127.0.0.1 only.
func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	return c
}

func TestRealSocketLatency(t *testing.T) {
	const lat = 50 * time.Millisecond
	raw := listenLoopback(t)
	peer := listenLoopback(t)
	defer peer.Close()
	peerAddr := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	if !peerAddr.Addr().IsLoopback() {
		t.Fatalf("peer bound to %v, not loopback", peerAddr)
	}
	lc, err := linkcond.Wrap(raw, linkcond.Config{
		Send:    linkcond.Direction{Latency: lat},
		Receive: linkcond.Direction{Latency: lat},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	lcAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), lc.LocalAddr().(*net.UDPAddr).AddrPort().Port())

	// Send: the peer sees the datagram no sooner than lat after the write.
	buf := make([]byte, 64)
	start := time.Now()
	if _, err := lc.WriteToUDPAddrPort([]byte("ping"), peerAddr); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	if took := time.Since(start); took < lat || string(buf[:n]) != "ping" || from.Port() != lcAddr.Port() {
		t.Fatalf("peer got %q from %v after %v, want \"ping\" after ≥ %v", buf[:n], from, took, lat)
	}

	// Receive: the conditioned side reads it no sooner than lat after the
	// peer sent it. A timer closes lc if nothing arrives, so the test ends.
	guard := time.AfterFunc(5*time.Second, func() { lc.Close() })
	defer guard.Stop()
	start = time.Now()
	if _, err := peer.WriteToUDPAddrPort([]byte("pong"), lcAddr); err != nil {
		t.Fatal(err)
	}
	n, _, err = lc.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if took := time.Since(start); took < lat || string(buf[:n]) != "pong" {
		t.Fatalf("got %q after %v, want \"pong\" after ≥ %v", buf[:n], took, lat)
	}
	if err := lc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if g := conditionerGoroutines(); len(g) != 0 {
		t.Fatalf("goroutines left after Close: %v", g)
	}
}
