package netcode

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// The loopback addresses real-socket tests run on (issue 13 item 8).
var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// noIPv6 says why this machine cannot run the IPv6 tests ("" if it can):
// a UDP socket must bind ::1.
var noIPv6 = sync.OnceValue(func() string {
	uc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return "this machine has no IPv6 loopback (cannot bind ::1: " + err.Error() + ")"
	}
	uc.Close()
	return ""
})

// needIPv6 skips t on a machine without ::1.
func needIPv6(t *testing.T) {
	t.Helper()
	if why := noIPv6(); why != "" {
		t.Skip(why)
	}
}

// forEachLoopback runs f as subtest "ipv4" on 127.0.0.1 and "ipv6" on ::1
// (skipped on a machine without ::1).
func forEachLoopback(t *testing.T, f func(t *testing.T, ip netip.Addr)) {
	t.Helper()
	t.Run("ipv4", func(t *testing.T) { f(t, loopback4) })
	t.Run("ipv6", func(t *testing.T) {
		needIPv6(t)
		f(t, loopback6)
	})
}

// listenUDP opens a UDP socket on ip, any port (closed with the test unless
// an endpoint took it).
func listenUDP(t *testing.T, ip netip.Addr) *net.UDPConn {
	t.Helper()
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uc.Close() })
	return uc
}

// TestDualStackListen: an endpoint listening on the unspecified address
// ("[::]:0", ":0") takes clients over IPv4 (127.0.0.1) and IPv6 (::1) on
// its one socket, with batched I/O and with the fallback. The server sees
// each client's own address (IPv4 ones not v4-mapped), and messages go
// both ways.
func TestDualStackListen(t *testing.T) {
	needIPv6(t)
	for _, addr := range []string{"[::]:0", ":0"} {
		for _, tc := range []struct {
			name string
			wrap func(*net.UDPConn) PacketConn
		}{
			{"udp", func(uc *net.UDPConn) PacketConn { return uc }},
			{"fallback", func(uc *net.UDPConn) PacketConn { return wrappedUDP{uc} }},
		} {
			t.Run(addr+"/"+tc.name, func(t *testing.T) {
				var srv *Endpoint
				var err error
				if tc.name == "udp" {
					srv, err = Listen(addr, nil)
				} else {
					ua, rerr := net.ResolveUDPAddr("udp", addr)
					if rerr != nil {
						t.Fatal(rerr)
					}
					uc, lerr := net.ListenUDP("udp", ua)
					if lerr != nil {
						t.Fatal(lerr)
					}
					srv, err = ListenPacket(tc.wrap(uc), nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				if !srv.AddrPort().Addr().IsUnspecified() {
					t.Fatalf("listening on %v, want the unspecified address", srv.AddrPort())
				}
				for _, ip := range []netip.Addr{loopback4, loopback6} {
					exchangeVia(t, srv, netip.AddrPortFrom(ip, srv.AddrPort().Port()), ip)
				}
			})
		}
	}
}

// exchangeVia dials srv at to, checks that the server sees the client at ip,
// and sends a message each way.
func exchangeVia(t *testing.T, srv *Endpoint, to netip.AddrPort, ip netip.Addr) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	acc := make(chan *Conn, 1)
	go func() {
		c, _ := srv.Accept(ctx)
		acc <- c
	}()
	cl, err := Dial(ctx, to.String(), nil, DialOptions{Fingerprint: srv.Fingerprint()})
	if err != nil {
		t.Fatalf("dial %v: %v", to, err)
	}
	defer cl.Close()
	sc := <-acc
	if sc == nil {
		t.Fatalf("%v: accept failed", to)
	}
	defer sc.Close()
	if got := sc.RemoteAddr(); got.Addr() != ip || got.Port() != cl.Endpoint().AddrPort().Port() {
		t.Fatalf("server sees the client at %v, want %v port %d", got, ip, cl.Endpoint().AddrPort().Port())
	}
	for _, dir := range []struct{ from, to *Conn }{{cl, sc}, {sc, cl}} {
		msg := []byte("hello over " + to.String())
		if err := dir.from.Send(0, msg); err != nil {
			t.Fatal(err)
		}
		dir.from.Flush()
		for {
			if m, ok := dir.to.Receive(); ok {
				if !bytes.Equal(m.Data, msg) {
					t.Fatalf("received %q, want %q", m.Data, msg)
				}
				break
			}
			select {
			case <-dir.to.Wake():
			case <-ctx.Done():
				t.Fatalf("%v: message never arrived", to)
			}
		}
	}
}
