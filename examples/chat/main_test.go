package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// transcript collects what one instance prints, safe for the instance's
// goroutine to write while the test reads.
type transcript struct {
	name    string
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // capacity 1: something was written
	next    int           // lines before this one were matched by waitLine
}

func newTranscript(name string) *transcript {
	return &transcript{name: name, changed: make(chan struct{}, 1)}
}

func (tr *transcript) Write(p []byte) (int, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	select {
	case tr.changed <- struct{}{}:
	default:
	}
	return tr.buf.Write(p)
}

func (tr *transcript) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.buf.String()
}

// lines returns the complete lines printed so far.
func (tr *transcript) lines() []string {
	s := tr.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// waitLine waits until a line matching re appears after the lines already
// matched, and returns it; so successive calls check the order of lines.
func (tr *transcript) waitLine(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		ls := tr.lines()
		for i := tr.next; i < len(ls); i++ {
			if rx.MatchString(ls[i]) {
				tr.next = i + 1
				return ls[i]
			}
		}
		select {
		case <-tr.changed:
		case <-deadline.C:
			t.Fatalf("%s: no line matching %q after line %d; transcript:\n%s", tr.name, re, tr.next, tr.String())
		}
	}
}

// instance is one run of the program in this process.
type instance struct {
	out    *transcript
	stdin  *io.PipeWriter
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, name string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	in := &instance{out: newTranscript(name), stdin: pw, cancel: cancel, done: make(chan error, 1)}
	var stderr bytes.Buffer
	go func() {
		err := run(ctx, args, pr, in.out, &stderr)
		pr.Close()
		in.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		pw.Close()
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop", name)
		}
	})
	return in
}

func (in *instance) say(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(in.stdin, line+"\n"); err != nil {
		t.Fatalf("%s: write stdin: %v", in.out.name, err)
	}
}

// result waits for run to return.
func (in *instance) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-in.done:
		in.done <- err // for Cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not exit; transcript:\n%s", in.out.name, in.out.String())
		return nil
	}
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// TestChatSession runs a server and three clients in this process and
// checks each transcript: a nickname and a line sent before the server is
// even up arrive; the players list follows joins, renames and leaves;
// every line reaches everyone, the sender included; clients leave on /quit
// and at the end of input; all exit when the server stops.
func TestChatSession(t *testing.T) {
	// ann starts first, before the server exists: her nickname and first
	// line wait in the engine's queue until the connection is up. (She
	// uses host:port, which needs -insecure: the fingerprint is unknown.)
	addr := freePort(t)
	ann := start(t, "ann", "-connect", addr, "-insecure", "-nick", "ann")
	ann.say(t, "early bird")
	ann.out.waitLine(t, `\*\*\* connecting to 127\.0\.0\.1:\d+ .*`)
	time.Sleep(300 * time.Millisecond)

	srv := start(t, "server", "-serve", addr)
	connect := strings.TrimPrefix(srv.out.waitLine(t, `chat: connect string dtls://127\.0\.0\.1:\d+#[0-9a-f]{64}`), "chat: connect string ")

	ann.out.waitLine(t, `\*\*\* connected to .*`)
	ann.out.waitLine(t, `\*\*\* players: ann`)
	ann.out.waitLine(t, `ann: early bird`)

	bob := start(t, "bob", "-connect", connect, "-nick", "bob")
	for _, c := range []*instance{ann, bob} {
		c.out.waitLine(t, `\*\*\* players: ann, bob`)
	}
	bob.say(t, "hi all")
	// A hostile escape sequence is stripped, on the server and the clients.
	bob.say(t, "\x1b[2Jcleared?")
	for _, c := range []*instance{ann, bob} {
		c.out.waitLine(t, `bob: hi all`)
		c.out.waitLine(t, `bob: \[2Jcleared\?`)
	}

	// Nobody was ever listed under the placeholder name before their own
	// (it used to show "players: anonymous", then the name).
	for _, c := range []*instance{ann, bob} {
		if strings.Contains(c.out.String(), "players: anonymous") || strings.Contains(c.out.String(), ", anonymous") {
			t.Errorf("%s saw a newcomer as anonymous before its nickname:\n%s", c.out.name, c.out.String())
		}
	}

	carol := start(t, "carol", "-connect", connect) // no -nick: anonymous after the grace
	for _, c := range []*instance{ann, bob, carol} {
		c.out.waitLine(t, `\*\*\* players: ann, bob, anonymous`)
	}
	ann.say(t, "/nick anna")
	for _, c := range []*instance{ann, bob, carol} {
		c.out.waitLine(t, `\*\*\* players: anna, bob, anonymous`)
	}
	carol.say(t, "who renamed?")
	for _, c := range []*instance{ann, bob, carol} {
		c.out.waitLine(t, `anonymous: who renamed\?`)
	}

	carol.say(t, "/quit")
	if err := carol.result(t); err != nil {
		t.Fatalf("carol after /quit: %v", err)
	}
	carol.out.waitLine(t, `\*\*\* left the chat`)
	for _, c := range []*instance{ann, bob} {
		c.out.waitLine(t, `\*\*\* players: anna, bob`)
	}

	// End of input: bob leaves, after his last line was delivered.
	bob.say(t, "bye")
	bob.stdin.Close()
	if err := bob.result(t); err != nil {
		t.Fatalf("bob at end of input: %v", err)
	}
	ann.out.waitLine(t, `bob: bye`)
	ann.out.waitLine(t, `\*\*\* players: anna`)

	// The server stops: ann is told, prints it and exits with an error.
	srv.cancel()
	if err := srv.result(t); err != nil {
		t.Fatalf("server: %v", err)
	}
	ann.out.waitLine(t, `\*\*\* disconnected: chat server shutting down`)
	if err := ann.result(t); err == nil || !strings.Contains(err.Error(), "disconnected") {
		t.Fatalf("ann after the server stopped: %v, want a disconnected error", err)
	}

	// The server's log saw it all, in order.
	for _, re := range []string{
		`\+ 127\.0\.0\.1:\d+ connected`, `\+ 127\.0\.0\.1:\d+ joined as ann`, `\* players: ann`, `ann: early bird`,
		`bob: hi all`, `\* 127\.0\.0\.1:\d+ \(ann\) is now anna`, `- 127\.0\.0\.1:\d+ \(anonymous\) left: .*`,
		`bob: bye`, `- 127\.0\.0\.1:\d+ \(bob\) left: .*`, `\* players: anna`, `chat: server stopped`,
	} {
		srv.out.waitLine(t, re)
	}
}

func TestHostPortNeedsInsecure(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-connect", "127.0.0.1:9"}, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "no key fingerprint") || !strings.Contains(err.Error(), "-insecure") {
		t.Fatalf("host:port without -insecure: %v", err)
	}
}

// TestLANFlags checks the -lan command lines that are refused before
// anything is sent (the LAN itself is tested in network namespaces:
// netns_test.go).
func TestLANFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  error
		msg  string
	}{
		{[]string{"-lan", "-connect", "127.0.0.1:9"}, errUsage, "-lan finds the server, -connect names it"},
		{[]string{"-iface", "lo", "-connect", "127.0.0.1:9"}, errUsage, "-iface goes with -lan"},
		{[]string{"-lan", "-iface", "no-such-if0"}, nil, "-iface no-such-if0"},
		{[]string{"-serve", ":0", "-lan", "-iface", "no-such-if0"}, nil, "-iface no-such-if0"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, strings.NewReader(""), &out, &errOut)
		if err == nil || tc.err != nil && !errors.Is(err, tc.err) || !strings.Contains(err.Error()+errOut.String(), tc.msg) {
			t.Errorf("%q: %v, stderr %q; want %q", tc.args, err, errOut.String(), tc.msg)
		}
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-h"}, strings.NewReader(""), &out, &errOut)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"-serve", "-connect", "-nick", "-insecure", "-linger", "-lan", "-iface"} {
		if !strings.Contains(errOut.String(), "  "+f) {
			t.Errorf("-h does not explain %s:\n%s", f, errOut.String())
		}
	}
	for _, args := range [][]string{nil, {"-serve", ":0", "-connect", "x:1"}, {"stray"}} {
		errOut.Reset()
		if err := run(context.Background(), args, strings.NewReader(""), &out, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "usage:") {
			t.Errorf("%q: %v, stderr %q", args, err, errOut.String())
		}
	}
}

// TestUndeliveredLinesReported: lines the server never relayed back are
// named when the connection ends, instead of vanishing. The server here
// relays ann's first line and then goes silent (as a server does in the
// seconds before a client notices it was killed) until it is closed.
func TestUndeliveredLinesReported(t *testing.T) {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var relayed atomic.Int32
	if err := engine.HandleFunc(srv, "message", func(p *engine.Peer, m chatMsg) {
		if relayed.Add(1) == 1 {
			if err := p.Send(chatMsg{Action: "message", Message: m.Message, Who: "ann"}); err != nil {
				t.Errorf("relay: %v", err)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			select {
			case <-stop:
				return
			default:
				srv.PumpWait(context.Background(), 10*time.Millisecond)
			}
		}
	}()
	ann := start(t, "ann", "-connect", srv.Addr().String(), "-insecure", "-nick", "ann")
	ann.out.waitLine(t, `\*\*\* connected to .*`)
	ann.say(t, "this one arrives")
	ann.out.waitLine(t, `ann: this one arrives`)
	ann.say(t, "lost one")
	ann.say(t, "lost two")
	deadline := time.Now().Add(5 * time.Second)
	for relayed.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-pumped
	srv.Close()
	ann.out.waitLine(t, `\*\*\* disconnected: .*`)
	ann.out.waitLine(t, `\*\*\* not delivered: lost one`)
	ann.out.waitLine(t, `\*\*\* not delivered: lost two`)
	if strings.Contains(ann.out.String(), "not delivered: this one arrives") {
		t.Errorf("a relayed line was reported as not delivered:\n%s", ann.out.String())
	}
}

// TestServerKeyKeepsConnectString: with -key, a restarted server prints
// the same connect string, and a client given the old one joins it.
func TestServerKeyKeepsConnectString(t *testing.T) {
	key := t.TempDir() + "/server.key"
	addr := freePort(t)
	connectString := func(srv *instance) string {
		return strings.TrimPrefix(srv.out.waitLine(t, `chat: connect string dtls://.*`), "chat: connect string ")
	}
	first := start(t, "server1", "-serve", addr, "-key", key)
	first.out.waitLine(t, `chat: new identity saved in .*server\.key .*`)
	cs := connectString(first)
	first.cancel()
	if err := first.result(t); err != nil {
		t.Fatal(err)
	}

	second := start(t, "server2", "-serve", addr, "-key", key)
	second.out.waitLine(t, `chat: identity loaded from .*server\.key`)
	if again := connectString(second); again != cs {
		t.Fatalf("connect string changed across a restart with -key:\n%s\n%s", cs, again)
	}
	ann := start(t, "ann", "-connect", cs, "-nick", "ann")
	ann.out.waitLine(t, `\*\*\* players: ann`)
}

// TestConnectFailureToldOnce: a connect string whose key is not the
// server's (a server restarted without -key) fails with one line that says
// so, not the same error three times.
func TestConnectFailureToldOnce(t *testing.T) {
	srv := start(t, "server", "-serve", "127.0.0.1:0")
	cs := strings.TrimPrefix(srv.out.waitLine(t, `chat: connect string dtls://.*`), "chat: connect string ")
	wrong := cs[:strings.LastIndexByte(cs, '#')+1] + strings.Repeat("ab", 32)
	ann := start(t, "ann", "-connect", wrong, "-nick", "ann")
	err := ann.result(t)
	if err == nil || !errors.As(err, new(reported)) {
		t.Fatalf("run returned %v, want an error marked as reported", err)
	}
	ann.out.waitLine(t, `\*\*\* the server at 127\.0\.0\.1:\d+ has another key than the connect string names: it was restarted without -key .*`)
	if n := strings.Count(ann.out.String(), "fingerprint mismatch"); n != 1 {
		t.Errorf("the mismatch was told %d times, want once:\n%s", n, ann.out.String())
	}
}

// TestSlowConnectAsksEarly: with nothing at the address, the client asks
// whether the server is running after 2 s, while still trying, instead of
// saying nothing until the handshake times out.
func TestSlowConnectAsksEarly(t *testing.T) {
	addr := freePort(t)
	ann := start(t, "ann", "-connect", addr, "-insecure", "-nick", "ann")
	line := ann.out.waitLine(t, `\*\*\* no answer yet from 127\.0\.0\.1:\d+: is the server running there\? \(still trying\)`)
	if strings.Contains(ann.out.String(), "*** no answer from") {
		t.Fatalf("the final timeout came before the early question %q:\n%s", line, ann.out.String())
	}
}
