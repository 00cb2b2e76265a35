package netcode

import (
	"context"
	"net/netip"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
)

// goroutinesCreated reads the runtime's cumulative count of goroutines
// created. Every firing of a connection's timer (time.AfterFunc) creates
// one, so the count shows a timer that fires in a loop.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// A peer that stops acknowledging (here: its game stops reading, so flow
// control refuses everything) leaves the sender with its bytes in flight at
// the congestion controller's cap. The sender must then wait for an
// acknowledgement or its loss timer, not poll: a malicious client that
// withholds acknowledgements must not make the server burn a core per
// connection. Real time on the in-memory network (under synctest the
// busy timer would stop the fake clock and hang the test).
func TestAttackStalledSenderDoesNotSpin(t *testing.T) {
	n := fakenet.New()
	sa, ca := netip.MustParseAddrPort("10.7.0.1:1"), netip.MustParseAddrPort("10.7.0.2:1")
	spc, _ := n.Listen(sa)
	cpc, _ := n.Listen(ca)
	cfg := &Config{RecvBufferBytes: 1 << 20, MaxMessageSize: 64 << 10}
	srvEP, err := ListenPacket(spc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srvEP.Close()
	cliEP, err := NewEndpoint(cpc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cliEP.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go srvEP.Accept(ctx)
	cli, err := cliEP.Dial(ctx, sa, DialOptions{Fingerprint: srvEP.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	// 4 MB toward a server whose game never reads: 1 MiB is taken, the
	// rest waits in the client's queue with a full flight outstanding.
	msg := make([]byte, 1000)
	for i := range 4000 {
		if err := cli.Send(0, msg); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			cli.Flush()
			time.Sleep(time.Millisecond)
		}
	}
	cli.Flush()
	time.Sleep(time.Second)
	g0, w0 := goroutinesCreated(), time.Now()
	time.Sleep(time.Second)
	fired := float64(goroutinesCreated()-g0) / time.Since(w0).Seconds()
	st := cli.Stats()
	t.Logf("stalled sender: %.0f goroutines created per second (timer firings); %d bytes queued, %d resends", fired, st.QueuedReliableBytes, st.Resends)
	if st.QueuedReliableBytes == 0 {
		t.Fatal("the sender is not stalled: the test does not exercise the in-flight cap")
	}
	// A healthy stalled connection wakes for its loss timer, keepalives
	// and the 1 s housekeeping: tens of times a second at most.
	if fired > 2000 {
		t.Errorf("%.0f timer firings per second on a stalled connection: its timer is polling, not waiting", fired)
	}
}
