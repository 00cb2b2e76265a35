package history

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

func samples(r *Ring) []float64 {
	out := []float64{}
	for i := range r.Len() {
		out = append(out, r.At(i))
	}
	return out
}

func TestRingKeepsNewest(t *testing.T) {
	r := NewRing(3)
	if _, ok := r.Last(); ok {
		t.Fatal("empty ring has a last sample")
	}
	if _, _, ok := r.MinMax(); ok {
		t.Fatal("empty ring has a range")
	}
	for _, v := range []float64{5, 1, math.NaN(), math.Inf(1), 9} {
		r.Push(v)
	}
	if got := samples(r); !reflect.DeepEqual(got, []float64{5, 1, 9}) {
		t.Fatalf("samples %v", got)
	}
	r.Push(4)
	r.Push(7)
	if got := samples(r); !reflect.DeepEqual(got, []float64{9, 4, 7}) {
		t.Fatalf("after wrapping: %v", got)
	}
	if lo, hi, _ := r.MinMax(); lo != 4 || hi != 9 {
		t.Fatalf("MinMax %v %v", lo, hi)
	}
	if v, _ := r.Last(); v != 7 || r.Len() != 3 || r.Cap() != 3 {
		t.Fatalf("Last %v Len %d Cap %d", v, r.Len(), r.Cap())
	}
	if NewRing(0).Cap() != 1 {
		t.Fatal("capacity below 1")
	}
}

func stats(rtt time.Duration) netcode.Stats { return netcode.Stats{RTT: rtt} }

func TestTableSamplesEveryNUpdates(t *testing.T) {
	tb := NewTable(4, 3)
	for i := range 10 {
		tb.Update([]Peer{{Name: "a", Stats: stats(time.Duration(i) * time.Millisecond)}})
	}
	tr := tb.Tracks()[0]
	// Updates 0, 3, 6, 9 sample; the ring holds 4.
	if got := samples(tr.RTT); !reflect.DeepEqual(got, []float64{0, 3, 6, 9}) {
		t.Fatalf("samples %v", got)
	}
	if tr.Stats.RTT != 9*time.Millisecond {
		t.Fatalf("latest stats %v", tr.Stats.RTT)
	}
}

func TestTableFollowsPeers(t *testing.T) {
	tb := NewTable(10, 100)
	tb.Update([]Peer{{Name: "a", Stats: stats(time.Millisecond)}, {Name: "b", Stats: stats(2 * time.Millisecond)}})
	a := tb.Tracks()[0]
	// b leaves, c joins (first sample at once, though no sampling update
	// is due), a moves second and keeps its history.
	tb.Update([]Peer{{Name: "c", Stats: stats(3 * time.Millisecond)}, {Name: "a", Stats: stats(5 * time.Millisecond)}})
	tracks := tb.Tracks()
	var names []string
	for _, tr := range tracks {
		names = append(names, tr.Name)
	}
	if !reflect.DeepEqual(names, []string{"c", "a"}) {
		t.Fatalf("tracks %v", names)
	}
	if tracks[1] != a || a.RTT.Len() != 1 || a.Stats.RTT != 5*time.Millisecond {
		t.Fatalf("a's track was not kept: len %d, stats %v", a.RTT.Len(), a.Stats.RTT)
	}
	if v, _ := tracks[0].RTT.Last(); v != 3 {
		t.Fatalf("c's first sample %v", v)
	}
	// b comes back: a fresh history.
	tb.Update([]Peer{{Name: "b"}, {Name: "b"}})
	if tr := tb.Tracks(); len(tr) != 2 || tr[0] == tr[1] || tr[0].RTT.Len() != 1 {
		t.Fatal("two peers with one name share a track")
	}
	tb.Update(nil)
	if len(tb.Tracks()) != 0 {
		t.Fatal("tracks kept with no peers")
	}
}

func TestTableUpdateDoesNotAllocateInSteadyState(t *testing.T) {
	tb := NewTable(120, 1)
	peers := []Peer{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	tb.Update(peers)
	tb.Update(peers)
	if n := testing.AllocsPerRun(100, func() { tb.Update(peers) }); n != 0 {
		t.Fatalf("%v allocations per Update", n)
	}
}

func TestFormat(t *testing.T) {
	s := netcode.Stats{
		RTT:            12345 * time.Microsecond,
		Jitter:         760 * time.Microsecond,
		Loss:           0.0004,
		BytesInPerSec:  3100,
		BytesOutPerSec: 2849,
	}
	if got, want := Format(s), "RTT 12.3 ms ±0.8  loss 0.0%  ↓ 3.1 kB/s ↑ 2.8 kB/s"; got != want {
		t.Fatalf("Format = %q, want %q", got, want)
	}
	s = netcode.Stats{RTT: 250 * time.Millisecond, Loss: 0.125, BytesInPerSec: 12, BytesOutPerSec: 2_500_000}
	if got, want := Format(s), "RTT 250.0 ms ±0.0  loss 12.5%  ↓ 12 B/s ↑ 2.5 MB/s"; got != want {
		t.Fatalf("Format = %q, want %q", got, want)
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[uint64]string{
		0: "0 B/s", 999: "999 B/s", 1000: "1.0 kB/s", 3149: "3.1 kB/s", 999_949: "999.9 kB/s",
		999_950: "1.0 MB/s", 12_000_000: "12.0 MB/s", 1_234_000_000: "1.2 GB/s",
	} {
		if got := Rate(in); got != want {
			t.Errorf("Rate(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct {
		lo, hi, minSpan float64
		want            Scale
	}{
		{10.2, 13.7, 1, Scale{10, 14}},        // span 3.5: steps of 1
		{0.1, 0.3, 1, Scale{0, 1.5}},          // widened to 0.1..1.1: steps of 0.5
		{20, 20, 1, Scale{20, 21}},            // flat
		{45, 180, 1, Scale{0, 200}},           // span 135: steps of 50
		{13.7, 10.2, 1, Scale{10, 14}},        // swapped ends
		{-3, 4, 1, Scale{-4, 4}},              // negative values keep their sign
		{math.NaN(), 5, 2, Scale{0, 2}},       // nonsense in
		{0, 0, 0, Scale{0, 1}},                // minSpan defaults to 1
		{1000, 1003, 10, Scale{1000, 1010}},   // widened to 10: step 5
		{0.25, 0.31, 0.05, Scale{0.24, 0.32}}, // steps of 0.02, ends exact decimals
	} {
		got := NiceScale(c.lo, c.hi, c.minSpan)
		if got != c.want {
			t.Errorf("NiceScale(%v, %v, %v) = %v, want %v", c.lo, c.hi, c.minSpan, got, c.want)
		}
		if !math.IsNaN(c.lo) && (got.Lo > min(c.lo, c.hi) || got.Hi < max(c.lo, c.hi)) {
			t.Errorf("NiceScale(%v, %v) = %v does not hold the range", c.lo, c.hi, got)
		}
	}
}

func TestScaleY(t *testing.T) {
	s := Scale{10, 20}
	for v, want := range map[float64]float64{10: 140, 20: 100, 15: 120, 5: 140, 99: 100} {
		if got := s.Y(v, 100, 40); got != want {
			t.Errorf("Y(%v) = %v, want %v", v, got, want)
		}
	}
	if got := (Scale{3, 3}).Y(3, 0, 10); got != 10 {
		t.Errorf("empty scale: %v", got)
	}
}

func TestPlotScrollsFromTheRight(t *testing.T) {
	r := NewRing(5)
	r.Push(10)
	r.Push(20)
	s := Scale{10, 20}
	got := Plot(nil, r, s, 100, 50, 40, 10)
	want := []Vertex{{130, 60}, {140, 50}} // newest at the right edge, dx = 40/4
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Plot = %v, want %v", got, want)
	}
	for _, v := range []float64{15, 15, 15, 15} {
		r.Push(v)
	}
	got = Plot(got[:0], r, s, 100, 50, 40, 10)
	if len(got) != 5 || got[0].X != 100 || got[4].X != 140 || got[0].Y != 50 || got[1].Y != 55 {
		t.Fatalf("full ring: %v", got)
	}
}

func Example() {
	tb := NewTable(120, 6)
	for i := range 60 {
		tb.Update([]Peer{{Name: "server", Stats: netcode.Stats{
			RTT: time.Duration(20+i%5) * time.Millisecond, Jitter: time.Millisecond, BytesInPerSec: 3100, BytesOutPerSec: 2800,
		}}})
	}
	tr := tb.Tracks()[0]
	lo, hi, _ := tr.RTT.MinMax()
	fmt.Println(tr.Name, tr.RTT.Len(), "samples", NiceScale(lo, hi, 1))
	fmt.Println(Format(tr.Stats))
	// Output:
	// server 10 samples {20 24}
	// RTT 24.0 ms ±1.0  loss 0.0%  ↓ 3.1 kB/s ↑ 2.8 kB/s
}
