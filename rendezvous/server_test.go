package rendezvous

import (
	"bytes"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRoomLifecycle(t *testing.T) {
	s, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)

	ra, err := a.Create(ctx, "lightcycle", true, Record{Version: 3, Seats: 2, Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCode(ra.Code); err != nil || len(ra.Code) != CodeLen {
		t.Fatalf("code %q: %v", ra.Code, err)
	}
	if ra.ID != fingerprint(t, a.cert) {
		t.Fatalf("member ID %s is not the key fingerprint %s", ra.ID, fingerprint(t, a.cert))
	}
	priv, err := a.Create(ctx, "lightcycle", false, Record{Seats: 1})
	if err != nil {
		t.Fatal(err)
	}

	list, err := b.List(ctx, "lightcycle")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Code != ra.Code || list[0].Creator.Name != "Ann" || list[0].Creator.ID != ra.ID || list[0].Members != 1 {
		t.Fatalf("list = %+v, want only the public room %s", list, ra.Code)
	}
	if other, _ := b.List(ctx, "chat"); len(other) != 0 {
		t.Fatalf("other service lists %+v", other)
	}

	// Join typed sloppily: lower case, a dash, O for 0.
	typed := strings.ToLower(ra.Code[:3]) + "-" + strings.ReplaceAll(ra.Code[3:], "0", "o")
	rb, err := b.Join(ctx, typed, Record{Version: 3, Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ra.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Members) != 2 || ev.Members[0].ID != ra.ID || !ev.Members[0].Creator || ev.Members[1].ID != rb.ID || ev.Members[1].Record.Name != "Bob" {
		t.Fatalf("roster = %+v", ev.Members)
	}
	// Private rooms are reachable by code.
	if _, err := b.Join(ctx, priv.Code, Record{}); err != nil {
		t.Fatal(err)
	}

	// Update shows in the other member's next poll.
	if _, err := rb.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ra.Update(ctx, Record{Version: 3, Seats: 1, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	ev, err = rb.Poll(ctx)
	if err != nil || len(ev.Members) != 2 || ev.Members[0].Record.Seats != 1 {
		t.Fatalf("after update: %+v, %v", ev, err)
	}

	// Leave: the other member sees it, the room lives while one remains.
	if err := ra.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err = rb.Poll(ctx)
	if err != nil || len(ev.Members) != 1 || ev.Members[0].ID != rb.ID {
		t.Fatalf("after leave: %+v, %v", ev, err)
	}
	if _, err := ra.Poll(ctx); err == nil {
		t.Fatal("poll after leave succeeded")
	} else {
		wantErr(t, err, ErrNotMember)
	}
	if err := rb.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := b.List(ctx, "lightcycle"); len(list) != 0 {
		t.Fatalf("list after everyone left: %+v", list)
	}
	_, err = b.Join(ctx, ra.Code, Record{})
	wantErr(t, err, ErrRoomNotFound)
	if st := s.Stats(); st.Rooms != 1 || st.Members != 2 { // the private room: a and b
		t.Fatalf("stats %+v", st)
	}
}

func TestRoomExpiry(t *testing.T) {
	s, hs := newTestServer(t, Config{MemberTimeout: time.Minute})
	clock := &fakeClock{t: time.Now()}
	s.now = clock.now
	ctx := ctxT(t)
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, err := a.Create(ctx, "game", true, Record{})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Join(ctx, ra.Code, Record{})
	if err != nil {
		t.Fatal(err)
	}
	clock.add(40 * time.Second)
	if _, err := rb.Poll(ctx); err != nil { // b stays alive, a goes silent
		t.Fatal(err)
	}
	clock.add(30 * time.Second)
	ev, err := rb.Poll(ctx)
	if err != nil || len(ev.Members) != 1 || ev.Members[0].ID != rb.ID {
		t.Fatalf("a not expired after 70 s silent: %+v %v", ev, err)
	}
	_, err = ra.Poll(ctx)
	wantErr(t, err, ErrNotMember)
	clock.add(2 * time.Minute)
	if list, _ := b.List(ctx, "game"); len(list) != 0 {
		t.Fatalf("room not expired: %+v", list)
	}
	if st := s.Stats(); st.Rooms != 0 || st.Members != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSignalRelay(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, err := a.Create(ctx, "game", false, Record{})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Join(ctx, ra.Code, Record{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Poll(ctx); err != nil { // roster
		t.Fatal(err)
	}
	// b's poll waits; a's signal wakes it.
	got := make(chan Events, 1)
	go func() {
		ev, err := rb.Poll(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- ev
	}()
	time.Sleep(100 * time.Millisecond)
	offer := []byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n")
	start := time.Now()
	if err := ra.Signal(ctx, rb.ID, offer); err != nil {
		t.Fatal(err)
	}
	ev := <-got
	if len(ev.Signals) != 1 || ev.Signals[0].From != ra.ID || !bytes.Equal(ev.Signals[0].Data, offer) {
		t.Fatalf("b got %+v", ev)
	}
	t.Logf("long-poll woke %v after the signal", time.Since(start))
	// The answer goes back.
	if _, err := ra.Poll(ctx); err != nil { // roster
		t.Fatal(err)
	}
	if err := rb.Signal(ctx, ra.ID, []byte("answer")); err != nil {
		t.Fatal(err)
	}
	ev, err = ra.Poll(ctx)
	if err != nil || len(ev.Signals) != 1 || ev.Signals[0].From != rb.ID || string(ev.Signals[0].Data) != "answer" {
		t.Fatalf("a got %+v %v", ev, err)
	}
	// To a member not in the room.
	err = ra.Signal(ctx, strings.Repeat("ab", 32), []byte("x"))
	wantErr(t, err, ErrRoomNotFound)
}

// TestSignalRedelivered: a signal stays until acknowledged, so an answer
// lost on the way is repeated.
func TestSignalRedelivered(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	a, b := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	rb, err := b.Join(ctx, ra.Code, Record{})
	if err != nil {
		t.Fatal(err)
	}
	ra.Signal(ctx, rb.ID, []byte("one"))
	ev, err := rb.Poll(ctx)
	if err != nil || len(ev.Signals) != 1 {
		t.Fatalf("%+v %v", ev, err)
	}
	// Pretend the answer was lost: poll again without the ack.
	rb.mu.Lock()
	rb.ack = 0
	rb.mu.Unlock()
	ev, err = rb.Poll(ctx)
	if err != nil || len(ev.Signals) != 1 || string(ev.Signals[0].Data) != "one" {
		t.Fatalf("not redelivered: %+v %v", ev, err)
	}
	ra.Signal(ctx, rb.ID, []byte("two"))
	ev, err = rb.Poll(ctx)
	if err != nil || len(ev.Signals) != 1 || string(ev.Signals[0].Data) != "two" {
		t.Fatalf("after ack: %+v %v", ev, err)
	}
}

func TestPollTimesOutEmpty(t *testing.T) {
	_, hs := newTestServer(t, Config{PollTimeout: 200 * time.Millisecond})
	ctx := ctxT(t)
	a := newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	ra.Poll(ctx) // roster
	start := time.Now()
	ev, err := ra.Poll(ctx)
	if err != nil || ev.Members != nil || ev.Signals != nil {
		t.Fatalf("%+v %v", ev, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("poll answered after %v, before its timeout", d)
	}
}

func TestCloseEndsPolls(t *testing.T) {
	s, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	a := newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	ra.Poll(ctx)
	done := make(chan error, 1)
	go func() { _, err := ra.Poll(ctx); done <- err }()
	time.Sleep(100 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting poll")
	}
}

func TestRejoinReplaces(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	a := newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	b := newClient(t, hs.URL, nil)
	rb1, _ := b.Join(ctx, ra.Code, Record{Name: "first"})
	rb2, err := b.Join(ctx, ra.Code, Record{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rb1.Poll(ctx)
	wantErr(t, err, ErrNotMember)
	ev, _ := rb2.Poll(ctx)
	if len(ev.Members) != 2 || ev.Members[1].Record.Name != "second" {
		t.Fatalf("%+v", ev.Members)
	}
	if ev.Members[0].ID == ev.Members[1].ID {
		t.Fatal("duplicate member")
	}
}

// TestGlobalGuessLimitSparesFreshSources: when guessers from many sources
// have used up the server-wide allowance for unknown codes, a source that
// has not missed lately still joins a real code; a guessing source does
// not (it could otherwise tell hits from refusals).
func TestGlobalGuessLimitSparesFreshSources(t *testing.T) {
	s, hs := newTestServer(t, Config{MemberTimeout: 24 * time.Hour})
	clock := &fakeClock{t: time.Now()}
	s.now = clock.now
	r, err := newClient(t, hs.URL, nil).Create(ctxT(t), "game", false, Record{})
	if err != nil {
		t.Fatal(err)
	}
	var guessers []netip.Prefix
	for i := range 100 {
		src := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, 0, byte(i)}), 32)
		guessers = append(guessers, src)
		for range 2 { // 200 guesses: over the 60 the server-wide bucket holds
			s.join(dummyJoin("ZZZZZZ"), "h", src)
		}
	}
	_, err = s.join(dummyJoin(r.Code), "h", guessers[0])
	wantErr(t, err, ErrRateLimited)
	_, err = s.join(dummyJoin("ZZZZZY"), "h", guessers[1])
	wantErr(t, err, ErrRateLimited)
	// A fresh source reaches the proof check (the proof is a dummy).
	_, err = s.join(dummyJoin(r.Code), "h", netip.MustParsePrefix("192.0.2.7/32"))
	wantErr(t, err, ErrProof)
}

// TestBrowserPreflight: a browser's CORS preflight and answers carry the
// headers fetch needs.
func TestBrowserPreflight(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	req, _ := http.NewRequest(http.MethodOptions, hs.URL+"/v1/create", nil)
	req.Header.Set("Origin", "https://game.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Get(hs.URL + "/v1/rooms?service=game")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("list: %d %v", resp.StatusCode, resp.Header)
	}
}
