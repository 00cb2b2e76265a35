package netcode

import (
	"maps"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 12, defect 12 (a silent stall), a guard: once a path that lost
// nearly everything comes back, a reliable stream resumes within seconds,
// not after a probe timeout that doubled through the whole attack (PTO *
// 2^6 would be 13-20 s on a 200-300 ms path, the size of the 22 s stall
// the issue saw). It passes today: acknowledgements that get through
// reset the backoff, so this is not how that stall came about. A
// client sends a 1,000-byte line every 10 ms (enough to fill its
// congestion window while packets are lost, so that only probes go out)
// to its server over a 200 ms round trip; 97% of its datagrams are lost
// for 20 s (enough get through that neither side times out).
func TestReliableResumesPromptlyAfterAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := LinkDirection{Latency: 50 * time.Millisecond}
		p := newFakePair(t, &Config{Link: &LinkConditions{Send: slow, Receive: slow, Seed: 1}},
			&Config{Link: &LinkConditions{Send: slow, Receive: slow, Seed: 2}})
		srv, cli := p.connect(t)
		const every = 10 * time.Millisecond
		start := time.Now()
		outageAt, restoreAt := 5*time.Second, 25*time.Second
		var mu sync.Mutex
		arrived := map[uint64]time.Duration{}
		arrivedCopy := func() map[uint64]time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return maps.Clone(arrived)
		}
		var probeAtRestore time.Duration
		missingAtRestore := 0
		var sentAt []time.Duration
		done := make(chan struct{})
		go func() { // the server
			defer close(done)
			deadline := time.After(60 * time.Second)
			for {
				select {
				case <-srv.Wake():
				case <-deadline:
					return
				}
				for m, ok := srv.Receive(); ok; m, ok = srv.Receive() {
					mu.Lock()
					arrived[msgSeq(t, m.Data)] = time.Since(start)
					mu.Unlock()
				}
			}
		}()
		for seq := uint64(0); time.Since(start) < 40*time.Second; seq++ {
			switch el := time.Since(start); {
			case el >= outageAt && el < restoreAt:
				p.cliTap.setLoss(0.97)
			default:
				p.cliTap.setLoss(0)
			}
			if el := time.Since(start); el >= restoreAt && probeAtRestore == 0 {
				probeAtRestore = cli.Stats().ProbeTimeout
				missingAtRestore = len(sentAt) - len(arrivedCopy())
			}
			sentAt = append(sentAt, time.Since(start))
			if err := cli.Send(0, seqMsg(seq, 1000)); err != nil {
				t.Fatalf("send %d: %v", seq, err)
			}
			cli.Flush()
			time.Sleep(every)
		}
		<-done
		// Every line must arrive; after the path comes back, the lines
		// still missing then must start arriving at once.
		resumed := time.Hour
		for i, at := range sentAt {
			a, ok := arrived[uint64(i)]
			if !ok {
				t.Fatalf("line %d (sent at %v) never arrived; %d of %d did", i, at, len(arrived), len(sentAt))
			}
			if at < restoreAt && a >= restoreAt {
				resumed = min(resumed, a-restoreAt)
			}
		}
		t.Logf("97%% loss %v-%v; at its end %d lines were missing and the probe timeout was %v; the first of them arrived %v after it",
			outageAt, restoreAt, missingAtRestore, probeAtRestore, resumed)
		if resumed > 3*time.Second {
			t.Errorf("the reliable stream resumed %v after the path came back, want within 3 s", resumed)
		}
	})
}

// Issue 12, defect 12, lead 3 (a guard): a sender that has nothing new to
// send after an outage must not wait out a probe timeout that doubled
// through it. Everything the client sends is lost for 5 s (one way, and
// shorter than the idle timeout: nobody times out) on a 200 ms round trip;
// the client sent 50 lines as the outage began and nothing after. Its probe timeout backs off to several seconds meanwhile
// (probes at about 0.3, 0.9, 2.1 and 4.5 s; the next one about 9 s in),
// but its keepalive PINGs go out every KeepAlive whatever the backoff, and
// the first one through gets an acknowledgement that resets the backoff
// and shows the lines lost: they must all arrive within 2 s of the path
// coming back. With PINGs held back while data is in flight, it failed:
// "2.01s after the outage the server has 0 of 50 lines; client: probe
// timeout 4.14s".
func TestQuietSenderResumesPromptlyAfterAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := LinkDirection{Latency: 50 * time.Millisecond}
		// The server pings rarely, so that what ends the wait is the
		// client's own keepalive (else the server's next PING, its
		// acknowledgement and the server's acknowledgement of that would
		// tell the client within 2 s too).
		p := newFakePair(t, &Config{Link: &LinkConditions{Send: slow, Receive: slow, Seed: 1}, KeepAlive: 9 * time.Second},
			&Config{Link: &LinkConditions{Send: slow, Receive: slow, Seed: 2}})
		srv, cli := p.connect(t)
		time.Sleep(time.Second) // a few round trips: an RTT estimate
		const lines = 50
		p.cliTap.setLoss(1)
		for seq := range uint64(lines) {
			if err := cli.Send(0, seqMsg(seq, 100)); err != nil {
				t.Fatal(err)
			}
		}
		cli.Flush()
		time.Sleep(5 * time.Second)
		pto := cli.Stats().ProbeTimeout
		p.cliTap.setLoss(0)
		clean := time.Now()
		got := 0
		for got < lines {
			if el := time.Since(clean); el > 2*time.Second {
				st := cli.Stats()
				t.Fatalf("%v after the outage the server has %d of %d lines; client: probe timeout %v (%v at the end of the outage), oldest unacknowledged %v",
					el, got, lines, st.ProbeTimeout, pto, st.OldestUnacked)
			}
			for _, c := range []*Conn{srv, cli} {
				if err := c.Err(); err != nil {
					t.Fatalf("connection ended: %v", err)
				}
			}
			time.Sleep(10 * time.Millisecond)
			for m, ok := srv.Receive(); ok; m, ok = srv.Receive() {
				if s := msgSeq(t, m.Data); s != uint64(got) {
					t.Fatalf("got line %d, want %d", s, got)
				}
				got++
			}
		}
		t.Logf("the probe timeout had backed off to %v; all %d lines arrived %v after the outage", pto, lines, time.Since(clean))
		if pto < time.Second {
			t.Errorf("probe timeout %v at the end of the outage: it did not back off, so this tests nothing", pto)
		}
	})
}
