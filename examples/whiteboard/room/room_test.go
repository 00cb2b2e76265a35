package room

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
)

// rig is a server and its clients, all pumped by the test's goroutine, on
// 127.0.0.1.
type rig struct {
	t       *testing.T
	srv     *Server
	log     *syncBuffer
	clients []*Client
	raws    []*engine.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, log: &syncBuffer{}}
	srv, err := Listen("127.0.0.1:0", r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	t.Cleanup(func() {
		for _, c := range r.clients {
			c.Close()
		}
		for _, c := range r.raws {
			c.Close()
		}
		srv.Close("test over")
		srv.Pump()
	})
	return r
}

// join connects a client and waits until it has its id and the board.
func (r *rig) join() *Client {
	r.t.Helper()
	c, err := Connect(r.srv.ConnectString(), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	r.clients = append(r.clients, c)
	n := r.srv.Board().Len() + 1
	r.until(fmt.Sprintf("client %d connected and listed", len(r.clients)), func() bool {
		return c.State() == Connected && c.Players() == n
	})
	return c
}

// raw connects a plain engine client with the whiteboard codec, to send
// what a well-behaved client would not. Messages it receives are recorded.
func (r *rig) raw() (*engine.Client, *[]board.PointMsg) {
	r.t.Helper()
	cl, err := engine.Connect(r.srv.ConnectString(), &engine.ClientConfig{Codec: Codec()})
	if err != nil {
		r.t.Fatal(err)
	}
	r.raws = append(r.raws, cl)
	var got []board.PointMsg
	for _, a := range []string{board.ActionStartLine, board.ActionDrawPoint} {
		if err := engine.HandleFunc(cl, a, func(_ *engine.Client, m board.PointMsg) { got = append(got, m) }); err != nil {
			r.t.Fatal(err)
		}
	}
	r.until("raw client connected", cl.Connected)
	return cl, &got
}

func (r *rig) pump() {
	r.srv.Pump()
	for _, c := range r.clients {
		c.Pump()
	}
	for _, c := range r.raws {
		c.Pump()
	}
}

// until pumps everyone until cond holds, failing the test after 10 s.
func (r *rig) until(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for: %s\nserver log:\n%s", what, r.log.String())
		}
		r.pump()
		time.Sleep(time.Millisecond)
	}
}

// settle pumps for d, for checks that something did not happen.
func (r *rig) settle(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		r.pump()
		time.Sleep(time.Millisecond)
	}
}

func lineCount(c *Client, id string) int { return len(c.Board().Lines(id)) }

func TestIDsAndColours(t *testing.T) {
	r := newRig(t)
	a := r.join()
	b := r.join()
	c := r.join()
	want := map[string]board.Colour{"1": {168, 0, 84}, "2": {0, 84, 168}, "3": {84, 168, 0}}
	for i, cl := range []*Client{a, b, c} {
		r.until("everyone listed", func() bool { return cl.Players() == 3 })
		if got := cl.Board().Players(); !reflect.DeepEqual(got, want) {
			t.Errorf("client %d sees players %v, want %v", i+1, got, want)
		}
		if cl.PlayersLabel() != "3 players" || cl.Status(0) != "connected" {
			t.Errorf("client %d: %q, %q", i+1, cl.PlayersLabel(), cl.Status(0))
		}
	}
	if !reflect.DeepEqual(r.srv.Board().Players(), want) {
		t.Errorf("server's players %v", r.srv.Board().Players())
	}
	// Each client's own id is the one its drawing is relayed with.
	for i, cl := range []*Client{a, b, c} {
		id := fmt.Sprint(i + 1)
		cl.PenDown(board.Point{i, i})
		r.until("own line relayed", func() bool { return lineCount(cl, id) == 1 })
	}
}

func TestDrawingIsRelayedToEveryone(t *testing.T) {
	r := newRig(t)
	a := r.join()
	b := r.join()
	c := r.join()
	a.PenDown(board.Point{10, 10})
	a.PenMove(board.Point{20, 20})
	a.PenMove(board.Point{20, 20}) // unchanged: not sent
	a.PenMove(board.Point{30, 25})
	a.PenUp(board.Point{31, 25})
	b.PenDown(board.Point{-10, 900}) // clamped before sending
	b.PenUp(board.Point{-10, 900})
	wantA := [][]board.Point{{{10, 10}, {20, 20}, {30, 25}, {31, 25}}}
	wantB := [][]board.Point{{{0, board.Height - 1}, {0, board.Height - 1}}}
	for i, cl := range []*Client{a, b, c} {
		r.until("drawings relayed", func() bool {
			return reflect.DeepEqual(cl.Board().Lines("1"), wantA) && reflect.DeepEqual(cl.Board().Lines("2"), wantB)
		})
		if lineCount(cl, "3") != 0 {
			t.Errorf("client %d: player 3 drew %v", i+1, cl.Board().Lines("3"))
		}
	}
	if !reflect.DeepEqual(r.srv.Board().Lines("1"), wantA) {
		t.Errorf("server's lines for 1: %v", r.srv.Board().Lines("1"))
	}
}

func TestNewcomerGetsTheBoard(t *testing.T) {
	r := newRig(t)
	a := r.join()
	b := r.join()
	a.PenDown(board.Point{1, 2})
	a.PenMove(board.Point{3, 4})
	a.PenUp(board.Point{5, 6})
	a.PenDown(board.Point{100, 100})
	b.PenDown(board.Point{7, 8})
	r.until("drawn", func() bool { return lineCount(a, "1") == 2 && lineCount(a, "2") == 1 })

	c := r.join() // its board comes from "initial", then "players"
	want := r.srv.Board().Snapshot()
	if len(want) != 3 || len(want["3"].Lines) != 0 {
		t.Fatalf("server board %v", want)
	}
	if got := c.Board().Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("newcomer's board %v, want %v", got, want)
	}
	// And it follows what happens next.
	a.PenMove(board.Point{110, 100})
	r.until("newcomer sees the next point", func() bool {
		l := c.Board().Lines("1")
		return len(l) == 2 && len(l[1]) == 2
	})
}

func TestLeaverDrawingDisappears(t *testing.T) {
	r := newRig(t)
	a := r.join()
	b := r.join()
	a.PenDown(board.Point{5, 5})
	a.PenUp(board.Point{9, 9})
	r.until("b sees a's line", func() bool { return lineCount(b, "1") == 1 })
	if err := a.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.until("a's drawing gone for b", func() bool { return !b.Board().Has("1") })
	if b.Players() != 1 || b.PlayersLabel() != "1 player" || b.Board().Lines("1") != nil {
		t.Fatalf("after the leave: %q, lines %v", b.PlayersLabel(), b.Board().Lines("1"))
	}
	if r.srv.Board().Has("1") {
		t.Fatal("server kept the leaver")
	}
	r.until("a disconnected", func() bool { return a.State() == Disconnected })
	// A newcomer does not see the leaver either, and gets a fresh id.
	c := r.join()
	if c.Board().Has("1") || !c.Board().Has("3") {
		t.Fatalf("newcomer sees %v", c.Board().IDs())
	}
	if !strings.Contains(r.log.String(), "- 1 left") {
		t.Fatalf("server log:\n%s", r.log.String())
	}
}

func TestDrawPointWithoutStartLineIsIgnored(t *testing.T) {
	r := newRig(t)
	watcher := r.join()
	raw, got := r.raw() // player 2
	// A drawpoint first: dropped, not relayed, not fatal. The id a client
	// puts in its message is ignored: the server says who drew.
	if err := raw.Send(board.PointMsg{Action: board.ActionDrawPoint, Point: board.Point{1, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(board.PointMsg{Action: board.ActionStartLine, Point: board.Point{2, 2}, ID: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(board.PointMsg{Action: board.ActionDrawPoint, Point: board.Point{3, 3}}); err != nil {
		t.Fatal(err)
	}
	want := []board.PointMsg{
		{Action: board.ActionStartLine, Point: board.Point{2, 2}, ID: "2"},
		{Action: board.ActionDrawPoint, Point: board.Point{3, 3}, ID: "2"},
	}
	r.until("relays", func() bool { return len(*got) >= 2 })
	r.settle(50 * time.Millisecond)
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("relayed %v, want %v", *got, want)
	}
	if l := watcher.Board().Lines("2"); !reflect.DeepEqual(l, [][]board.Point{{{2, 2}, {3, 3}}}) {
		t.Fatalf("watcher sees %v", l)
	}
	if lineCount(watcher, "1") != 0 || !raw.Connected() {
		t.Fatalf("player 1 lines %v, raw connected %v", watcher.Board().Lines("1"), raw.Connected())
	}
}

func TestClientIgnoresStrayRelays(t *testing.T) {
	// A (buggy) server's drawpoint without a startline, or for an unknown
	// player, changes nothing on the client and does not end the session.
	r := newRig(t)
	a := r.join()
	v := a.Board().Version()
	l := (*listener)(a)
	l.Network_drawpoint(board.PointMsg{Action: board.ActionDrawPoint, Point: board.Point{1, 1}, ID: "1"})
	l.Network_drawpoint(board.PointMsg{Action: board.ActionDrawPoint, Point: board.Point{1, 1}, ID: "9"})
	l.Network_startline(board.PointMsg{Action: board.ActionStartLine, Point: board.Point{1, 1}, ID: "9"})
	if a.Board().Version() != v || a.State() != Connected {
		t.Fatalf("board changed or session ended: %v", a.Board().Snapshot())
	}
}

func TestUndecodableMessageIsNotFatal(t *testing.T) {
	r := newRig(t)
	w := r.join()
	raw, _ := r.raw()
	if err := raw.Send(engine.Msg{"action": board.ActionStartLine, "point": "nowhere"}); err != nil {
		t.Fatal(err)
	}
	r.until("error logged", func() bool { return strings.Contains(r.log.String(), "! 2 ") })
	raw.Send(board.PointMsg{Action: board.ActionStartLine, Point: board.Point{4, 4}})
	r.until("later line relayed", func() bool { return lineCount(w, "2") == 1 })
}

func TestWhiteboardFull(t *testing.T) {
	r := newRig(t)
	// Fill the server's board with players who have no connection (the
	// test owns the server's goroutine), leaving one seat.
	for i := 1; i < board.MaxPlayers; i++ {
		r.srv.Board().Join(fmt.Sprintf("ghost%d", i), board.Colour{})
	}
	r.join()
	c, err := Connect(r.srv.ConnectString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.clients = append(r.clients, c)
	r.until("refused", func() bool { return c.State() == Disconnected })
	if !strings.Contains(c.Status(0), "whiteboard full") {
		t.Fatalf("status %q", c.Status(0))
	}
}

func TestLargestBoardFitsInInitial(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a 0.6 MB message")
	}
	r := newRig(t)
	// Every seat but one full, with coordinates that take the most bytes.
	for i := 1; i < board.MaxPlayers; i++ {
		id := fmt.Sprint(1000000 + i)
		b := r.srv.Board()
		b.Join(id, board.Colour{255, 255, 255})
		for p := range board.MaxPoints {
			pt := board.Point{256 + p%300, 256 + p%200}
			if p%100 == 0 {
				b.StartLine(id, pt)
			} else {
				b.DrawPoint(id, pt)
			}
		}
	}
	c := r.join()
	if got, want := c.Board().Snapshot(), r.srv.Board().Snapshot(); len(got) != board.MaxPlayers || !reflect.DeepEqual(got, want) {
		t.Fatalf("newcomer got %d players", len(got))
	}
}

func TestMessageLimitsHoldTheLargestBoard(t *testing.T) {
	// Worst case: every seat taken, every player full, one point per line
	// (a line costs an element and a header byte besides its points), and
	// coordinates and colours that take the most bytes.
	b := board.New()
	for i := range board.MaxPlayers {
		id := fmt.Sprint(1000000000 + i)
		b.Join(id, board.Colour{255, 255, 255})
		for p := range board.MaxPoints {
			b.StartLine(id, board.Point{board.Width - 1 - p%300, board.Height - 1 - p%200})
		}
	}
	msg := board.InitialMsg{Action: board.ActionInitial, Lines: b.Snapshot()}
	enc, err := Codec().Append(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	size, elements := board.MessageLimits()
	if len(enc) > size {
		t.Fatalf("largest initial is %d bytes, MessageLimits says %d", len(enc), size)
	}
	if err := codec.Validate(enc, codec.Limits{MaxSize: size, MaxElements: elements}); err != nil {
		t.Fatalf("largest initial outside MessageLimits: %v", err)
	}
	// The default codec could not carry it: that is why Codec exists.
	if _, err := codec.Default().Append(nil, msg); !errors.Is(err, codec.ErrTooManyElements) {
		t.Fatalf("default codec: %v", err)
	}
	var back board.InitialMsg
	if err := Codec().Decode(enc, &back); err != nil || len(back.Lines) != board.MaxPlayers {
		t.Fatalf("decode: %v", err)
	}
}

func TestStatusLine(t *testing.T) {
	c := &Client{}
	var seen []string
	for tick := 0; tick < 60; tick += 15 {
		seen = append(seen, c.Status(tick))
	}
	if want := []string{"connecting", "connecting.", "connecting..", "connecting..."}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("connecting animation %q, want %q", seen, want)
	}
	if c.Status(60) != "connecting" {
		t.Fatalf("animation does not wrap: %q", c.Status(60))
	}
	c.state = Connected
	if c.Status(7) != "connected" {
		t.Fatal(c.Status(7))
	}
	c.state, c.reason = Disconnected, "server closed"
	if c.Status(7) != "disconnected: server closed" {
		t.Fatal(c.Status(7))
	}
	c.reason = ""
	if c.Status(7) != "disconnected" {
		t.Fatal(c.Status(7))
	}
	c.failed = errors.New("netcode: handshake: no answer")
	if c.Status(7) != "netcode: handshake: no answer" {
		t.Fatal(c.Status(7))
	}
	for n, want := range map[int]string{0: "0 players", 1: "1 player", 2: "2 players"} {
		c.players = n
		if c.PlayersLabel() != want {
			t.Errorf("%d: %q", n, c.PlayersLabel())
		}
	}
}

func TestDialFailureShowsTheError(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close("")
	cs := srv.ConnectString()
	wrong := cs[:strings.IndexByte(cs, '#')+1] + strings.Repeat("ab", 32)
	c, err := Connect(wrong, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.State() != Disconnected && time.Now().Before(deadline) {
		srv.Pump()
		c.Pump()
		time.Sleep(time.Millisecond)
	}
	if c.State() != Disconnected || c.Err() == nil || c.Status(0) != c.Err().Error() {
		t.Fatalf("state %v, err %v, status %q", c.State(), c.Err(), c.Status(0))
	}
}

func TestServeLogsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", "./examples/whiteboard", out) }()
	var cs string
	deadline := time.Now().Add(10 * time.Second)
	for cs == "" && time.Now().Before(deadline) {
		for _, l := range strings.Split(out.String(), "\n") {
			if s, ok := strings.CutPrefix(l, "whiteboard: connect string "); ok {
				cs = s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if cs == "" {
		t.Fatalf("no connect string:\n%s", out.String())
	}
	c, err := Connect(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for c.Players() != 1 && time.Now().Before(deadline) {
		c.Pump()
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for c.State() != Disconnected && time.Now().Before(deadline) {
		c.Pump()
		time.Sleep(time.Millisecond)
	}
	if c.Status(0) != "disconnected: whiteboard server shutting down" {
		t.Fatalf("status %q", c.Status(0))
	}
	for _, want := range []string{"+ 127.0.0.1:", "joined as 1", "- 1 left", "whiteboard: server stopped", "go run ./examples/whiteboard -connect 'dtls://"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSimultaneousLeavesLogNoErrors(t *testing.T) {
	// Two players leave at once: while the first leave is handled, the
	// second's channel is closed but not yet gone, and the "players"
	// message cannot reach it. That is expected, not an error to log.
	r := newRig(t)
	a := r.join()
	b := r.join()
	c := r.join()
	a.Close()
	b.Close()
	r.until("c sees both leave", func() bool { return c.Players() == 1 && !c.Board().Has("1") && !c.Board().Has("2") })
	r.settle(50 * time.Millisecond)
	if strings.Contains(r.log.String(), "!") {
		t.Fatalf("server log has errors:\n%s", r.log.String())
	}
}

// TestStatusAsksWhetherServerRuns: a connect that goes unanswered says so
// after 2 s (120 ticks), while still trying, instead of only "connecting..."
// until the handshake times out 10 s later.
func TestStatusAsksWhetherServerRuns(t *testing.T) {
	c, err := Connect("127.0.0.1:9", &ClientConfig{Engine: engine.ClientConfig{InsecureAcceptAnyServer: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.Status(60); s != "connecting" {
		t.Errorf("status after 1 s: %q, want plain connecting", s)
	}
	if s := c.Status(120); !strings.Contains(s, "connecting") || !strings.Contains(s, "is the server running?") {
		t.Errorf("status after 2 s: %q, want it to ask whether the server is running", s)
	}
}
