package fakenet_test

import (
	"errors"
	"net"
	"testing"
	"testing/synctest"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode"
)

var _ netcode.PacketConn = (*fakenet.Conn)(nil)

func TestCloseUnblocksBlockedRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
		errc := make(chan error, 1)
		go func() {
			_, _, err := b.ReadFromUDPAddrPort(make([]byte, 8))
			errc <- err
		}()
		synctest.Wait() // the reader is durably blocked on its queue
		select {
		case err := <-errc:
			t.Fatalf("read returned before Close: %v", err)
		default:
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked read after Close: %v, want net.ErrClosed", err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v, want nil", err)
		}
		if _, _, err := b.ReadFromUDPAddrPort(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after Close: %v, want net.ErrClosed", err)
		}
		if _, err := b.WriteToUDPAddrPort([]byte("x"), addrA); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after Close: %v, want net.ErrClosed", err)
		}
		// The closed address is unbound: writes to it are dropped as unroutable.
		a.WriteToUDPAddrPort([]byte("x"), addrB)
		if s := n.Stats(); s.DroppedNoRoute != 1 {
			t.Fatalf("Stats = %+v, want DroppedNoRoute 1", s)
		}
	})
}

func TestCloseWithQueuedDatagramsReturnsErrClosed(t *testing.T) {
	n := fakenet.New()
	a, b := mustListen(t, n, addrA), mustListen(t, n, addrB)
	a.WriteToUDPAddrPort([]byte("x"), addrB)
	b.Close()
	if _, _, err := b.ReadFromUDPAddrPort(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close with data queued: %v, want net.ErrClosed", err)
	}
}

func BenchmarkWriteRead(b *testing.B) {
	n := fakenet.New()
	a, c := mustListen(b, n, addrA), mustListen(b, n, addrB)
	msg := make([]byte, 64)
	buf := make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := a.WriteToUDPAddrPort(msg, addrB); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}
