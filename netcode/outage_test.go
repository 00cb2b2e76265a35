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
