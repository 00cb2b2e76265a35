package netcode

import (
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/ackhandler"
)

// clockTap records when each data-sized datagram was written.
type clockTap struct {
	PacketConn
	mu    sync.Mutex
	times []time.Time
}

func (c *clockTap) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if len(b) > 1000 {
		c.mu.Lock()
		c.times = append(c.times, time.Now())
		c.mu.Unlock()
	}
	return c.PacketConn.WriteToUDPAddrPort(b, to)
}

// TestFlushIsPaced: one Flush of 300 KB does not leave as one burst of up
// to 256 datagrams (maxPacketsPerFlush): at most a bucket's worth (10
// datagrams, or 1 ms of the rate) goes out at once, the rest at the
// pacing rate (issue 13 item 4). A guard: the token bucket already paced
// flushes before issue 13.
func TestFlushIsPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		spc, err := n.Listen(srvAddr)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := ListenPacket(spc, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cpc, err := n.Listen(cliAddr)
		if err != nil {
			t.Fatal(err)
		}
		tap := &clockTap{PacketConn: cpc}
		cep, err := NewEndpoint(tap, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cep.Close()
		p := &fakePair{net: n, srv: srv, cli: cep, srvAddr: srvAddr}
		srvConn, cli := p.connect(t)
		if r := cli.Stats().SendRate; r != ackhandler.DefaultInitialRate {
			t.Fatalf("rate %v, want the initial %d", r, ackhandler.DefaultInitialRate)
		}
		const total = 300 << 10
		for range total / 1000 {
			if err := cli.Send(0, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		cli.Flush()
		got := 0
		receiveUntil(t, srvConn, time.Minute, func(Message) { got++ }, func() bool { return got == total/1000 })
		tap.mu.Lock()
		times := tap.times
		tap.mu.Unlock()
		burst, longest := 0, 0
		for i := range times {
			if i > 0 && times[i].Equal(times[i-1]) {
				burst++
			} else {
				burst = 1
			}
			longest = max(longest, burst)
		}
		el := times[len(times)-1].Sub(start)
		// The rate only grows here (no loss): the bucket is largest at
		// the end, max(10 datagrams, 1 ms of the rate).
		rate := cli.Stats().SendRate
		bucket := max(ackhandler.BurstDatagrams, int(rate/1000/1200)) + 1
		t.Logf("%d datagrams over %v, longest burst %d; rate at the end %.0f B/s, bucket %d datagrams", len(times), el, longest, rate, bucket)
		if longest > bucket {
			t.Fatalf("a burst of %d datagrams, want at most the bucket's %d", longest, bucket)
		}
		if floor := time.Duration(float64(total-bucket*1200) / rate * float64(time.Second)); el < floor {
			t.Fatalf("300 KB left in %v, faster than the final rate allows (%v)", el, floor)
		}
	})
}
