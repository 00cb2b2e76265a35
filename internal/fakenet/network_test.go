package fakenet_test

import (
	"bytes"
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/pumpnet/pumpnet/internal/fakenet"
)

var (
	addrA = netip.MustParseAddrPort("127.0.0.1:4000")
	addrB = netip.MustParseAddrPort("127.0.0.1:5000")
)

func mustListen(t testing.TB, n *fakenet.Network, a netip.AddrPort) *fakenet.Conn {
	t.Helper()
	c, err := n.Listen(a)
	if err != nil {
		t.Fatalf("Listen(%v): %v", a, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestWriteReadCarriesPayloadAndSource(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	msg := []byte("hello")
	if k, err := a.WriteToUDPAddrPort(msg, addrB); err != nil || k != len(msg) {
		t.Fatalf("WriteTo = %d, %v; want %d, nil", k, err, len(msg))
	}
	msg[0] = 'J' // the network must have copied the datagram
	buf := make([]byte, 64)
	k, from, err := b.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:k]); got != "hello" {
		t.Errorf("payload = %q, want %q", got, "hello")
	}
	if from != addrA {
		t.Errorf("from = %v, want %v", from, addrA)
	}
	if s := n.Stats(); s.Sent != 1 || s.Delivered != 1 {
		t.Errorf("Stats = %+v, want Sent 1, Delivered 1", s)
	}
}

func TestDatagramsArriveInOrder(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	for i := range 100 {
		a.WriteToUDPAddrPort([]byte{byte(i)}, addrB)
	}
	buf := make([]byte, 8)
	for i := range 100 {
		k, _, err := b.ReadFromUDPAddrPort(buf)
		if err != nil || k != 1 || buf[0] != byte(i) {
			t.Fatalf("read %d: k=%d byte=%d err=%v", i, k, buf[0], err)
		}
	}
}

func TestShortBufferTruncates(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	a.WriteToUDPAddrPort([]byte("abcdef"), addrB)
	buf := make([]byte, 3)
	k, _, err := b.ReadFromUDPAddrPort(buf)
	if err != nil || k != 3 || string(buf) != "abc" {
		t.Fatalf("read = %d %q %v, want 3 \"abc\" nil", k, buf[:k], err)
	}
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	n := fakenet.New()
	a := mustListen(t, n, addrA)
	b, err := n.ListenQueue(addrB, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 10 {
		if _, err := a.WriteToUDPAddrPort([]byte{byte(i)}, addrB); err != nil {
			t.Fatalf("write %d: %v (a full queue must not be an error)", i, err)
		}
	}
	s := n.Stats()
	if s.Sent != 10 || s.Delivered != 4 || s.DroppedQueueFull != 6 {
		t.Fatalf("Stats = %+v, want Sent 10, Delivered 4, DroppedQueueFull 6", s)
	}
	buf := make([]byte, 8)
	for i := range 4 { // the head survives, the tail is dropped
		if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("read %d: got %d, %v", i, buf[0], err)
		}
	}
	// Reading made room again.
	a.WriteToUDPAddrPort([]byte{42}, addrB)
	if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil || buf[0] != 42 {
		t.Fatalf("read after drain: got %d, %v", buf[0], err)
	}
}

func TestDefaultQueueLen(t *testing.T) {
	n := fakenet.New()
	a, _ := mustListen(t, n, addrA), mustListen(t, n, addrB)
	for range fakenet.DefaultQueueLen + 5 {
		a.WriteToUDPAddrPort([]byte{1}, addrB)
	}
	if s := n.Stats(); s.Delivered != fakenet.DefaultQueueLen || s.DroppedQueueFull != 5 {
		t.Fatalf("Stats = %+v, want Delivered %d, DroppedQueueFull 5", s, fakenet.DefaultQueueLen)
	}
}

func TestUnknownDestinationDropsSilently(t *testing.T) {
	n := fakenet.New()
	a := mustListen(t, n, addrA)
	k, err := a.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9"))
	if err != nil || k != 1 {
		t.Fatalf("WriteTo unknown = %d, %v; want 1, nil", k, err)
	}
	if s := n.Stats(); s.DroppedNoRoute != 1 || s.Delivered != 0 {
		t.Fatalf("Stats = %+v, want DroppedNoRoute 1", s)
	}
}

func TestInjectSpoofsSource(t *testing.T) {
	n := fakenet.New()
	b := mustListen(t, n, addrB)
	spoof := netip.MustParseAddrPort("203.0.113.7:666")
	if err := n.Inject(spoof, addrB, []byte("evil")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	k, from, err := b.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:k]) != "evil" || from != spoof {
		t.Fatalf("read = %q from %v, %v; want \"evil\" from %v", buf[:k], from, err, spoof)
	}
	if s := n.Stats(); s.Injected != 1 || s.Sent != 1 {
		t.Fatalf("Stats = %+v, want Injected 1, Sent 1", s)
	}
	if err := n.Inject(netip.AddrPort{}, addrB, nil); !errors.Is(err, fakenet.ErrInvalidAddr) {
		t.Fatalf("Inject from zero address: %v, want ErrInvalidAddr", err)
	}
}

func TestListenPortZeroAssignsDistinctFreePorts(t *testing.T) {
	n := fakenet.New()
	ip := netip.MustParseAddr("127.0.0.1")
	taken := mustListen(t, n, netip.AddrPortFrom(ip, 49152)) // the first ephemeral port is busy
	seen := map[netip.AddrPort]bool{taken.AddrPort(): true}
	for range 50 {
		c := mustListen(t, n, netip.AddrPortFrom(ip, 0))
		a := c.AddrPort()
		if a.Port() < 49152 || a.Addr() != ip {
			t.Fatalf("assigned %v, want 127.0.0.1 and port >= 49152", a)
		}
		if seen[a] {
			t.Fatalf("port %d assigned twice", a.Port())
		}
		seen[a] = true
		if got := c.LocalAddr().String(); got != a.String() {
			t.Errorf("LocalAddr = %s, want %s", got, a)
		}
	}
}

func TestDuplicateListenFailsUntilClosed(t *testing.T) {
	n := fakenet.New()
	a, err := n.Listen(addrA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(addrA); !errors.Is(err, fakenet.ErrAddrInUse) {
		t.Fatalf("second Listen: %v, want ErrAddrInUse", err)
	}
	// The mapped form of the same address is the same socket.
	if _, err := n.Listen(netip.MustParseAddrPort("[::ffff:127.0.0.1]:4000")); !errors.Is(err, fakenet.ErrAddrInUse) {
		t.Fatalf("Listen on mapped address: %v, want ErrAddrInUse", err)
	}
	a.Close()
	c, err := n.Listen(addrA)
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	c.Close()
}

func TestListenRejectsUnspecifiedAndBadQueue(t *testing.T) {
	n := fakenet.New()
	for _, a := range []netip.AddrPort{{}, netip.MustParseAddrPort("0.0.0.0:1"), netip.MustParseAddrPort("[::]:1")} {
		if _, err := n.Listen(a); !errors.Is(err, fakenet.ErrInvalidAddr) {
			t.Errorf("Listen(%v): %v, want ErrInvalidAddr", a, err)
		}
	}
	if _, err := n.ListenQueue(addrA, 0); err == nil {
		t.Error("ListenQueue with length 0 succeeded")
	}
}

func TestMappedDestinationReachesIPv4Socket(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	a.WriteToUDPAddrPort([]byte("m"), netip.MustParseAddrPort("[::ffff:127.0.0.1]:5000"))
	buf := make([]byte, 4)
	if k, _, err := b.ReadFromUDPAddrPort(buf); err != nil || k != 1 {
		t.Fatalf("read = %d, %v", k, err)
	}
}

func TestDatagramSizeLimit(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	big := make([]byte, fakenet.MaxDatagramSize+1)
	if _, err := a.WriteToUDPAddrPort(big, addrB); !errors.Is(err, fakenet.ErrDatagramTooLarge) {
		t.Fatalf("oversize write: %v, want ErrDatagramTooLarge", err)
	}
	big = big[:fakenet.MaxDatagramSize]
	big[len(big)-1] = 7
	if _, err := a.WriteToUDPAddrPort(big, addrB); err != nil {
		t.Fatalf("max-size write: %v", err)
	}
	buf := make([]byte, 70000)
	k, _, err := b.ReadFromUDPAddrPort(buf)
	if err != nil || k != fakenet.MaxDatagramSize || buf[k-1] != 7 {
		t.Fatalf("read max-size = %d, %v", k, err)
	}
	if _, err := a.WriteToUDPAddrPort([]byte("x"), netip.AddrPort{}); !errors.Is(err, fakenet.ErrInvalidAddr) {
		t.Fatalf("write to zero address: %v, want ErrInvalidAddr", err)
	}
}

// TestRecycledBuffersDoNotLeakData checks that a recycled buffer never shows
// bytes of an earlier, longer datagram.
func TestRecycledBuffersDoNotLeakData(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	buf := make([]byte, 2000)
	a.WriteToUDPAddrPort(bytes.Repeat([]byte{0xAA}, 1000), addrB)
	b.ReadFromUDPAddrPort(buf)
	a.WriteToUDPAddrPort([]byte{1, 2, 3}, addrB)
	clear(buf)
	k, _, _ := b.ReadFromUDPAddrPort(buf)
	if k != 3 || !bytes.Equal(buf[:4], []byte{1, 2, 3, 0}) {
		t.Fatalf("read = %d % x", k, buf[:4])
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	n := fakenet.New()
	dst, err := n.ListenQueue(addrB, 1<<14)
	if err != nil {
		t.Fatal(err)
	}
	const writers, per = 4, 1000
	var wg sync.WaitGroup
	for w := range writers {
		c := mustListen(t, n, netip.AddrPortFrom(addrA.Addr(), uint16(4000+w)))
		wg.Go(func() {
			for i := range per {
				c.WriteToUDPAddrPort([]byte{byte(w), byte(i >> 8), byte(i)}, addrB)
			}
		})
	}
	reads := make(chan [3]byte, writers*per)
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			buf := make([]byte, 4)
			for {
				k, _, err := dst.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if k != 3 {
					t.Errorf("read %d bytes, want 3", k)
				}
				reads <- [3]byte{buf[0], buf[1], buf[2]}
			}
		})
	}
	wg.Wait()
	seen := make(map[[3]byte]bool)
	for range writers * per {
		seen[<-reads] = true
	}
	dst.Close()
	readers.Wait()
	if len(seen) != writers*per {
		t.Fatalf("%d distinct datagrams read, want %d", len(seen), writers*per)
	}
	if s := n.Stats(); s.Delivered != writers*per || s.DroppedQueueFull != 0 {
		t.Fatalf("Stats = %+v", s)
	}
}
