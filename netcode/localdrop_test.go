package netcode

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/ackhandler"
)

// enobufsConn refuses the next fail data-sized writes with ENOBUFS, as a
// socket with a full local buffer (or a full qdisc) does.
type enobufsConn struct {
	PacketConn
	fail atomic.Int64
}

func (c *enobufsConn) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if len(b) > 500 && c.fail.Add(-1) >= 0 {
		return 0, syscall.ENOBUFS
	}
	return c.PacketConn.WriteToUDPAddrPort(b, to)
}

// TestLocalDropsDoNotCollapseTheRate: packets the local socket refused
// (ENOBUFS) were never on the network; they are resent, but their loss is
// not congestion, so the send rate stays where it was (issue 13 item 4).
// Before, each such loss multiplied the rate by 0.7.
func TestLocalDropsDoNotCollapseTheRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		spc, err := n.Listen(srvAddr)
		if err != nil {
			t.Fatal(err)
		}
		// 30 ms each way on the server's side: round trips long enough
		// that this little traffic never grows the rate.
		srv, err := ListenPacket(spc, &Config{Link: &LinkConditions{
			Send: LinkDirection{Latency: 30 * time.Millisecond}, Receive: LinkDirection{Latency: 30 * time.Millisecond}}})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cpc, err := n.Listen(cliAddr)
		if err != nil {
			t.Fatal(err)
		}
		ec := &enobufsConn{PacketConn: cpc}
		cep, err := NewEndpoint(ec, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cep.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		go func() {
			if c, err := srv.Accept(ctx); err == nil {
				<-c.Done()
			}
		}()
		cli, err := cep.Dial(ctx, srvAddr, DialOptions{Fingerprint: srv.Fingerprint()})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		rate0 := cli.Stats().SendRate
		if rate0 != ackhandler.DefaultInitialRate {
			t.Fatalf("rate %v before the test, want the initial %d", rate0, ackhandler.DefaultInitialRate)
		}
		for round := range 3 {
			ec.fail.Store(3)
			for range 8 {
				if err := cli.Send(0, make([]byte, 1000)); err != nil {
					t.Fatal(err)
				}
			}
			cli.Flush()
			deadline := time.Now().Add(30 * time.Second)
			for cli.Stats().QueuedReliableBytes > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: data never acknowledged: %+v", round, cli.Stats())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
		}
		st, es := cli.Stats(), cep.Stats()
		t.Logf("lost %d, resends %d, local drops %d, rate %v", st.LostPackets, st.Resends, es.LocalDrops, st.SendRate)
		if es.LocalDrops != 9 || st.LostPackets < 9 || st.Resends < 9 {
			t.Fatalf("want 9 local drops, declared lost and resent: %+v, endpoint %+v", st, es)
		}
		if st.SendRate < rate0 {
			t.Fatalf("the send rate fell from %v to %v after losses that were local drops", rate0, st.SendRate)
		}
	})
}

// TestSendQueueFullAllocatesNothing: a bulk sender meets ErrQueueFull
// often; the error must not cost allocations (it cost about five, a
// formatted message with the byte count, before).
func TestSendQueueFullAllocatesNothing(t *testing.T) {
	p := newFakePair(t, nil, &Config{SendQueueBytes: 1 << 20, MaxMessageSize: 1 << 20})
	_, cli := p.connect(t)
	msg := make([]byte, 64<<10)
	for i := 0; ; i++ {
		err := cli.Send(0, msg)
		if errors.Is(err, ErrQueueFull) {
			break
		}
		if err != nil || i > 100 {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := cli.Send(0, msg); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("want ErrQueueFull, got %v", err)
		}
	}); n != 0 {
		t.Fatalf("Send on a full queue: %v allocations, want 0", n)
	}
}
