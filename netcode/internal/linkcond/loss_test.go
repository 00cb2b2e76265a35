package linkcond_test

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

const statN = 20000

// sigma5 is five standard deviations of a binomial count over n trials.
func sigma5(n int, p float64) float64 { return 5 * math.Sqrt(float64(n)*p*(1-p)) }

// sendAll writes statN numbered datagrams through the rig's conditioner (or,
// with receive set, from the peer into it) gap apart, waits for them to
// settle and returns what arrived.
func sendAll(t *testing.T, cfg linkcond.Config, receive bool, gap time.Duration) ([]arrival, linkcond.Stats) {
	var got []arrival
	var stats linkcond.Stats
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, cfg)
		var col *collector
		if receive {
			col = collect(r.lc)
		} else {
			col = collect(r.peer)
		}
		for i := range statN {
			if receive {
				r.peer.WriteToUDPAddrPort(packetOf(i, 8), addrA)
			} else {
				r.lc.WriteToUDPAddrPort(packetOf(i, 8), addrB)
			}
			if gap > 0 {
				time.Sleep(gap)
			} else if receive && i%1000 == 999 {
				synctest.Wait() // let the reader keep up with fakenet's queue
			}
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		got, stats = col.arrivals(), r.lc.Stats()
		checkInvariants(t, "Send", stats.Send)
		checkInvariants(t, "Receive", stats.Receive)
	})
	return got, stats
}

func TestLossRate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		receive bool
		p       float64
	}{{"send 10%", false, 0.1}, {"receive 25%", true, 0.25}, {"send 1%", false, 0.01}} {
		t.Run(tc.name, func(t *testing.T) {
			d := linkcond.Direction{Loss: tc.p}
			cfg := linkcond.Config{Seed: 42, Send: d}
			if tc.receive {
				cfg = linkcond.Config{Seed: 42, Receive: d}
			}
			got, stats := sendAll(t, cfg, tc.receive, 0)
			lost := statN - len(got)
			within(t, "lost", float64(lost), tc.p*statN, sigma5(statN, tc.p))
			ds := stats.Send
			if tc.receive {
				ds = stats.Receive
			}
			if ds.DroppedLoss != uint64(lost) || ds.Packets != statN {
				t.Errorf("stats = %+v, want %d packets and DroppedLoss %d", ds, statN, lost)
			}
			if inv := inversions(got); inv != 0 {
				t.Errorf("loss alone reordered %d packets", inv)
			}
		})
	}
}

func TestSeedMakesRunsRepeatable(t *testing.T) {
	lostSet := func(seed uint64) []int {
		got, _ := sendAll(t, linkcond.Config{Seed: seed, Send: linkcond.Direction{Loss: 0.2}}, false, 0)
		k := counts(got, statN)
		var lost []int
		for i, c := range k {
			if c == 0 {
				lost = append(lost, i)
			}
		}
		return lost
	}
	a, b, c := lostSet(5), lostSet(5), lostSet(6)
	if !equalInts(a, b) {
		t.Error("the same seed lost different packets")
	}
	if equalInts(a, c) {
		t.Error("different seeds lost the same packets")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lossRuns returns the fraction of packets lost and the mean length of runs
// of consecutive losses.
func lossRuns(got []arrival) (rate, meanRun float64) {
	k := counts(got, statN)
	lost, runs := 0, 0
	for i, c := range k {
		if c == 0 {
			lost++
			if i == 0 || k[i-1] != 0 {
				runs++
			}
		}
	}
	return float64(lost) / statN, float64(lost) / float64(max(runs, 1))
}

func TestGilbertElliottLosesInLongerRuns(t *testing.T) {
	const enter, exit = 0.01, 0.2
	avg := enter / (enter + exit) // stationary share of the bad state, ≈ 4.8 %
	burst, bstats := sendAll(t, linkcond.Config{Seed: 9, Send: linkcond.Direction{BurstEnter: enter, BurstExit: exit}}, false, 0)
	indep, _ := sendAll(t, linkcond.Config{Seed: 9, Send: linkcond.Direction{Loss: avg}}, false, 0)
	bRate, bRun := lossRuns(burst)
	iRate, iRun := lossRuns(indep)
	t.Logf("burst: rate %.4f mean run %.2f; independent: rate %.4f mean run %.2f", bRate, bRun, iRate, iRun)
	// Correlated losses vary more than binomial ones; ±2.5 points is > 5σ here.
	within(t, "burst loss rate", bRate, avg, 0.025)
	within(t, "independent loss rate", iRate, avg, sigma5(statN, avg)/statN)
	within(t, "burst mean run", bRun, 1/exit, 1.5) // geometric, mean 1/exit
	if bRun < 3*iRun {
		t.Errorf("burst mean run %.2f is not clearly longer than independent %.2f", bRun, iRun)
	}
	if bstats.Send.DroppedBurst == 0 || bstats.Send.DroppedLoss != 0 {
		t.Errorf("burst losses counted as %+v, want DroppedBurst only", bstats.Send)
	}
}

func TestBurstLossBelowOne(t *testing.T) {
	// BurstEnter 1 and BurstExit tiny keeps the chain in the bad state, so the
	// loss rate is BurstLoss itself.
	got, _ := sendAll(t, linkcond.Config{Seed: 4, Send: linkcond.Direction{BurstEnter: 1, BurstExit: 1e-9, BurstLoss: 0.3}}, false, 0)
	rate, _ := lossRuns(got)
	within(t, "loss rate in the bad state", rate, 0.3, sigma5(statN, 0.3)/statN)
}

func TestDuplicationRate(t *testing.T) {
	for _, receive := range []bool{false, true} {
		name := map[bool]string{false: "send", true: "receive"}[receive]
		t.Run(name, func(t *testing.T) {
			d := linkcond.Direction{Duplicate: 0.1, Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}
			cfg := linkcond.Config{Seed: 11, Send: d}
			if receive {
				cfg = linkcond.Config{Seed: 11, Receive: d}
			}
			got, stats := sendAll(t, cfg, receive, 100*time.Microsecond)
			k := counts(got, statN)
			dups, apart := 0, 0
			first := make(map[int]time.Duration)
			for _, a := range got {
				if at, ok := first[a.idx]; ok && at != a.at {
					apart++
				}
				first[a.idx] = a.at
			}
			for i, c := range k {
				if c < 1 || c > 2 {
					t.Fatalf("packet %d arrived %d times", i, c)
				}
				dups += c - 1
			}
			within(t, "duplicates", float64(dups), 0.1*statN, sigma5(statN, 0.1))
			ds := stats.Send
			if receive {
				ds = stats.Receive
			}
			if ds.Duplicated != uint64(dups) {
				t.Errorf("Duplicated = %d, counted %d", ds.Duplicated, dups)
			}
			if apart < dups/2 {
				t.Errorf("only %d of %d copies got their own delay", apart, dups)
			}
		})
	}
}

func TestReorderProbability(t *testing.T) {
	const lat, hold = 5 * time.Millisecond, 10 * time.Millisecond
	got, stats := sendAll(t, linkcond.Config{Seed: 13, Send: linkcond.Direction{Latency: lat, Reorder: 0.1, ReorderDelay: hold}}, false, time.Millisecond)
	if len(got) != statN {
		t.Fatalf("%d arrivals, want %d", len(got), statN)
	}
	pos := make([]int, statN)
	held := make([]bool, statN)
	n := 0
	for i, a := range got {
		pos[a.idx] = i
		switch d := a.at - time.Duration(a.idx)*time.Millisecond; d {
		case lat:
		case lat + hold:
			held[a.idx] = true
			n++
		default:
			t.Fatalf("packet %d delayed %v, want %v or %v", a.idx, d, lat, lat+hold)
		}
	}
	within(t, "held back", float64(n), 0.1*statN, sigma5(statN, 0.1))
	if stats.Send.Reordered != uint64(n) {
		t.Errorf("Reordered = %d, counted %d", stats.Send.Reordered, n)
	}
	for i := range statN - 1 {
		if held[i] && !held[i+1] && pos[i] < pos[i+1] {
			t.Fatalf("held packet %d was not overtaken by packet %d", i, i+1)
		}
	}
}

func TestReorderDelayDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Send: linkcond.Direction{Latency: 5 * time.Millisecond, Reorder: 1}})
		col := collect(r.peer)
		r.lc.WriteToUDPAddrPort(packetOf(0, 8), addrB)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := col.arrivals(); len(got) != 1 || got[0].at != 5*time.Millisecond+linkcond.MinReorderDelay {
			t.Fatalf("arrivals = %v, want one at 5ms + %v", got, linkcond.MinReorderDelay)
		}
	})
}
