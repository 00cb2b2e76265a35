package linkcond_test

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

var _ linkcond.PacketConn = (*linkcond.Conn)(nil)
var _ linkcond.PacketConn = (*net.UDPConn)(nil)

func TestZeroConfigPassesThroughInOrderWithoutDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{})
		t0 := time.Now()
		buf := make([]byte, 2048)
		// Send: each write is readable at the peer at once, unchanged.
		for i := range 500 {
			msg := packetOf(i, 8+i%1200)
			if n, err := r.lc.WriteToUDPAddrPort(msg, addrB); err != nil || n != len(msg) {
				t.Fatalf("write %d = %d, %v", i, n, err)
			}
			n, from, err := r.peer.ReadFromUDPAddrPort(buf)
			if err != nil || from != addrA || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("peer read %d: %d bytes from %v, %v; payload intact: %v", i, n, from, err, bytes.Equal(buf[:n], msg))
			}
		}
		// Receive: a burst written by the peer comes out in order.
		for i := range 500 {
			r.peer.WriteToUDPAddrPort(packetOf(i, 8+i%1200), addrA)
		}
		for i := range 500 {
			n, from, err := r.lc.ReadFromUDPAddrPort(buf)
			if err != nil || from != addrB || !bytes.Equal(buf[:n], packetOf(i, 8+i%1200)) {
				t.Fatalf("read %d: %d bytes from %v, %v", i, n, from, err)
			}
		}
		if d := time.Since(t0); d != 0 {
			t.Errorf("zero config took %v of fake time, want 0", d)
		}
		s := r.lc.Stats()
		for dir, ds := range map[string]linkcond.DirectionStats{"Send": s.Send, "Receive": s.Receive} {
			checkInvariants(t, dir, ds)
			if ds.Packets != 500 || ds.Delivered != 500 || ds.Pending != 0 || ds.Dropped() != 0 {
				t.Errorf("%s stats = %+v, want 500 packets delivered", dir, ds)
			}
		}
	})
}

func TestLatencyIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{
			Send:    linkcond.Direction{Latency: 50 * time.Millisecond},
			Receive: linkcond.Direction{Latency: 30 * time.Millisecond},
		})
		atPeer := collect(r.peer)
		atLC := collect(r.lc)
		for i := range 10 {
			r.lc.WriteToUDPAddrPort(packetOf(i, 8), addrB)
			r.peer.WriteToUDPAddrPort(packetOf(i, 8), addrA)
			time.Sleep(time.Millisecond)
		}
		time.Sleep(39 * time.Millisecond) // now at 49 ms: packet 0 is due at 50 ms
		synctest.Wait()
		if got := len(atPeer.arrivals()); got != 0 {
			t.Fatalf("%d datagrams arrived before the 50 ms latency", got)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		for name, c := range map[string]struct {
			col  *collector
			want time.Duration
		}{"Send": {atPeer, 50 * time.Millisecond}, "Receive": {atLC, 30 * time.Millisecond}} {
			got := c.col.arrivals()
			if len(got) != 10 {
				t.Fatalf("%s: %d arrivals, want 10", name, len(got))
			}
			for i, a := range got {
				if want := time.Duration(i)*time.Millisecond + c.want; a.idx != i || a.at != want {
					t.Errorf("%s: arrival %d = packet %d at %v, want packet %d at %v", name, i, a.idx, a.at, i, want)
				}
			}
		}
	})
}

func TestJitterStaysInBoundsAndReorders(t *testing.T) {
	const n = 2000
	run := func(t *testing.T, jitter time.Duration) []time.Duration {
		var delays []time.Duration
		synctest.Test(t, func(t *testing.T) {
			r := newRig(t, linkcond.Config{Seed: 7, Send: linkcond.Direction{Latency: 50 * time.Millisecond, Jitter: jitter}})
			col := collect(r.peer)
			for i := range n {
				r.lc.WriteToUDPAddrPort(packetOf(i, 8), addrB)
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Second)
			synctest.Wait()
			got := col.arrivals()
			if len(got) != n {
				t.Fatalf("%d arrivals, want %d", len(got), n)
			}
			inv := inversions(got)
			if jitter == 0 && inv != 0 {
				t.Errorf("%d reorderings without jitter", inv)
			}
			if jitter > 0 && inv < n/10 {
				t.Errorf("only %d of %d packets reordered by ±%v jitter at 1 ms spacing", inv, n, jitter)
			}
			for _, a := range got {
				delays = append(delays, a.at-time.Duration(a.idx)*time.Millisecond)
			}
		})
		return delays
	}
	t.Run("none", func(t *testing.T) {
		for _, d := range run(t, 0) {
			if d != 50*time.Millisecond {
				t.Fatalf("delay %v, want exactly 50ms", d)
			}
		}
	})
	t.Run("20ms", func(t *testing.T) {
		delays := run(t, 20*time.Millisecond)
		lo, hi, sum := time.Hour, time.Duration(0), time.Duration(0)
		for _, d := range delays {
			lo, hi, sum = min(lo, d), max(hi, d), sum+d
		}
		if lo < 30*time.Millisecond || hi > 70*time.Millisecond {
			t.Errorf("delays span [%v, %v], want within [30ms, 70ms]", lo, hi)
		}
		if lo > 31*time.Millisecond || hi < 69*time.Millisecond {
			t.Errorf("delays span [%v, %v], want the whole of [30ms, 70ms] used", lo, hi)
		}
		// Uniform on ±20 ms: σ of the mean over 2000 ≈ 0.26 ms.
		within(t, "mean delay (ms)", float64(sum/time.Duration(len(delays)))/1e6, 50, 1.5)
	})
}

func TestJitterLargerThanLatencyClampsAtZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Seed: 3, Send: linkcond.Direction{Latency: 2 * time.Millisecond, Jitter: 10 * time.Millisecond}})
		col := collect(r.peer)
		const n = 2000
		for i := range n {
			r.lc.WriteToUDPAddrPort(packetOf(i, 8), addrB)
			time.Sleep(20 * time.Millisecond) // no overlap: each packet's delay is measurable
		}
		time.Sleep(time.Second)
		synctest.Wait()
		zero := 0
		for _, a := range col.arrivals() {
			d := a.at - time.Duration(a.idx)*20*time.Millisecond
			if d < 0 || d > 12*time.Millisecond {
				t.Fatalf("delay %v outside [0, 12ms]", d)
			}
			if d == 0 {
				zero++
			}
		}
		// P(2ms + U(-10ms, 10ms) ≤ 0) = 8/20.
		within(t, "fraction clamped to 0", float64(zero)/n, 0.4, 0.05)
	})
}

func TestSetConfigTakesEffectForLaterPackets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first := linkcond.Config{Send: linkcond.Direction{Latency: 10 * time.Millisecond}}
		r := newRig(t, first)
		col := collect(r.peer)
		r.lc.WriteToUDPAddrPort(packetOf(0, 8), addrB) // due at 10 ms
		slow := linkcond.Config{Send: linkcond.Direction{Latency: 100 * time.Millisecond}}
		if err := r.lc.SetConfig(slow); err != nil {
			t.Fatal(err)
		}
		r.lc.WriteToUDPAddrPort(packetOf(1, 8), addrB) // due at 100 ms
		time.Sleep(50 * time.Millisecond)
		if err := r.lc.SetConfig(linkcond.Config{}); err != nil {
			t.Fatal(err)
		}
		r.lc.WriteToUDPAddrPort(packetOf(2, 8), addrB) // due now, at 50 ms
		time.Sleep(time.Second)
		synctest.Wait()
		want := []arrival{{0, 10 * time.Millisecond, 8}, {2, 50 * time.Millisecond, 8}, {1, 100 * time.Millisecond, 8}}
		if got := col.arrivals(); !equalArrivals(got, want) {
			t.Errorf("arrivals = %v, want %v", got, want)
		}

		bad := linkcond.Config{Send: linkcond.Direction{Loss: 2}}
		if err := r.lc.SetConfig(bad); !errors.Is(err, linkcond.ErrInvalidConfig) {
			t.Fatalf("SetConfig(invalid) = %v, want ErrInvalidConfig", err)
		}
		if got := r.lc.Config(); got != (linkcond.Config{}) {
			t.Errorf("Config after rejected SetConfig = %+v, want the previous zero Config", got)
		}
		lossy := linkcond.Config{Send: linkcond.Direction{Loss: 1}}
		r.lc.SetConfig(lossy)
		if got := r.lc.Config(); got != lossy {
			t.Errorf("Config = %+v, want %+v", got, lossy)
		}
		r.lc.WriteToUDPAddrPort(packetOf(3, 8), addrB)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := len(col.arrivals()); got != 3 {
			t.Errorf("%d arrivals after switching to Loss 1, want still 3", got)
		}
		if s := r.lc.Stats().Send; s.DroppedLoss != 1 {
			t.Errorf("DroppedLoss = %d, want 1", s.DroppedLoss)
		}
	})
}

func equalArrivals(a, b []arrival) bool {
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

// conditionerGoroutines returns the stacks of goroutines running linkcond's
// own loops.
func conditionerGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "linkcond.(*Conn).schedule") || strings.Contains(g, "linkcond.(*Conn).readLoop") {
			found = append(found, g)
		}
	}
	return found
}

func TestCloseUnblocksReadAndStopsGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Send: linkcond.Direction{Latency: time.Second}, Receive: linkcond.Direction{Latency: time.Second}})
		synctest.Wait() // let the new goroutines start
		if len(conditionerGoroutines()) != 2 {
			t.Fatalf("want the scheduler and reader running, found:\n%s", conditionerGoroutines())
		}
		errc := make(chan error, 2)
		for range 2 {
			go func() {
				_, _, err := r.lc.ReadFromUDPAddrPort(make([]byte, 64))
				errc <- err
			}()
		}
		r.lc.WriteToUDPAddrPort(packetOf(0, 8), addrB) // held for a second
		r.peer.WriteToUDPAddrPort(packetOf(1, 8), addrA)
		peerCol := collect(r.peer)
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if s := r.lc.Stats(); s.Send.Pending != 1 || s.Receive.Pending != 1 {
			t.Fatalf("Pending = %d/%d, want 1/1", s.Send.Pending, s.Receive.Pending)
		}
		if err := r.lc.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for range 2 {
			if err := <-errc; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("blocked read after Close: %v, want net.ErrClosed", err)
			}
		}
		if g := conditionerGoroutines(); len(g) != 0 {
			t.Fatalf("goroutines left after Close:\n%s", strings.Join(g, "\n\n"))
		}
		if err := r.lc.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
		if _, _, err := r.lc.ReadFromUDPAddrPort(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("read after Close: %v, want net.ErrClosed", err)
		}
		if _, err := r.lc.WriteToUDPAddrPort([]byte("x"), addrB); !errors.Is(err, net.ErrClosed) {
			t.Errorf("write after Close: %v, want net.ErrClosed", err)
		}
		if _, err := r.raw.WriteToUDPAddrPort([]byte("x"), addrB); !errors.Is(err, net.ErrClosed) {
			t.Errorf("wrapped conn still open after Close: write = %v", err)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := peerCol.arrivals(); len(got) != 0 {
			t.Errorf("a datagram held at Close was still sent: %v", got)
		}
		if s := r.lc.Stats(); s.Send.Pending != 0 || s.Receive.Pending != 0 {
			t.Errorf("Pending after Close = %d/%d, want 0/0", s.Send.Pending, s.Receive.Pending)
		}
	})
}

func TestWrappedConnClosedUnderneath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{})
		r.peer.WriteToUDPAddrPort(packetOf(0, 8), addrA)
		synctest.Wait()
		r.raw.Close()
		synctest.Wait()
		buf := make([]byte, 64)
		if _, _, err := r.lc.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatalf("the datagram received before the close was lost: %v", err)
		}
		for range 2 { // the error sticks
			if _, _, err := r.lc.ReadFromUDPAddrPort(buf); !errors.Is(err, net.ErrClosed) || !strings.HasPrefix(err.Error(), "linkcond: ") {
				t.Fatalf("read = %v, want a linkcond error matching net.ErrClosed", err)
			}
		}
		if err := r.lc.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

var errFlaky = errors.New("flaky read")

// flakyConn fails its first read with errFlaky.
type flakyConn struct {
	*fakenet.Conn
	once sync.Once
}

func (f *flakyConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	failed := false
	f.once.Do(func() { failed = true })
	if failed {
		return 0, netip.AddrPort{}, errFlaky
	}
	return f.Conn.ReadFromUDPAddrPort(b)
}

func TestTransientReadErrorIsReportedOnceAndReadingContinues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		raw, _ := n.Listen(addrA)
		peer, _ := n.Listen(addrB)
		defer peer.Close()
		lc, err := linkcond.Wrap(&flakyConn{Conn: raw}, linkcond.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer lc.Close()
		buf := make([]byte, 64)
		if _, _, err := lc.ReadFromUDPAddrPort(buf); !errors.Is(err, errFlaky) {
			t.Fatalf("first read = %v, want errFlaky", err)
		}
		peer.WriteToUDPAddrPort([]byte("after"), addrA)
		k, _, err := lc.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:k]) != "after" {
			t.Fatalf("read after transient error = %q, %v", buf[:k], err)
		}
	})
}

func TestOversizeWriteIsRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{Send: linkcond.Direction{Latency: time.Millisecond}})
		if _, err := r.lc.WriteToUDPAddrPort(make([]byte, linkcond.MaxDatagramSize+1), addrB); !errors.Is(err, linkcond.ErrDatagramTooLarge) {
			t.Fatalf("oversize write = %v, want ErrDatagramTooLarge", err)
		}
		col := collect(r.peer)
		if _, err := r.lc.WriteToUDPAddrPort(packetOf(0, linkcond.MaxDatagramSize), addrB); err != nil {
			t.Fatalf("max-size write: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if got := col.arrivals(); len(got) != 1 || got[0].n != linkcond.MaxDatagramSize {
			t.Fatalf("arrivals = %v, want one of %d bytes", got, linkcond.MaxDatagramSize)
		}
	})
}

func TestWrapRejectsInvalidConfig(t *testing.T) {
	n := fakenet.New()
	raw, _ := n.Listen(addrA)
	defer raw.Close()
	if _, err := linkcond.Wrap(raw, linkcond.Config{Receive: linkcond.Direction{Jitter: -1}}); !errors.Is(err, linkcond.ErrInvalidConfig) {
		t.Fatalf("Wrap(invalid) = %v, want ErrInvalidConfig", err)
	}
}

// TestConcurrentUse runs writers, a reader, SetConfig and Stats at once on
// the real clock, for the race detector.
func TestConcurrentUse(t *testing.T) {
	n := fakenet.New()
	raw, _ := n.ListenQueue(addrA, 1<<14)
	peer, _ := n.ListenQueue(addrB, 1<<14)
	defer peer.Close()
	lc, err := linkcond.Wrap(raw, linkcond.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const writers, per = 4, 500
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range per {
				lc.WriteToUDPAddrPort(packetOf(i, 100), addrB)
				peer.WriteToUDPAddrPort(packetOf(i, 100), addrA)
			}
		})
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() {
		cfgs := []linkcond.Config{{}, {Send: linkcond.Direction{Latency: time.Millisecond, Jitter: time.Millisecond, Duplicate: 0.1, Reorder: 0.1}, Receive: linkcond.Direction{Loss: 0.1, Bandwidth: 1e7}}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := lc.SetConfig(cfgs[i%2]); err != nil {
				t.Error(err)
				return
			}
			lc.Stats()
			runtime.Gosched()
		}
	})
	bg.Go(func() {
		buf := make([]byte, 256)
		for {
			if _, _, err := lc.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	time.Sleep(20 * time.Millisecond)
	if err := lc.Close(); err != nil {
		t.Fatal(err)
	}
	bg.Wait()
	s := lc.Stats()
	if s.Send.Packets != writers*per {
		t.Errorf("Send.Packets = %d, want %d", s.Send.Packets, writers*per)
	}
	if s.Send.Passed+s.Send.Dropped() != s.Send.Packets {
		t.Errorf("Send stats inconsistent: %+v", s.Send)
	}
}

// TestDueCopiesKeepTheirOrder checks that a datagram due at once does not
// overtake an earlier one falling due at the same instant, whichever of the
// writer and the scheduler the runtime wakes first.
func TestDueCopiesKeepTheirOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, linkcond.Config{})
		col := collect(r.peer)
		const rounds = 200
		for i := range rounds {
			r.lc.SetConfig(linkcond.Config{Send: linkcond.Direction{Latency: 10 * time.Millisecond}})
			r.lc.WriteToUDPAddrPort(packetOf(2*i, 8), addrB) // due in 10 ms
			r.lc.SetConfig(linkcond.Config{})
			time.Sleep(10 * time.Millisecond)
			r.lc.WriteToUDPAddrPort(packetOf(2*i+1, 8), addrB) // due now, same instant
			time.Sleep(time.Millisecond)
		}
		synctest.Wait()
		got := col.arrivals()
		if len(got) != 2*rounds {
			t.Fatalf("%d arrivals, want %d", len(got), 2*rounds)
		}
		if inv := inversions(got); inv != 0 {
			t.Fatalf("%d of %d rounds reordered datagrams due at the same instant", inv, rounds)
		}
	})
}
