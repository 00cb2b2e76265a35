package engine

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// needIPv6 skips t on a machine without an IPv6 loopback.
func needIPv6(t *testing.T) {
	t.Helper()
	uc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("this machine has no IPv6 loopback (cannot bind ::1: %v)", err)
	}
	uc.Close()
}

// TestIPv6Server: a server on ::1 prints a connect string with the IPv6
// literal in brackets, and a client connects with it; a server on the
// unspecified address ("[::]:0", ":0") takes clients over 127.0.0.1 and
// ::1 on its one socket, sees each at its own address, and messages go
// both ways (issue 13 item 8).
func TestIPv6Server(t *testing.T) {
	needIPv6(t)
	t.Run("[::1]:0", func(t *testing.T) {
		srv, err := Listen("[::1]:0", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cs := srv.ConnectString()
		if !strings.HasPrefix(cs, "dtls://[::1]:") {
			t.Fatalf("connect string %q, want dtls://[::1]:port#fingerprint", cs)
		}
		chatWith(t, srv, []string{cs}, []netip.Addr{netip.IPv6Loopback()})
	})
	for _, addr := range []string{"[::]:0", ":0"} {
		t.Run(addr, func(t *testing.T) {
			srv, err := Listen(addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			port, fp := srv.Addr().Port(), srv.Fingerprint()
			v4, v6 := netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()
			chatWith(t, srv, []string{
				FormatTarget(netip.AddrPortFrom(v4, port), fp),
				fmt.Sprintf("[::1]:%d#%s", port, fp), // the short form, typed by hand
			}, []netip.Addr{v4, v6})
		})
	}
}

// chatWith connects a client to srv with each target, and checks that the
// server sees client i at want[i] and that a message goes each way.
func chatWith(t *testing.T, srv *Server, targets []string, want []netip.Addr) {
	t.Helper()
	heard := make([]int, len(targets))
	said := map[string]netip.Addr{}
	if err := HandleFunc(srv, "chat", func(p *Peer, m chatMsg) {
		said[m.Text] = p.Addr().Addr()
		p.Send(chatMsg{Action: "chat", Text: "back to " + m.Text})
	}); err != nil {
		t.Fatal(err)
	}
	var cls []*Client
	for i, target := range targets {
		cl, err := Connect(target, nil)
		if err != nil {
			t.Fatalf("connect %q: %v", target, err)
		}
		defer cl.Close()
		HandleFunc(cl, "chat", func(_ *Client, m chatMsg) { heard[i]++ })
		if err := cl.Send(chatMsg{Action: "chat", Text: target}); err != nil {
			t.Fatal(err)
		}
		cls = append(cls, cl)
	}
	done := func() bool {
		for _, n := range heard {
			if n == 0 {
				return false
			}
		}
		return len(said) == len(targets)
	}
	for deadline := time.Now().Add(20 * time.Second); !done(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("server heard %v, clients heard %v", said, heard)
		}
		srv.Pump()
		for _, c := range cls {
			c.Pump()
		}
	}
	for i, target := range targets {
		if got := said[target]; got != want[i] {
			t.Errorf("client of %q seen at %v, want %v", target, got, want[i])
		}
	}
}
