package rendezvous

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

func startSTUN(t *testing.T, cfg Config) net.PacketConn {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeSTUN(pc) }()
	t.Cleanup(func() {
		pc.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeSTUN: %v", err)
		}
	})
	return pc
}

// bind sends one Binding request from a socket on localIP and returns the
// mapped address, or false if no answer came within wait.
func bind(t *testing.T, c *net.UDPConn, server net.Addr, wait time.Duration) (netip.AddrPort, bool) {
	t.Helper()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if _, err := c.WriteTo(req.Raw, server); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return netip.AddrPort{}, false
		}
		var m stun.Message
		m.Raw = buf[:n]
		if m.Decode() != nil || m.TransactionID != req.TransactionID {
			continue
		}
		if m.Type != stun.BindingSuccess || stun.Fingerprint.Check(&m) != nil {
			t.Fatalf("answer %v", m)
		}
		var xa stun.XORMappedAddress
		if err := xa.GetFrom(&m); err != nil {
			t.Fatal(err)
		}
		ip, _ := netip.AddrFromSlice(xa.IP)
		return netip.AddrPortFrom(ip.Unmap(), uint16(xa.Port)), true
	}
}

func udpFrom(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSTUNBinding(t *testing.T) {
	pc := startSTUN(t, Config{})
	c := udpFrom(t, "127.77.0.2")
	got, ok := bind(t, c, pc.LocalAddr(), 5*time.Second)
	if !ok {
		t.Fatal("no answer")
	}
	if want := c.LocalAddr().(*net.UDPAddr).AddrPort(); got != want {
		t.Fatalf("mapped %v, want %v", got, want)
	}
	// Garbage and non-requests get no answer, and the server keeps going.
	c.WriteTo([]byte("hello"), pc.LocalAddr())
	resp := stun.MustBuild(stun.TransactionID, stun.BindingSuccess)
	c.WriteTo(resp.Raw, pc.LocalAddr())
	if _, ok := bind(t, c, pc.LocalAddr(), 5*time.Second); !ok {
		t.Fatal("no answer after garbage")
	}
}

// TestSTUNFlood: a flooding source is answered at the rate limit; another
// source is still answered.
func TestSTUNFlood(t *testing.T) {
	pc := startSTUN(t, Config{RequestRate: 1, RequestBurst: 5})
	flood := udpFrom(t, "127.77.0.2")
	answered := 0
	start := time.Now()
	for range 30 {
		if _, ok := bind(t, flood, pc.LocalAddr(), 50*time.Millisecond); ok {
			answered++
		}
	}
	// Burst 5 + 1/s; a loaded machine may answer some too late to count.
	if bound := 5 + int(time.Since(start).Seconds()) + 1; answered < 1 || answered > bound {
		t.Fatalf("flooding source answered %d of 30 in %v, want 1..%d", answered, time.Since(start), bound)
	}
	t.Logf("flooding source answered %d of 30 in %v", answered, time.Since(start))
	if _, ok := bind(t, udpFrom(t, "127.77.0.3"), pc.LocalAddr(), 5*time.Second); !ok {
		t.Fatal("another source got no answer during the flood")
	}
}

func FuzzSTUNAnswer(f *testing.F) {
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw)
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware("x"), stun.NewUsername("u")).Raw)
	src := netip.MustParseAddrPort("[2001:db8::1]:3478")
	f.Fuzz(func(t *testing.T, req []byte) {
		out := stunAnswer(req, src, nil)
		if out == nil {
			return
		}
		if len(out) > 52 {
			t.Fatalf("answer of %d bytes", len(out))
		}
		var m stun.Message
		m.Raw = out
		if err := m.Decode(); err != nil || m.Type != stun.BindingSuccess {
			t.Fatalf("answer does not decode: %v", err)
		}
	})
}
