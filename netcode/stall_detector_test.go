package netcode

import (
	"testing"
	"testing/synctest"
	"time"
)

// A reliable stream that makes no progress shows in Stats.OldestUnacked
// even though the connection is otherwise healthy (no error, keepalives and
// acknowledgements flowing). Here the server's game stops reading, its
// receive buffer fills, and it refuses the client's data (flow control):
// the client's oldest unacknowledged message ages with the stall and is
// back to zero once the server reads again and everything is acknowledged.
func TestStatsOldestUnackedShowsAStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{MaxMessageSize: 4096, RecvBufferBytes: 32 << 10}
		p := newFakePair(t, cfg, cfg)
		srv, cli := p.connect(t)
		if st := cli.Stats(); st.OldestUnacked != 0 || st.ProbeTimeout <= 0 {
			t.Fatalf("idle connection: OldestUnacked %v, ProbeTimeout %v", st.OldestUnacked, st.ProbeTimeout)
		}
		const n = 200
		start := time.Now()
		for i := range n {
			if err := cli.Send(0, seqMsg(uint64(i), 500)); err != nil {
				t.Fatal(err)
			}
		}
		cli.Flush()
		time.Sleep(5 * time.Second)
		st := cli.Stats()
		if err := cli.Err(); err != nil {
			t.Fatalf("connection ended: %v", err)
		}
		if srv.Stats().RefusedPackets == 0 {
			t.Fatal("the server refused nothing: the stall under test did not happen")
		}
		if want := time.Since(start); st.OldestUnacked != want {
			t.Errorf("after a 5 s stall: OldestUnacked %v, want %v (the first message's age)", st.OldestUnacked, want)
		}
		got := 0
		receiveUntil(t, srv, 30*time.Second, func(m Message) {
			if s := msgSeq(t, m.Data); s != uint64(got) {
				t.Fatalf("got %d, want %d", s, got)
			}
			got++
		}, func() bool { return got == n })
		time.Sleep(time.Second) // the last acknowledgements
		if st := cli.Stats(); st.OldestUnacked != 0 {
			t.Errorf("everything delivered, OldestUnacked %v", st.OldestUnacked)
		}
	})
}
