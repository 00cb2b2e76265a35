package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
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

var (
	summaryRE = regexp.MustCompile(`^(client|server \S+) +(reliable|unreliable) summary: sent (\d+), answered (\d+), lost (\d+) \(([\d.]+)%\)(?:, in flight at the end (\d+))?; rtt (?:n/a|min (\S+), median (\S+), p99 (\S+), max (\S+); jitter (\S+))$`)
	pingRE    = regexp.MustCompile(`^(client|server \S+): (reliable|unreliable) ping (\d+) rtt (\S+)$`)
	receiveRE = regexp.MustCompile(`^client pings received: reliable (\d+)/(\d+), unreliable (\d+)/(\d+)$`)
)

// result is one summary line, parsed.
type result struct {
	sent, answered, lost, inFlight int
	min, median, p99, max, jitter  time.Duration
}

// report is what a run printed, parsed.
type report struct {
	summary  map[string]result // "client reliable", "server unreliable"
	rtts     map[string][]time.Duration
	received [2]int // client: reliable, unreliable
}

func side(s string) string { return strings.Fields(s)[0] }

func parse(t *testing.T, out string) report {
	t.Helper()
	r := report{summary: map[string]result{}, rtts: map[string][]time.Duration{}}
	num := func(s string) int {
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	d := func(s string) time.Duration {
		if s == "" {
			return 0
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("duration %q: %v", s, err)
		}
		return v
	}
	for _, line := range strings.Split(out, "\n") {
		if m := summaryRE.FindStringSubmatch(line); m != nil {
			key := side(m[1]) + " " + m[2]
			if _, dup := r.summary[key]; dup {
				t.Fatalf("two %s summaries:\n%s", key, out)
			}
			r.summary[key] = result{num(m[3]), num(m[4]), num(m[5]), num(m[7]), d(m[8]), d(m[9]), d(m[10]), d(m[11]), d(m[12])}
		} else if m := pingRE.FindStringSubmatch(line); m != nil {
			key := side(m[1]) + " " + m[2]
			r.rtts[key] = append(r.rtts[key], d(m[4]))
		} else if m := receiveRE.FindStringSubmatch(line); m != nil {
			r.received = [2]int{num(m[1]), num(m[3])}
		}
	}
	for _, s := range []string{"client", "server"} {
		for _, sr := range seriesName {
			if _, ok := r.summary[s+" "+sr]; !ok {
				t.Fatalf("no %s %s summary in:\n%s", s, sr, out)
			}
		}
	}
	return r
}

// check asserts what holds for every summary line: the counts add up,
// one RTT line per answered ping, and the percentiles are in order.
func (r report) check(t *testing.T, n int) {
	t.Helper()
	for key, s := range r.summary {
		if s.answered+s.lost+s.inFlight != s.sent {
			t.Errorf("%s: answered %d + lost %d + in flight %d != sent %d", key, s.answered, s.lost, s.inFlight, s.sent)
		}
		if got := len(r.rtts[key]); got != s.answered {
			t.Errorf("%s: %d rtt lines, %d answered", key, got, s.answered)
		}
		if s.answered > 0 && !(0 < s.min && s.min <= s.median && s.median <= s.p99 && s.p99 <= s.max) {
			t.Errorf("%s: want 0 < min <= median <= p99 <= max: %+v", key, s)
		}
		for _, rtt := range r.rtts[key] {
			if rtt < s.min || rtt > s.max {
				t.Errorf("%s: rtt %v outside [min %v, max %v]", key, rtt, s.min, s.max)
			}
		}
		if s.jitter > s.max-s.min {
			t.Errorf("%s: jitter %v above max - min", key, s.jitter)
		}
	}
	// The server sends n pings per series; the reliable ones all arrive,
	// each is echoed and each echo answered.
	for _, key := range []string{"server reliable", "server unreliable", "client reliable"} {
		if s := r.summary[key]; s.sent != n {
			t.Errorf("%s: sent %d, want %d", key, s.sent, n)
		}
	}
	for _, key := range []string{"server reliable", "client reliable"} {
		if s := r.summary[key]; s.answered != n || s.lost != 0 {
			t.Errorf("%s: answered %d, lost %d; want %d answered, none lost", key, s.answered, s.lost, n)
		}
	}
	if r.received[0] != n {
		t.Errorf("client received %d reliable pings, want %d", r.received[0], n)
	}
	if s := r.summary["client unreliable"]; s.sent != r.received[1] {
		t.Errorf("client echoed %d unreliable pings but received %d", s.sent, r.received[1])
	}
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("run %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errOut.String())
	}
	return out.String()
}

func TestSummaryIsPlausible(t *testing.T) {
	out := runOK(t, "-n", "20", "-interval", "5ms", "-timeout", "500ms")
	r := parse(t, out)
	r.check(t, 20)
	// On loopback, with no conditioner, a round trip takes well under
	// 100 ms even on a loaded machine.
	if s := r.summary["client reliable"]; s.median > 100*time.Millisecond {
		t.Errorf("loopback median rtt %v", s.median)
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestLossHitsOnlyTheUnreliableSeries(t *testing.T) {
	out := runOK(t, "-n", "20", "-interval", "5ms", "-timeout", "300ms", "-loss", "30%", "-seed", "7")
	r := parse(t, out)
	r.check(t, 20) // includes: reliable lost 0, answered 20, on both sides
	// 30% each way: an unreliable round trip survives with probability
	// 0.49, so 20 without a loss happen once in a million runs.
	for _, key := range []string{"server unreliable", "client unreliable"} {
		if s := r.summary[key]; s.lost == 0 {
			t.Errorf("%s: no loss through a 30%% lossy link: %+v", key, s)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestLagIsAddedBothWays(t *testing.T) {
	out := runOK(t, "-n", "5", "-interval", "5ms", "-lag", "15ms")
	r := parse(t, out)
	r.check(t, 5)
	for key, s := range r.summary {
		if s.answered > 0 && s.min < 30*time.Millisecond {
			t.Errorf("%s: min rtt %v with 15 ms each way, want >= 30 ms", key, s.min)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestServeAndConnect runs the two-terminal mode: a server with -serve and
// two clients with -connect, in turn.
func TestServeAndConnect(t *testing.T) {
	var srvOut, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- run(ctx, []string{"-serve", "127.0.0.1:0"}, &srvOut, &errOut) }()
	defer func() {
		cancel()
		if err := <-srvDone; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	connectRE := regexp.MustCompile(`lagtime: connect string (dtls://127\.0\.0\.1:\d+#[0-9a-f]{64})\n`)
	var connect string
	for deadline := time.Now().Add(10 * time.Second); connect == ""; time.Sleep(5 * time.Millisecond) {
		if m := connectRE.FindStringSubmatch(srvOut.String()); m != nil {
			connect = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no connect string:\n%s", srvOut.String())
		}
	}
	out := runOK(t, "-connect", connect, "-n", "3", "-interval", "5ms")
	hostPort := strings.TrimPrefix(connect[:strings.IndexByte(connect, '#')], "dtls://")
	out2 := runOK(t, "-connect", hostPort, "-insecure", "-n", "4", "-interval", "5ms")

	// The server printed one summary per client, with each client's -n.
	var server []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		server = nil
		for _, l := range strings.Split(srvOut.String(), "\n") {
			if summaryRE.MatchString(l) {
				server = append(server, l)
			}
		}
		if len(server) == 4 || time.Now().After(deadline) {
			break
		}
	}
	if len(server) != 4 || !strings.Contains(server[0], "sent 3,") || !strings.Contains(server[2], "sent 4,") {
		t.Fatalf("server summaries:\n%s\nserver output:\n%s", strings.Join(server, "\n"), srvOut.String())
	}
	for i, o := range []string{out, out2} {
		if !strings.Contains(o, "client   reliable summary: sent "+strconv.Itoa(i+3)+", answered "+strconv.Itoa(i+3)+", lost 0") {
			t.Errorf("client %d:\n%s", i, o)
		}
	}
}

func TestHostPortNeedsInsecure(t *testing.T) {
	var out, errOut syncBuffer
	err := run(context.Background(), []string{"-connect", "127.0.0.1:9"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "no key fingerprint") || !strings.Contains(err.Error(), "-insecure") {
		t.Fatalf("host:port without -insecure: %v", err)
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var out, errOut syncBuffer
	if err := run(context.Background(), []string{"-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"serve", "connect", "insecure", "n", "interval", "timeout", "lag", "jitter", "loss", "seed"} {
		if !regexp.MustCompile(`(?m)^  -` + f + `\b`).MatchString(errOut.String()) {
			t.Errorf("-h does not explain -%s:\n%s", f, errOut.String())
		}
	}
	for _, args := range [][]string{{"-n", "0"}, {"-loss", "150%"}, {"-lag", "50"}, {"-serve", ":0", "-connect", "x:1"}, {"-interval", "0s"}, {"stray"}} {
		var errOut syncBuffer
		if err := run(context.Background(), args, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage:") {
			t.Errorf("%q: %v, stderr %q", args, err, errOut.String())
		}
	}
}
