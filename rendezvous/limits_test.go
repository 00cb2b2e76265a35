package rendezvous

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLimitRoomsAndMembers(t *testing.T) {
	_, hs := newTestServer(t, Config{MaxRooms: 2, MaxMembers: 2})
	ctx := ctxT(t)
	a := newClient(t, hs.URL, nil)
	r1, err := a.Create(ctx, "game", true, Record{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(ctx, "game", true, Record{}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Create(ctx, "game", true, Record{})
	wantErr(t, err, ErrServerFull)
	if !strings.Contains(err.Error(), "2 rooms") {
		t.Fatalf("error does not say which bound: %v", err)
	}
	if _, err := newClient(t, hs.URL, nil).Join(ctx, r1.Code, Record{}); err != nil {
		t.Fatal(err)
	}
	_, err = newClient(t, hs.URL, nil).Join(ctx, r1.Code, Record{})
	wantErr(t, err, ErrRoomFull)
}

func TestLimitMembersPerIP(t *testing.T) {
	_, hs := newTestServer(t, Config{MaxMembersPerIP: 3})
	ctx := ctxT(t)
	one, two := httpFrom("127.77.0.2"), httpFrom("127.77.0.3")
	for i := range 3 {
		if _, err := newClient(t, hs.URL, one).Create(ctx, "game", false, Record{}); err != nil {
			t.Fatal(i, err)
		}
	}
	_, err := newClient(t, hs.URL, one).Create(ctx, "game", false, Record{})
	wantErr(t, err, ErrServerFull)
	r, err := newClient(t, hs.URL, two).Create(ctx, "game", false, Record{})
	if err != nil {
		t.Fatalf("another source: %v", err)
	}
	_, err = newClient(t, hs.URL, one).Join(ctx, r.Code, Record{})
	wantErr(t, err, ErrServerFull)
}

func TestLimitListed(t *testing.T) {
	s, hs := newTestServer(t, Config{MaxListed: 3, MaxMembersPerIP: 10})
	clock := &fakeClock{t: time.Now()}
	s.now = clock.now
	ctx := ctxT(t)
	var codes []string
	for range 5 {
		clock.add(time.Second)
		r, err := newClient(t, hs.URL, nil).Create(ctx, "game", true, Record{})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Code)
	}
	list, err := newClient(t, hs.URL, nil).List(ctx, "game")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Code != codes[4] || list[2].Code != codes[2] {
		t.Fatalf("list %+v, want the 3 newest of %v", list, codes)
	}
}

func TestLimitBodyAndSignalSize(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	big := bytes.Repeat([]byte(" "), 40<<10)
	if code, name, data := post(t, nil, hs.URL+"/v1/nonce", big); code != http.StatusRequestEntityTooLarge || name != "too_large" {
		t.Fatalf("40 KiB body: HTTP %d %s", code, data)
	}
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	rb, _ := b.Join(ctx, ra.Code, Record{})
	if err := ra.Signal(ctx, rb.ID, make([]byte, 16<<10)); err != nil {
		t.Fatalf("16 KiB signal: %v", err)
	}
	wantErr(t, ra.Signal(ctx, rb.ID, make([]byte, 16<<10+1)), ErrTooLarge)
	wantErr(t, ra.Signal(ctx, rb.ID, nil), ErrBadRequest)
	long := Record{Name: strings.Repeat("x", MaxNameLen+1)}
	wantErr(t, ra.Update(ctx, long), ErrBadRequest)
}

func TestLimitSignalQueue(t *testing.T) {
	_, hs := newTestServer(t, Config{MaxQueuedSignals: 3, PollTimeout: 100 * time.Millisecond})
	ctx := ctxT(t)
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	rb, _ := b.Join(ctx, ra.Code, Record{})
	for i := range 3 {
		if err := ra.Signal(ctx, rb.ID, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, ra.Signal(ctx, rb.ID, []byte("4th")), ErrQueueFull) // refused, not dropped
	ev, _ := rb.Poll(ctx)
	if len(ev.Signals) != 3 || ev.Signals[0].Data[0] != 0 {
		t.Fatalf("queue kept %+v, want the first 3", ev.Signals)
	}
	rb.Poll(ctx) // acknowledges (and waits out the 100 ms poll timeout)
	if err := ra.Signal(ctx, rb.ID, []byte("again")); err != nil {
		t.Fatalf("after ack: %v", err)
	}

	// Bytes: 64 KiB per member by default.
	_, hs = newTestServer(t, Config{})
	a, b = newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ = a.Create(ctx, "game", false, Record{})
	rb, _ = b.Join(ctx, ra.Code, Record{})
	for range 4 {
		if err := ra.Signal(ctx, rb.ID, make([]byte, 16<<10)); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, ra.Signal(ctx, rb.ID, []byte("x")), ErrQueueFull)

	// Server-wide.
	_, hs = newTestServer(t, Config{MaxQueuedTotal: 100, MaxSignalBytes: 100})
	a, b = newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ = a.Create(ctx, "game", false, Record{})
	rb, _ = b.Join(ctx, ra.Code, Record{})
	ra.Signal(ctx, rb.ID, make([]byte, 60))
	wantErr(t, ra.Signal(ctx, rb.ID, make([]byte, 60)), ErrServerFull)
}

func TestLimitPolls(t *testing.T) {
	s, hs := newTestServer(t, Config{MaxPollsPerMember: 2, MaxPollsPerIP: 3})
	ctx := ctxT(t)
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	rb, err := b.Join(ctx, ra.Code, Record{})
	if err != nil {
		t.Fatal(err)
	}
	ra.Poll(ctx) // both hold the current roster: their next polls wait
	rb.Poll(ctx)
	body := mustJSON(pollRequest{Token: ra.token, Roster: ra.roster})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); post(t, nil, hs.URL+"/v1/poll", body) }()
	}
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.byToken[hashToken(ra.token)].polls == 2 })
	if code, name, data := post(t, nil, hs.URL+"/v1/poll", body); code != 429 || name != "rate_limited" {
		t.Fatalf("3rd poll of a member: HTTP %d %s", code, data)
	}
	// Per source: the second member from the same address gets one more.
	bbody := mustJSON(pollRequest{Token: rb.token, Roster: rb.roster})
	wg.Add(1)
	go func() { defer wg.Done(); post(t, nil, hs.URL+"/v1/poll", bbody) }()
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.byToken[hashToken(rb.token)].polls == 1 })
	if code, name, data := post(t, nil, hs.URL+"/v1/poll", bbody); code != 429 || name != "rate_limited" || !strings.Contains(string(data), "from") {
		t.Fatalf("4th poll from one source: HTTP %d %s", code, data)
	}
	s.Close()
	wg.Wait()
}

func TestLimitNonces(t *testing.T) {
	_, hs := newTestServer(t, Config{MaxNonces: 3})
	for range 3 {
		nonceFor(t, hs.URL)
	}
	if code, name, data := post(t, nil, hs.URL+"/v1/nonce", []byte("{}")); code != 503 || name != "server_full" {
		t.Fatalf("4th nonce: HTTP %d %s", code, data)
	}
}

// TestFloodFromOneSource: one address flooding is rate-limited while
// another address is served.
func TestFloodFromOneSource(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	flooder, other := httpFrom("127.77.0.2"), httpFrom("127.77.0.3")
	start := time.Now()
	ok, limited := 0, 0
	for range 300 {
		code, name, _ := post(t, flooder, hs.URL+"/v1/nonce", []byte("{}"))
		switch {
		case code == 200:
			ok++
		case code == 429 && name == "rate_limited":
			limited++
		default:
			t.Fatalf("HTTP %d %s", code, name)
		}
	}
	elapsed := time.Since(start)
	// Default: 40 burst + 20/s.
	if bound := 40 + int(20*elapsed.Seconds()) + 1; ok > bound {
		t.Fatalf("%d of 300 requests served in %v, bound %d", ok, elapsed, bound)
	}
	t.Logf("flood: 300 requests in %v: %d served, %d refused", elapsed, ok, limited)
	if code, _, data := post(t, other, hs.URL+"/v1/nonce", []byte("{}")); code != 200 {
		t.Fatalf("other source during the flood: HTTP %d %s", code, data)
	}
	c := newClient(t, hs.URL, other)
	if _, err := c.Create(ctxT(t), "game", true, Record{}); err != nil {
		t.Fatalf("other source creates a room: %v", err)
	}
}

func TestLimitTrackedSources(t *testing.T) {
	_, hs := newTestServer(t, Config{MaxTrackedIPs: 2, RequestRate: 0.001, RequestBurst: 5})
	for _, ip := range []string{"127.77.0.2", "127.77.0.3"} {
		if code, _, data := post(t, httpFrom(ip), hs.URL+"/v1/nonce", []byte("{}")); code != 200 {
			t.Fatalf("%s: HTTP %d %s", ip, code, data)
		}
	}
	if code, name, data := post(t, httpFrom("127.77.0.4"), hs.URL+"/v1/nonce", []byte("{}")); code != 503 || name != "server_full" {
		t.Fatalf("3rd source: HTTP %d %s", code, data)
	}
}

// dummyJoin is a join body for code whose proof has the right shape (a
// guess never reaches the proof check).
func dummyJoin(code string) []byte {
	return mustJSON(joinRequest{Code: code, Proof: proof{Nonce: strings.Repeat("A", nonceLen), Cert: []byte{1}, Sig: []byte{1}}})
}

// TestCodeGuessing measures how many unknown codes one source, and all
// sources together, can try in 10 minutes: at most 5 + 10/min per source
// and 60 + 600/min server-wide (+1 per source per 10 min). A source out of misses is refused even on
// a real code, so it cannot tell hits from refusals.
func TestCodeGuessing(t *testing.T) {
	s, hs := newTestServer(t, Config{MaxMembersPerIP: 100, MemberTimeout: 24 * time.Hour})
	clock := &fakeClock{t: time.Now()}
	s.now = clock.now
	r, err := newClient(t, hs.URL, nil).Create(ctxT(t), "game", false, Record{})
	if err != nil {
		t.Fatal(err)
	}
	guesser := netip.MustParsePrefix("127.77.0.2/32")
	tried := 0
	n := 0
	for sec := 0; sec < 600; sec++ {
		clock.add(time.Second)
		for range 3 {
			n++
			code := fmt.Sprintf("%06d", n)
			if code == r.Code {
				continue
			}
			_, err := s.join(dummyJoin(code), "h", guesser)
			switch {
			case errorsIs(err, ErrRoomNotFound):
				tried++
			case errorsIs(err, ErrRateLimited):
			default:
				t.Fatalf("guess: %v", err)
			}
		}
	}
	if bound := 5 + 10*10; tried > bound || tried < 100 {
		t.Fatalf("one source tried %d codes in 10 min, bound %d", tried, bound)
	}
	t.Logf("one source: %d unknown codes tried in 10 simulated minutes (%d attempts)", tried, n)
	// Out of misses: the real code is refused as well.
	for range 20 {
		s.join(dummyJoin("ZZZZZZ"), "h", guesser)
	}
	_, err = s.join(dummyJoin(r.Code), "h", guesser)
	wantErr(t, err, ErrRateLimited)
	// Another source is unaffected: its join reaches the proof check.
	_, err = s.join(dummyJoin(r.Code), "h", netip.MustParsePrefix("127.77.0.3/32"))
	wantErr(t, err, ErrProof)

	// Many sources together.
	clock.add(time.Hour)
	tried = 0
	for sec := 0; sec < 600; sec++ {
		clock.add(time.Second)
		for i := range 200 { // 200 sources, 1 guess/s each
			src := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 32)
			n++
			if _, err := s.join(dummyJoin(fmt.Sprintf("%06d", n%1000000)), "h", src); errorsIs(err, ErrRoomNotFound) {
				tried++
			}
		}
	}
	// 600/min (burst 60) in all, plus one guess per source per missQuiet
	// (10 min) that the server-wide bucket does not see.
	if bound := 60 + 600*10 + 1 + 200*2; tried > bound {
		t.Fatalf("200 sources tried %d codes in 10 min, bound %d", tried, bound)
	}
	t.Logf("200 sources: %d unknown codes tried in 10 simulated minutes", tried)
}

// TestMemoryPerMember measures the heap a full room holds, without and
// with full signal queues.
func TestMemoryPerMember(t *testing.T) {
	s, err := NewServer(Config{MaxRooms: 1000})
	if err != nil {
		t.Fatal(err)
	}
	const rooms, members = 200, 8
	rec := Record{Version: 65535, Seats: 255, Players: 255, Name: strings.Repeat("é", MaxNameLen/2)}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	now := time.Now()
	var all []*member
	s.mu.Lock()
	for i := range rooms {
		r := &room{code: fmt.Sprintf("R%05d", i), service: strings.Repeat("s", MaxServiceLen), public: true, created: now}
		s.rooms[r.code] = r
		for j := range members {
			rec := rec
			rec.ID = fmt.Sprintf("%064x", i*members+j)
			src := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i), byte(j)}), 32)
			s.addLocked(r, rec, j == 0, src, now)
			all = append(all, r.members[j])
		}
	}
	s.mu.Unlock()
	perMember := float64(heap()-before) / (rooms * members)
	t.Logf("%.0f bytes per member, %.0f per full room of %d, without signals", perMember, perMember*members, members)
	if perMember > 2048 {
		t.Fatalf("%.0f bytes per member, stated bound 2 KiB", perMember)
	}
	// Full queues: MaxQueuedBytes (64 KiB) of payload per member.
	mid := heap()
	s.mu.Lock()
	for _, m := range all[:100] {
		for range 4 {
			m.queue = append(m.queue, Signal{From: m.id, Data: make([]byte, 16<<10)})
		}
	}
	s.mu.Unlock()
	perQueue := float64(heap()-mid) / 100
	t.Logf("%.0f bytes per member with a full queue", perQueue)
	if perQueue > 70<<10 {
		t.Fatalf("%.0f bytes per full queue, stated bound 70 KiB", perQueue)
	}
	runtime.KeepAlive(all)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
