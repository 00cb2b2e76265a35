package netcode

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestIdleConnectionGivesBackBurstMemory: after a burst of 2,000 reliable
// messages, fully delivered and acknowledged, a connection left quiet for
// a few trim intervals holds no pooled message buffer or record on either
// side, and its endpoints' outbound queues keep only the free packet
// buffers keepalives cycle through (issue 13 item 7: a chat server kept what each client's burst of player
// lists left pooled, 24 KB per client).
func TestIdleConnectionGivesBackBurstMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		sc, cc := p.connect(t)
		const n = 2000
		go sendAll(t, cc, 0, n, 300)
		got := 0
		receiveUntil(t, sc, time.Minute, func(m Message) { msgSeq(t, m.Data); got++ }, func() bool { return got == n })
		pooled := func(c *Conn) (bytes, records int) {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.sender.PooledBytesForTest() + c.receiver.PooledBytesForTest(), c.sender.FreeRecordsForTest() + c.receiver.FreeRecordsForTest()
		}
		cb, cr := pooled(cc)
		sb, sr := pooled(sc)
		t.Logf("after the burst: client %d pooled bytes, %d records; server %d, %d", cb, cr, sb, sr)
		freeBufs := func(e *Endpoint) int {
			e.out.mu.Lock()
			defer e.out.mu.Unlock()
			return len(e.out.free)
		}
		burstFree := freeBufs(p.cli)
		t.Logf("client endpoint: %d free packet buffers", burstFree)
		if cb == 0 || sb == 0 || burstFree <= 2 {
			t.Fatal("nothing pooled after the burst: the test sees nothing")
		}
		time.Sleep(3*trimInterval + time.Second)
		for _, c := range []*Conn{cc, sc} {
			if b, r := pooled(c); b != 0 || r != 0 {
				t.Errorf("server %v, quiet for %v: %d pooled bytes, %d free records", c.server, 3*trimInterval, b, r)
			}
		}
		for _, e := range []*Endpoint{p.cli, p.srv} {
			if free := freeBufs(e); free > 2 {
				t.Errorf("an endpoint quiet for %v keeps %d free packet buffers, want at most the 2 its keepalives use", 3*trimInterval, free)
			}
		}
		cc.Close()
		sc.Close()
	})
}
