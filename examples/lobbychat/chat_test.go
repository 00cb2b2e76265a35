package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/examples/internal/termtext"
	"github.com/pumpnet/pumpnet/lobby"
)

// fakeRoom is a session without a network: the test decides who is there
// and what happens (inject), and looks at what the chat sent. Injected
// events run inside pump, on the chat's goroutine, as a session's do.
type fakeRoom struct {
	roomCode string // code(): "" on the LAN
	ev       events

	mu       sync.Mutex
	me       member
	peers    []member
	hostID   string
	isLocked bool
	sendErr  error
	sent     []sentLine
	queued   []func(r *fakeRoom)
	wakeCh   chan struct{}
	left     bool
}

type sentLine struct {
	text    string
	private bool
	to      []string
}

func newFakeRoom(ev events) *fakeRoom {
	me := member{id: strings.Repeat("a0", 32), name: "ann"}
	return &fakeRoom{ev: ev, me: me, hostID: me.id, wakeCh: make(chan struct{}, 1)}
}

func (r *fakeRoom) self() member { return r.me }
func (r *fakeRoom) members() []member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.peers)
}
func (r *fakeRoom) host() string { return r.hostID }
func (r *fakeRoom) send(text string, private bool, to ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sendErr != nil {
		return r.sendErr
	}
	r.sent = append(r.sent, sentLine{text, private, to})
	return nil
}
func (r *fakeRoom) locked() bool          { return r.isLocked }
func (r *fakeRoom) code() string          { return r.roomCode }
func (r *fakeRoom) lock() error           { r.isLocked = true; return nil }
func (r *fakeRoom) unlock() error         { r.isLocked = false; return nil }
func (r *fakeRoom) wake() <-chan struct{} { return r.wakeCh }
func (r *fakeRoom) pump() {
	r.mu.Lock()
	q := r.queued
	r.queued = nil
	r.mu.Unlock()
	for _, f := range q {
		f(r)
	}
}
func (r *fakeRoom) leave() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = true
}

// inject queues f for the next pump and wakes the loop.
func (r *fakeRoom) inject(f func(r *fakeRoom)) {
	r.mu.Lock()
	r.queued = append(r.queued, f)
	r.mu.Unlock()
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

// join makes m arrive, as PeerAdded would.
func (r *fakeRoom) join(m member) {
	r.inject(func(r *fakeRoom) {
		r.mu.Lock()
		r.peers = append(r.peers, m)
		r.mu.Unlock()
		r.ev.joined(m)
	})
}

func (r *fakeRoom) sentLines() []sentLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

func (r *fakeRoom) hasLeft() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.left
}

var (
	bob   = member{id: "b0b" + strings.Repeat("1", 61), name: "bob", rtt: 1234 * time.Microsecond}
	carol = member{id: "ca7" + strings.Repeat("2", 61), name: "carol", rtt: 800 * time.Microsecond}
	ann2  = member{id: "a22" + strings.Repeat("3", 61), name: "ann", rtt: time.Millisecond}
)

// syncBuffer is what an instance prints, safe to read while it writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is one run of the program in this process, on a fakeRoom.
type instance struct {
	room  *fakeRoom
	cfg   lobby.Config
	out   *syncBuffer
	stdin *io.PipeWriter
	done  chan error
}

// start runs the program with args on a fakeRoom; lines are written to
// its stdin by the test. Call inside a synctest bubble.
func start(t *testing.T, ctx context.Context, args ...string) *instance {
	t.Helper()
	in := &instance{out: &syncBuffer{}, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	in.stdin = pw
	joined := make(chan struct{})
	join := func(_ context.Context, cfg lobby.Config, ev events) (room, error) {
		in.cfg = cfg
		in.room = newFakeRoom(ev)
		close(joined)
		return in.room, nil
	}
	go func() {
		var stderr bytes.Buffer
		err := runWith(ctx, args, pr, in.out, &stderr, join)
		pr.Close()
		in.done <- err
	}()
	<-joined
	t.Cleanup(func() { pw.Close() })
	return in
}

// feed writes lines to the program's stdin from a goroutine of its own
// (the program reads them only when it is ready: /wait holds them back),
// then ends the input if eof.
func (in *instance) feed(eof bool, lines ...string) {
	go func() {
		for _, l := range lines {
			if _, err := io.WriteString(in.stdin, l+"\n"); err != nil {
				return // the program left
			}
		}
		if eof {
			in.stdin.Close()
		}
	}()
}

// events returns the printed events (run with -events) as kind, id, name,
// text, checking that every line has the documented form.
func (in *instance) events(t *testing.T) [][4]string {
	t.Helper()
	rx := regexp.MustCompile(`^\d+ ([a-z-]+) (-|[0-9a-f]{8}) ("(?:[^"\\]|\\.)*") ("(?:[^"\\]|\\.)*")$`)
	var evs [][4]string
	for _, l := range strings.Split(strings.TrimSuffix(in.out.String(), "\n"), "\n") {
		m := rx.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q is not an event line; output:\n%s", l, in.out)
		}
		name, err1 := strconv.Unquote(m[3])
		text, err2 := strconv.Unquote(m[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("line %q: %v %v", l, err1, err2)
		}
		evs = append(evs, [4]string{m[1], m[2], name, text})
	}
	return evs
}

// kinds returns the kinds of the printed events.
func (in *instance) kinds(t *testing.T) []string {
	var ks []string
	for _, e := range in.events(t) {
		ks = append(ks, e[0])
	}
	return ks
}

// TestScriptWaitsForPeersThenLeaves is the non-interactive mode: /wait
// holds the script's lines until the peers are here, lines go to
// everyone or (/to) to one peer, and at the end of input the program
// lingers, then leaves the session.
func TestScriptWaitsForPeersThenLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := start(t, t.Context(), "-name", "ann", "-linger", "3s", "-events")
		in.feed(true, "/wait 2", "hello all", "/to bob psst")
		time.Sleep(time.Second)
		synctest.Wait()
		if s := in.room.sentLines(); len(s) != 0 {
			t.Fatalf("sent %v before anyone was here", s)
		}
		in.room.join(bob)
		time.Sleep(time.Second)
		synctest.Wait()
		if s := in.room.sentLines(); len(s) != 0 {
			t.Fatalf("sent %v with 1 of 2 peers here", s)
		}
		in.room.join(carol)
		synctest.Wait()
		want := []sentLine{{"hello all", false, nil}, {"psst", true, []string{bob.id}}}
		if s := in.room.sentLines(); !slices.EqualFunc(s, want, func(a, b sentLine) bool {
			return a.text == b.text && a.private == b.private && slices.Equal(a.to, b.to)
		}) {
			t.Fatalf("sent %v, want %v", s, want)
		}
		// The end of input was read after the last line: leave 3s later.
		eof := time.Now()
		in.room.inject(func(r *fakeRoom) { r.ev.message(bob, "hi ann", true) })
		if err := <-in.done; err != nil {
			t.Fatal(err)
		}
		if d := time.Since(eof); d < 3*time.Second || d > 3*time.Second+2*tickEvery {
			t.Errorf("left %v after the end of input, want -linger 3s", d)
		}
		if !in.room.hasLeft() {
			t.Error("the session was not left")
		}
		if in.cfg.DisplayName != "ann" || in.cfg.ServiceType != "lobbychat" || in.cfg.MaxPeers != 8 || in.cfg.Interface != nil {
			t.Errorf("config %+v", in.cfg)
		}
		got := in.events(t)
		wantEv := [][4]string{
			{"start", "a0a0a0a0", "ann", `looking for "lobbychat" peers on every multicast-capable interface (sessions of up to 8)`},
			{"joined", "b0b11111", "bob", ""},
			{"joined", "ca722222", "carol", ""},
			{"waited", "-", "", "2 peers here"},
			{"said", "a0a0a0a0", "ann", "hello all"},
			{"said-to", "b0b11111", "bob", "psst"},
			{"private", "b0b11111", "bob", "hi ann"},
			{"bye", "a0a0a0a0", "ann", ""},
		}
		if !slices.Equal(got, wantEv) {
			t.Errorf("events:\n%s\nwant %q", in.out, wantEv)
		}
	})
}

// TestWaitTimesOutAndSleepHolds checks /wait's deadline and /sleep.
func TestWaitTimesOutAndSleepHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := start(t, t.Context(), "-events")
		begin := time.Now()
		in.feed(false, "/wait 1 5s", "hello?", "/sleep 2s", "/peers")
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if k := in.kinds(t); !slices.Equal(k, []string{"start"}) {
			t.Fatalf("input not held by /wait: %v\n%s", k, in.out)
		}
		time.Sleep(1500 * time.Millisecond) // past the 5s
		synctest.Wait()
		if k := in.kinds(t); !slices.Equal(k, []string{"start", "error", "error"}) {
			t.Fatalf("after /wait timed out: %v\n%s", k, in.out)
		}
		if !strings.Contains(in.out.String(), `"/wait: 0 of 1 peer here; going on"`) ||
			!strings.Contains(in.out.String(), `"nobody else is here yet: not sent"`) {
			t.Fatalf("output:\n%s", in.out)
		}
		time.Sleep(1400 * time.Millisecond) // 6.9s: /sleep began at 5s
		synctest.Wait()
		if slices.Contains(in.kinds(t), "peers") {
			t.Fatalf("/peers ran during /sleep 2s:\n%s", in.out)
		}
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		if !strings.Contains(in.out.String(), `peers - "" "0 peers, looking for more"`) {
			t.Fatalf("/peers after /sleep:\n%s", in.out)
		}
		in.feed(false, "/quit")
		if err := <-in.done; err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 8*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

// TestQuitAndInterruptLeave checks that /quit leaves at once, without
// reading further lines, and that an interrupt (ctx) leaves too.
func TestQuitAndInterruptLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := start(t, t.Context(), "-events")
		in.room.join(bob)
		synctest.Wait()
		in.feed(false, "/quit", "never sent")
		if err := <-in.done; err != nil {
			t.Fatal(err)
		}
		if s := in.room.sentLines(); len(s) != 0 || !in.room.hasLeft() {
			t.Fatalf("after /quit: sent %v, left %v", s, in.room.hasLeft())
		}
		in.stdin.Close()

		ctx, cancel := context.WithCancel(t.Context())
		in = start(t, ctx, "-events")
		synctest.Wait()
		cancel()
		if err := <-in.done; err != nil {
			t.Fatal(err)
		}
		if k := in.kinds(t); !in.room.hasLeft() || !slices.Equal(k, []string{"start", "bye"}) {
			t.Fatalf("after an interrupt: left %v, events %v", in.room.hasLeft(), k)
		}
	})
}

// chatWith returns a chat on a fakeRoom holding ms, printing for people.
func chatWith(ms ...member) (*chat, *fakeRoom, *bytes.Buffer) {
	var out bytes.Buffer
	c := newChat(&printer{w: &out})
	r := newFakeRoom(c)
	r.peers = ms
	c.room = r
	return c, r, &out
}

var ann3 = member{id: "a33" + strings.Repeat("4", 61), name: "ann", rtt: 2 * time.Millisecond}

// peersOut is what /peers prints for chatWith(ann2, ann3, bob, carol)
// with bob as the host.
const peersOut = "***   ann                  a0a0a0a0  you\n" +
	"***   ann                  a2233333  rtt 1ms\n" +
	"***   ann                  a3344444  rtt 2ms\n" +
	"***   bob                  b0b11111  rtt 1.2ms, host\n" +
	"***   carol                ca722222  rtt 800µs\n"

// TestCommands checks what each typed line does on a room of four peers
// (two of them called ann, like this peer): what is printed and sent.
func TestCommands(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name  string
		lines []string
		out   string // printed, exactly
		sent  []sentLine
	}{
		{"say", []string{"  hello  ", ""}, "ann: hello\n", []sentLine{{"hello", false, nil}}},
		{"escaped slash", []string{"//me waves"}, "ann: /me waves\n", []sentLine{{"/me waves", false, nil}}},
		{"hostile text is cleaned", []string{"\x1b[2Jhi\r"}, "ann: [2Jhi\n", []sentLine{{"[2Jhi", false, nil}}},
		{"to by name", []string{"/to carol psst"}, "you (to carol): psst\n", []sentLine{{"psst", true, []string{carol.id}}}},
		{"to by name ignoring case", []string{"/to CAROL psst"}, "you (to carol): psst\n", []sentLine{{"psst", true, []string{carol.id}}}},
		{"to by id prefix", []string{"/to B0B1 hi"}, "you (to bob): hi\n", []sentLine{{"hi", true, []string{bob.id}}}},
		{"to a quoted name", []string{`/to "bob" hi there`}, "you (to bob): hi there\n", []sentLine{{"hi there", true, []string{bob.id}}}},
		{"to one of two anns by id", []string{"/to a33 hi", "/to a334 hi"}, `*** no peer "a33" here (/peers lists them)` + "\nyou (to ann): hi\n",
			[]sentLine{{"hi", true, []string{ann3.id}}}},
		{"to an ambiguous name", []string{"/to ann hi"}, `*** "ann" is ambiguous: 2 peers match (ids a2233333, a3344444); use more of the id` + "\n", nil},
		{"to nobody", []string{"/to dave hi"}, `*** no peer "dave" here (/peers lists them)` + "\n", nil},
		{"to without text", []string{"/to bob", "/to", `/to "bob hi`}, strings.Repeat(`*** usage: /to WHO TEXT (WHO: a name, "a quoted name", or an id prefix)`+"\n", 3), nil},
		{"peers", []string{"/peers"}, "*** 4 peers, looking for more\n" + peersOut, nil},
		{"lock and unlock", []string{"/lock", "/lock", "/peers", "/unlock", "/unlock"}, "*** locked: not looking for peers, nor are the others; the 5 in the session stay\n" +
			"*** already locked (/unlock to look for peers again)\n" +
			"*** 4 peers, locked\n" + peersOut +
			"*** unlocked: looking for peers, and so are the others\n" +
			"*** not locked\n", nil},
		{"unknown command", []string{"/nick bob"}, "*** unknown command /nick (/help lists them; // starts a line with /)\n", nil},
		{"bad /sleep and /wait", []string{"/sleep", "/sleep -1s", "/wait", "/wait 0", "/wait 2 soon"}, strings.Repeat("*** usage: /sleep DURATION (e.g. /sleep 2s)\n", 2) +
			strings.Repeat("*** usage: /wait N [DURATION] (N peers, at most DURATION, default 30s)\n", 3), nil},
		{"send fails", []string{"fail: hello", "fail: /to bob hi"}, "*** send: boom\n*** send: boom\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, r, out := chatWith(ann2, ann3, bob, carol)
			r.hostID = bob.id
			for _, l := range tc.lines {
				if rest, ok := strings.CutPrefix(l, "fail: "); ok {
					r.sendErr, l = errors.New("boom"), rest
				}
				c.command(l, now)
			}
			if got := out.String(); got != tc.out {
				t.Errorf("printed:\n%s\nwant:\n%s", got, tc.out)
			}
			if s := r.sentLines(); !slices.EqualFunc(s, tc.sent, func(a, b sentLine) bool {
				return a.text == b.text && a.private == b.private && slices.Equal(a.to, b.to)
			}) {
				t.Errorf("sent %v, want %v", s, tc.sent)
			}
		})
	}
}

// TestQuitCommand checks that /quit only asks the loop to stop.
func TestQuitCommand(t *testing.T) {
	c, r, out := chatWith(bob)
	c.command("/quit", time.Now())
	if !c.quit || out.Len() != 0 || r.hasLeft() {
		t.Fatalf("quit %v, printed %q, left %v", c.quit, out, r.hasLeft())
	}
}

// TestEvents checks how joins, leaves, lines and refusals are shown to
// people and to programs, with hostile names and text.
func TestEvents(t *testing.T) {
	evil := member{id: "e" + strings.Repeat("f", 63), name: termtext.Clean("\x1b]0;pwned\x07eve\u202e", maxNameRunes)}
	run := func(c *chat) {
		c.joined(bob)
		c.message(bob, "hi all", false)
		c.message(bob, "just you", true)
		c.joined(evil)
		c.message(evil, termtext.Clean("line1\nline2\x1b[H", maxTextRunes), false)
		c.refused(errors.New("lobby: refused: session full"))
		c.refused(errors.New("session full")) // shown once (the lobby words it both ways)
		c.left(bob, errors.New("netcode: closed by peer"))
		c.refused(errors.New("lobby: refused: session full")) // again after a change
		c.left(evil, nil)
	}
	var human bytes.Buffer
	c := newChat(&printer{w: &human})
	c.room = newFakeRoom(c)
	run(c)
	want := `*** bob joined (id b0b11111)
bob: hi all
bob (to you): just you
*** ]0;pwnedeve joined (id efffffff)
]0;pwnedeve: line1line2[H
*** refused: session full
*** bob left (id b0b11111): netcode: closed by peer
*** refused: session full
*** ]0;pwnedeve left (id efffffff): left
`
	if human.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", human.String(), want)
	}

	var machine bytes.Buffer
	c = newChat(&printer{w: &machine, events: true, start: time.Now()})
	c.room = newFakeRoom(c)
	run(c)
	in := &instance{out: &syncBuffer{}}
	in.out.Write(machine.Bytes())
	got := in.events(t)
	wantEv := [][4]string{
		{"joined", "b0b11111", "bob", ""},
		{"chat", "b0b11111", "bob", "hi all"},
		{"private", "b0b11111", "bob", "just you"},
		{"joined", "efffffff", evil.name, ""},
		{"chat", "efffffff", evil.name, "line1line2[H"},
		{"refused", "-", "", "session full"},
		{"left", "b0b11111", "bob", "netcode: closed by peer"},
		{"refused", "-", "", "session full"},
		{"left", "efffffff", evil.name, "left"},
	}
	if !slices.Equal(got, wantEv) {
		t.Errorf("events:\n%s\nwant %q", machine.String(), wantEv)
	}
}

func TestHelp(t *testing.T) {
	c, _, out := chatWith()
	c.command("/help", time.Now())
	for _, cmd := range []string{"/to WHO TEXT", "/peers", "/lock", "/unlock", "/wait N", "/sleep DUR", "/quit", "//TEXT"} {
		if !strings.Contains(out.String(), cmd) {
			t.Errorf("/help does not explain %s:\n%s", cmd, out)
		}
	}
}

// TestFlags checks the command line: every flag explained by -h, what
// reaches lobby.Join, and the errors.
func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	noJoin := func(context.Context, lobby.Config, events) (room, error) {
		t.Error("joined despite a bad command line")
		return nil, errors.New("no join")
	}
	err := runWith(t.Context(), []string{"-h"}, strings.NewReader(""), &out, &errOut, noJoin)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"-name", "-service", "-iface", "-max", "-linger", "-events", "-rendezvous", "-room", "-create-room", "-public"} {
		if !strings.Contains(errOut.String(), "  "+f) {
			t.Errorf("-h does not explain %s:\n%s", f, errOut.String())
		}
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"stray"}, "bad usage"},
		{[]string{"-iface", "no-such-if0"}, "-iface no-such-if0"},
		{[]string{"-name", ""}, "-name: lobby: invalid config: empty display name"},
		{[]string{"-name", strings.Repeat("x", 64)}, "-name: lobby: invalid config"},
		{[]string{"-room", "K7MW2Q"}, "need -rendezvous"},
		{[]string{"-create-room"}, "need -rendezvous"},
		{[]string{"-rendezvous", "rdv:7777"}, "one of -room CODE"},
		{[]string{"-rendezvous", "rdv:7777", "-room", "K7MW2Q", "-create-room"}, "one of -room CODE"},
		{[]string{"-rendezvous", "rdv:7777", "-room", "K7MW2Q", "-public"}, "-public goes with -create-room"},
		{[]string{"-rendezvous", "rdv:7777", "-create-room", "-iface", "lo"}, "not with -iface"},
	} {
		err := runWith(t.Context(), tc.args, strings.NewReader(""), &out, &errOut, noJoin)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.err)
		}
	}

	var got lobby.Config
	failJoin := func(_ context.Context, cfg lobby.Config, _ events) (room, error) {
		got = cfg
		return nil, fmt.Errorf("lobby: %w", lobby.ErrConfig)
	}
	err = runWith(t.Context(), []string{"-name", "Ann 🚲", "-service", "my-game", "-max", "3", "-iface", "lo"},
		strings.NewReader(""), &out, &errOut, failJoin)
	if !errors.Is(err, lobby.ErrConfig) {
		t.Fatalf("join's error: %v", err)
	}
	if got.DisplayName != "Ann 🚲" || got.ServiceType != "my-game" || got.MaxPeers != 3 || got.Interface == nil || got.Interface.Name != "lo" {
		t.Fatalf("config %+v", got)
	}
	err = runWith(t.Context(), []string{"-name", "ann", "-rendezvous", "rdv.example.org:7777", "-create-room", "-public"},
		strings.NewReader(""), &out, &errOut, failJoin)
	if !errors.Is(err, lobby.ErrConfig) {
		t.Fatalf("join's error: %v", err)
	}
	if got.Rendezvous != "rdv.example.org:7777" || !got.CreateRoom || !got.PublicRoom || got.Room != "" || got.Interface != nil {
		t.Fatalf("-rendezvous -create-room -public: config %+v", got)
	}
	_ = runWith(t.Context(), []string{"-name", "bob", "-rendezvous", "http://10.0.0.1:7777", "-room", "K7MW2Q"},
		strings.NewReader(""), &out, &errOut, failJoin)
	if got.Rendezvous != "http://10.0.0.1:7777" || got.CreateRoom || got.Room != "K7MW2Q" {
		t.Fatalf("-rendezvous -room: config %+v", got)
	}
}

func TestPeersOfOne(t *testing.T) {
	c, r, out := chatWith(bob)
	r.hostID = bob.id
	c.command("/peers", time.Now())
	want := "*** 1 peer, looking for more\n***   ann                  a0a0a0a0  you\n***   bob                  b0b11111  rtt 1.2ms, host\n"
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out, want)
	}
}
