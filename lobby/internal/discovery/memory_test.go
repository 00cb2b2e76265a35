package discovery

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func recA() Record {
	return Record{Instance: "aaaa", Addrs: addrs("10.0.0.1", "fe80::1%veth0"), Port: 1001, ID: idA, Version: 1, Seats: 3, Name: "Zoë"}
}

func recB() Record {
	return Record{Instance: "bbbb", Addrs: addrs("10.0.0.2"), Port: 1002, ID: idB, Version: 1, Seats: 1, Players: 2, Name: "bob"}
}

// next returns the snapshot waiting in ch after the bubble settles, or
// fails if there is none.
func next(t *testing.T, ch <-chan []Record) []Record {
	t.Helper()
	synctest.Wait()
	select {
	case snap, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return snap
	default:
		t.Fatal("no snapshot published")
		return nil
	}
}

// none fails if a snapshot is waiting in ch.
func none(t *testing.T, ch <-chan []Record) {
	t.Helper()
	synctest.Wait()
	select {
	case snap := <-ch:
		t.Fatalf("unexpected snapshot %+v", snap)
	default:
	}
}

func advertise(t *testing.T, b Backend, r Record) Advertisement {
	t.Helper()
	ad, err := b.Advertise(context.Background(), testService, r)
	if err != nil {
		t.Fatal(err)
	}
	return ad
}

func TestMemoryTwoAdvertisersSeenByBrowser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		advertise(t, m, recB())
		advertise(t, m, recA())
		ch, err := m.Browse(t.Context(), testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		snap := next(t, ch)
		want := []Record{recA(), recB()} // sorted by ID, addresses sorted
		if !equalRecords(snap, want) {
			t.Fatalf("snapshot\n %+v\nwant\n %+v", snap, want)
		}
	})
}

func TestMemoryStopRemovesAtNextPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		a := advertise(t, m, recA())
		advertise(t, m, recB())
		ch, err := m.Browse(t.Context(), testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if snap := next(t, ch); len(snap) != 2 {
			t.Fatalf("first snapshot %v", ids(snap))
		}
		if err := a.Stop(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second - time.Nanosecond)
		none(t, ch)
		time.Sleep(time.Nanosecond)
		if snap := next(t, ch); !slices.Equal(ids(snap), []string{idB}) {
			t.Fatalf("after Stop: %v, want only B", ids(snap))
		}
		if err := a.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		if err := a.Update(recA()); !errors.Is(err, ErrStopped) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Update after Stop = %v, want ErrStopped and net.ErrClosed", err)
		}
		time.Sleep(5 * time.Second)
		none(t, ch)
	})
}

func TestMemoryUpdateChangesSeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		a := advertise(t, m, recA())
		ch, err := m.Browse(t.Context(), testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		next(t, ch)
		r := recA()
		r.Seats, r.Addrs = 0, addrs("10.0.0.9")
		if err := a.Update(r); err != nil {
			t.Fatal(err)
		}
		bad := r
		bad.ID = "nope"
		if err := a.Update(bad); !errors.Is(err, ErrInvalidRecord) {
			t.Fatalf("Update with a bad ID = %v", err)
		}
		time.Sleep(time.Second)
		snap := next(t, ch)
		if !equalRecords(snap, []Record{r}) {
			t.Fatalf("after Update: %+v, want %+v", snap, r)
		}
	})
}

func TestMemoryBrowsesOnlyItsService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		advertise(t, m, recA())
		if _, err := m.Advertise(context.Background(), "_chat._udp", recB()); err != nil {
			t.Fatal(err)
		}
		ch, err := m.Browse(t.Context(), testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if snap := next(t, ch); !slices.Equal(ids(snap), []string{idA}) {
			t.Fatalf("snapshot %v, want only A", ids(snap))
		}
		if st := m.Stats(); st.Polls != 1 || st.Entries != 3 || st.OtherService != 1 || st.Invalid != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestBrowseUnchangedSetNotRepublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		ch, err := m.Browse(t.Context(), testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if snap := next(t, ch); len(snap) != 0 {
			t.Fatalf("first snapshot %v, want empty", ids(snap))
		}
		time.Sleep(10 * time.Second)
		none(t, ch)
		a := advertise(t, m, recA())
		time.Sleep(time.Second)
		next(t, ch)
		time.Sleep(10 * time.Second)
		none(t, ch)
		if st := m.Stats(); st.Polls != 22 {
			t.Fatalf("%d polls in 21 s, want 22", st.Polls)
		}
		a.Stop()
		time.Sleep(time.Second)
		if snap := next(t, ch); len(snap) != 0 {
			t.Fatalf("after Stop: %v", ids(snap))
		}
	})
}

func TestBrowseLatestSnapshotWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		a := advertise(t, m, recA())
		ch, err := m.Browse(t.Context(), testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Nobody reads for five changes: the poller must not block.
		for seats := 10; seats < 15; seats++ {
			r := recA()
			r.Seats = seats
			if err := a.Update(r); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		if snap := next(t, ch); len(snap) != 1 || snap[0].Seats != 14 {
			t.Fatalf("snapshot %+v, want the latest (seats 14)", snap)
		}
		none(t, ch)
	})
}

func TestBrowseClosesOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		advertise(t, m, recA())
		ctx, cancel := context.WithCancel(t.Context())
		ch, err := m.Browse(ctx, testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		cancel()
		for range ch { // drains the waiting snapshot, ends when closed
		}
		// synctest.Test fails if the poller is still blocked at the end.
	})
}

func TestBrowseCanceledContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		ch, err := m.Browse(ctx, testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := <-ch; ok {
			t.Fatal("snapshot after cancel")
		}
		if m.Stats().Polls != 0 {
			t.Fatal("polled with a canceled context")
		}
	})
}

// waitGoroutines fails unless the goroutine count falls back to before.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestMemoryNoGoroutineLeak runs on real time, outside a bubble.
func TestMemoryNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	m := NewMemory()
	ad := advertise(t, m, recA())
	ctx, cancel := context.WithCancel(context.Background())
	var chans []<-chan []Record
	for range 3 {
		ch, err := m.Browse(ctx, testService, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	for _, ch := range chans {
		if snap := <-ch; len(snap) != 1 {
			t.Fatalf("snapshot %v", ids(snap))
		}
	}
	cancel()
	for _, ch := range chans {
		for range ch {
		}
	}
	ad.Stop()
	waitGoroutines(t, before)
}

func TestMemoryAdvertiseValidates(t *testing.T) {
	m := NewMemory()
	for _, tc := range []struct {
		what    string
		service string
		edit    func(*Record)
		want    error
	}{
		{"bad service", "lightcycle", func(*Record) {}, ErrInvalidService},
		{"tcp service", "_lightcycle._tcp", func(*Record) {}, ErrInvalidService},
		{"no instance", testService, func(r *Record) { r.Instance = "" }, ErrInvalidRecord},
		{"instance with dot", testService, func(r *Record) { r.Instance = "a.b" }, ErrInvalidRecord},
		{"port 0", testService, func(r *Record) { r.Port = 0 }, ErrInvalidRecord},
		{"no address", testService, func(r *Record) { r.Addrs = nil }, ErrInvalidRecord},
		{"unspecified address", testService, func(r *Record) { r.Addrs = addrs("0.0.0.0") }, ErrInvalidRecord},
		{"invalid address", testService, func(r *Record) { r.Addrs = []netip.Addr{{}} }, ErrInvalidRecord},
		{"bad ID", testService, func(r *Record) { r.ID = idA[1:] }, ErrInvalidRecord},
		{"bad name", testService, func(r *Record) { r.Name = "\x1b[31m" }, ErrInvalidRecord},
	} {
		r := recA()
		tc.edit(&r)
		if _, err := m.Advertise(context.Background(), tc.service, r); !errors.Is(err, tc.want) {
			t.Errorf("%s: Advertise = %v, want %v", tc.what, err, tc.want)
		}
	}
	if _, err := m.Browse(t.Context(), "lightcycle", time.Second); !errors.Is(err, ErrInvalidService) {
		t.Errorf("Browse with a bad service = %v", err)
	}
	if _, err := m.Browse(t.Context(), testService, -time.Second); !errors.Is(err, ErrInvalidInterval) {
		t.Errorf("Browse with a negative interval = %v", err)
	}
}

func TestMemoryAdvertiseCopiesRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory()
		r := recA()
		advertise(t, m, r)
		r.Addrs[0] = netip.MustParseAddr("10.6.6.6")
		ch, _ := m.Browse(t.Context(), testService, 0)
		if snap := next(t, ch); !equalRecords(snap, []Record{recA()}) {
			t.Fatalf("caller's edit after Advertise leaked in: %+v", snap)
		}
	})
}
