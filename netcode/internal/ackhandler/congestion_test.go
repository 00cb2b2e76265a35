package ackhandler

import (
	"errors"
	"math"
	"testing"
	"time"
)

func newCC(t *testing.T, cfg CongestionConfig) *Congestion {
	t.Helper()
	c, err := NewCongestion(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rttOf(d time.Duration) *RTT {
	var r RTT
	r.Update(d, 0)
	return &r
}

func TestCongestionDefaults(t *testing.T) {
	c := newCC(t, CongestionConfig{})
	want := CongestionConfig{DefaultInitialRate, DefaultMinRate, DefaultMaxRate, DefaultMaxInFlight, DefaultMaxDatagram}
	if c.Config() != want || c.Rate() != DefaultInitialRate {
		t.Fatalf("config %+v rate %d", c.Config(), c.Rate())
	}
	for _, bad := range []CongestionConfig{
		{InitialRate: -1},
		{MaxInFlight: -5},
		{MinRate: 2 << 20}, // above the default initial rate
		{InitialRate: 200 << 20},
		{MinRate: 10, InitialRate: 20, MaxRate: 15},
	} {
		if _, err := NewCongestion(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("NewCongestion(%+v): err %v", bad, err)
		}
	}
}

func TestCongestionBacksOffOnLoss(t *testing.T) {
	c := newCC(t, CongestionConfig{MinRate: 300_000})
	rtt := rttOf(20 * time.Millisecond)
	rate := float64(c.Rate())
	c.OnLoss(at(0), rtt)
	rate *= 0.7
	if c.Rate() != int(rate) {
		t.Fatalf("rate %d after a loss, want %d", c.Rate(), int(rate))
	}
	c.OnLoss(at(19), rtt) // same round trip: same event
	if c.Rate() != int(rate) {
		t.Fatalf("rate %d after a second loss within an RTT, want %d", c.Rate(), int(rate))
	}
	c.OnLoss(at(20), rtt)
	rate *= 0.7
	if c.Rate() != int(rate) {
		t.Fatalf("rate %d after a loss one RTT later, want %d", c.Rate(), int(rate))
	}
	for i := range 20 {
		c.OnLoss(at(40+20*float64(i)), rtt)
	}
	if c.Rate() != 300_000 {
		t.Fatalf("rate %d after many losses, want MinRate 300000", c.Rate())
	}
}

// drive sends at the full budget (or at most appRate bytes/s if appRate > 0)
// for d of simulated time, acknowledging every packet one RTT later, and
// returns the time reached.
func drive(c *Congestion, now time.Time, d time.Duration, rtt *RTT, appRate float64) time.Time {
	const step = 100 * time.Microsecond
	type sent struct {
		at   time.Time
		size int
	}
	var inFlight []sent
	bytes := 0
	appBudget := 0.0
	for end := now.Add(d); now.Before(end); now = now.Add(step) {
		for len(inFlight) > 0 && !now.Before(inFlight[0].at.Add(rtt.Smoothed())) {
			c.OnAcked(now, inFlight[0].size, rtt)
			bytes -= inFlight[0].size
			inFlight = inFlight[1:]
		}
		appBudget += appRate * step.Seconds()
		for c.CanSend(now, bytes, 1200) && (appRate == 0 || appBudget >= 1200) {
			c.OnSent(now, 1200)
			inFlight = append(inFlight, sent{now, 1200})
			bytes += 1200
			appBudget -= 1200
		}
		if appRate == 0 {
			appBudget = 0
		}
	}
	return now
}

func TestCongestionRecoversWithoutLoss(t *testing.T) {
	rtt := rttOf(20 * time.Millisecond)
	c := newCC(t, CongestionConfig{InitialRate: 100_000, MaxRate: 50 << 20})
	// Slow start: doubling per RTT, so 10 RTTs take 100 KB/s to the 50 MB/s cap.
	now := drive(c, at(0), 10*20*time.Millisecond, rtt, 0)
	if c.Rate() < 50_000_000/2 {
		t.Fatalf("rate %d after 10 RTTs of slow start from 100 KB/s", c.Rate())
	}
	drive(c, now, 20*20*time.Millisecond, rtt, 0)
	if c.Rate() != 50<<20 {
		t.Fatalf("rate %d, want MaxRate %d", c.Rate(), 50<<20)
	}

	// After a loss: +10% per RTT, not x2.
	c = newCC(t, CongestionConfig{InitialRate: 1_000_000})
	c.OnLoss(at(0), rtt)
	after := float64(c.Rate())
	drive(c, at(0), 10*20*time.Millisecond, rtt, 0)
	got := float64(c.Rate())
	// About 10 epochs (one per RTT, each starting at an ACK): 1.1^8..1.1^11.
	if got < after*math.Pow(1.1, 8) || got > after*math.Pow(1.1, 11) {
		t.Fatalf("rate %v after 10 RTTs of avoidance from %v: want x1.1 per RTT", got, after)
	}
}

func TestCongestionAppLimitedDoesNotGrow(t *testing.T) {
	rtt := rttOf(20 * time.Millisecond)
	c := newCC(t, CongestionConfig{})
	drive(c, at(0), 2*time.Second, rtt, 100_000) // a game sending 100 KB/s
	if c.Rate() != DefaultInitialRate {
		t.Fatalf("rate grew to %d while the sender used a tenth of it", c.Rate())
	}
	// ACKs that acknowledge nothing new end no round trip.
	c2 := newCC(t, CongestionConfig{})
	for i := range 100 {
		c2.OnSent(at(float64(i)*20), 1<<20)
		c2.OnAcked(at(float64(i)*20), 0, rtt)
	}
	if c2.Rate() != DefaultInitialRate {
		t.Fatalf("rate grew to %d without any acknowledged bytes", c2.Rate())
	}
	// A sender using most of its budget does grow.
	drive(c, at(2000), 200*time.Millisecond, rtt, 0.9*DefaultInitialRate)
	if c.Rate() <= DefaultInitialRate {
		t.Fatalf("rate %d did not grow while the sender used 90%% of it", c.Rate())
	}
}

func TestCongestionTokenBucketRespectsRate(t *testing.T) {
	for _, rate := range []int{50_000, 1 << 20, 20 << 20} {
		c := newCC(t, CongestionConfig{InitialRate: rate, MinRate: rate, MaxRate: rate})
		const d = 2 * time.Second
		bytes := 0
		now := at(0)
		end := now.Add(d)
		for now.Before(end) {
			for c.CanSend(now, 0, 1200) {
				c.OnSent(now, 1200)
				bytes += 1200
			}
			next := c.NextSendTime(now)
			if !next.After(now) {
				t.Fatalf("rate %d: NextSendTime %v not after now with an empty bucket", rate, next.Sub(now))
			}
			if c.CanSend(next.Add(-time.Microsecond), 0, 1200) && next.Sub(now) > time.Microsecond {
				t.Fatalf("rate %d: could send before NextSendTime", rate)
			}
			now = next
		}
		burst := max(BurstDatagrams*1200, rate/1000)
		want := float64(rate)*d.Seconds() + float64(burst)
		if math.Abs(float64(bytes)-want) > 1200+0.001*want {
			t.Fatalf("rate %d: sent %d bytes in %v, want %.0f (rate*time + burst)", rate, bytes, d, want)
		}
	}
}

func TestCongestionBurstAndOverdraft(t *testing.T) {
	c := newCC(t, CongestionConfig{})
	// A full bucket sends BurstDatagrams datagrams at once, then no more.
	n := 0
	for c.CanSend(at(0), 0, 1200) {
		c.OnSent(at(0), 1200)
		n++
	}
	if n != BurstDatagrams {
		t.Fatalf("burst of %d datagrams, want %d", n, BurstDatagrams)
	}
	// Ack-only packets bypass CanSend; charging them delays data, bounded.
	for range 100 {
		c.OnSent(at(0), 1200)
	}
	// The bucket stops at one burst below zero; a datagram needs 1200 more.
	debt := BurstDatagrams*1200 + 1200
	wait := time.Duration(float64(debt) / DefaultInitialRate * float64(time.Second))
	if got, want := c.NextSendTime(at(0)), at(0).Add(wait); got.Before(want) || got.After(want.Add(time.Millisecond)) {
		t.Fatalf("NextSendTime %v after overdraft, want ~%v (one burst of debt)", got.Sub(t0), want.Sub(t0))
	}
	// Time that goes backwards earns nothing.
	if c.CanSend(at(-1000), 0, 1200) || c.CanSend(at(0), 0, 1200) {
		t.Fatal("tokens from time going backwards")
	}
}

func TestCongestionInFlightCap(t *testing.T) {
	tests := []struct {
		name string
		cfg  CongestionConfig
		rtt  time.Duration
		want int
	}{
		{"before any sample: InitialRTT", CongestionConfig{}, 0, 2 * DefaultInitialRate / 10},
		{"rate*rtt*2", CongestionConfig{}, 50 * time.Millisecond, 2 * DefaultInitialRate / 20},
		{"floor 64 KB", CongestionConfig{}, 5 * time.Millisecond, MinInFlightCap},
		{"rtt below 1ms counts as 1ms", CongestionConfig{InitialRate: 50 << 20}, 100 * time.Microsecond, 2 * (50 << 20) / 1000},
		{"MaxInFlight", CongestionConfig{InitialRate: 50 << 20}, 100 * time.Millisecond, DefaultMaxInFlight},
		{"MaxInFlight below the floor", CongestionConfig{MaxInFlight: 10_000}, 100 * time.Millisecond, 10_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCC(t, tt.cfg)
			if tt.rtt > 0 {
				c.OnAcked(at(0), 0, rttOf(tt.rtt))
			}
			got := c.InFlightCap()
			if got < tt.want-1 || got > tt.want+1 {
				t.Fatalf("InFlightCap %d, want %d", got, tt.want)
			}
			if !c.CanSend(at(0), got-1200, 1200) {
				t.Fatal("CanSend false just under the cap")
			}
			if c.CanSend(at(0), got-1199, 1200) {
				t.Fatal("CanSend true over the cap")
			}
		})
	}
}

func TestCongestionAllocs(t *testing.T) {
	c := newCC(t, CongestionConfig{})
	rtt := rttOf(10 * time.Millisecond)
	now := at(0)
	n := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		if c.CanSend(now, 0, 1200) {
			c.OnSent(now, 1200)
		}
		c.OnAcked(now, 1200, rtt)
		c.NextSendTime(now)
	})
	if n != 0 {
		t.Fatalf("allocates %v times", n)
	}
}
