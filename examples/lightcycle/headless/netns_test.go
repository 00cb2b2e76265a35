package main

// The multi-host acceptance test (EXAMPLES.md, lightcycle): instances of
// the headless binary, each in a network namespace of its own on a veth
// bridge, find each other over real mDNS, play full rounds and must report
// the same results; then the host is killed and the others must carry on
// or end the round cleanly. The namespaces come from internal/netnstest:
// everything the test creates (namespaces, veths, the bridge) lives in
// namespaces it deletes afterwards, whatever happens; no packet reaches
// the machine's real interfaces. Without root (or iproute2) it skips and
// says why.

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// resultRe matches a result line; group 1 is the round.
const resultRe = `round (\d+) (?:winner \S+|draw|abandoned) steps \d+ digest [0-9a-f]{16} scores \S+`

// sameRounds waits for the first n result lines of every instance and
// returns them; it fails the test unless every instance printed the same.
func sameRounds(t *testing.T, ps []*netnstest.Proc, n int) []string {
	t.Helper()
	var want []string
	for _, p := range ps {
		var got []string
		for _, m := range p.WaitAll(resultRe, n, 4*time.Minute)[:n] {
			got = append(got, m[0])
		}
		if want == nil {
			want = got
			t.Logf("rounds 1-%d, as %s printed them:\n%s", n, p.Name(), strings.Join(got, "\n"))
		} else if !slices.Equal(got, want) {
			t.Fatalf("%s printed\n%s\nbut %s printed\n%s", p.Name(), strings.Join(got, "\n"), ps[0].Name(), strings.Join(want, "\n"))
		}
	}
	return want
}

// TestNetnsHostsPlayRoundsAndSurviveHostCrash runs the headless binary in
// three namespaces on one bridge, with -bots 2 and the autopilot as each
// instance's player: they must find each other (real mDNS), play three
// rounds and print the same three result lines (winner, steps, final
// digest, scores). Then the host is killed (SIGKILL, mid-round 4): the two
// others must notice by the game's heartbeat (within about 1.5 s; the
// transport's idle timeout is 10 s here), carry on under the next-lowest
// ID (or end the round as abandoned), print the same round 4 and 5
// results, and exit by themselves.
func TestNetnsHostsPlayRoundsAndSurviveHostCrash(t *testing.T) {
	const n = 3
	netnstest.Skip(t) // before building
	bin := netnstest.Build(t, "lightcycle-headless")
	l := netnstest.New(t, "pumpnet-lc-", n)
	var ps []*netnstest.Proc
	ids := map[*netnstest.Proc]string{}
	for i := range n {
		name := fmt.Sprintf("h%d", i+1)
		ps = append(ps, l.Run(i, name, nil, bin, "-iface", netnstest.Iface, "-name", name, "-bots", "2", "-players", "3",
			"-rounds", "5", "-tps", "240", "-countdown", "60", "-timeout", "10s"))
	}
	for _, p := range ps {
		ids[p] = p.WaitAll(`self ([0-9a-f]{64}) h\d`, 1, 10*time.Second)[0][1]
	}
	// Three rounds, the same everywhere.
	want := sameRounds(t, ps, 3)
	for i := 1; i <= 3; i++ {
		if !strings.HasPrefix(want[i-1], fmt.Sprintf("round %d ", i)) {
			t.Fatalf("result %d is %q", i, want[i-1])
		}
	}

	// Kill the host (the lowest ID) during round 4.
	byID := func(a, b *netnstest.Proc) int { return strings.Compare(ids[a], ids[b]) }
	host := slices.MinFunc(ps, byID)
	var rest []*netnstest.Proc
	for _, p := range ps {
		if p != host {
			rest = append(rest, p)
		}
	}
	for _, p := range ps {
		p.WaitAll(`started 4`, 1, time.Minute)
	}
	time.Sleep(time.Second)
	if host.HasExited() {
		t.Fatalf("%s (the host) exited early", host.Name())
	}
	killed := time.Now()
	// "ip netns exec" execs the binary: the signal reaches it directly.
	if err := host.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait(10 * time.Second) // "signal: killed"
	next := slices.MinFunc(rest, byID)
	// Per survivor: its results of rounds 4 and 5, and when it printed
	// "left <host>" (since it started).
	var after [][]string
	left := map[*netnstest.Proc]time.Duration{}
	for _, p := range rest {
		line, _ := p.WaitLine(`left `+ids[host]+` .*`, 20*time.Second)
		left[p] = line.At
		if !strings.Contains(line.Text, "host not responding") || !p.HasLine(`silent `+ids[host]) {
			t.Errorf("%s: %q: want the host dropped by the game's heartbeat (\"silent\", \"host not responding\")", p.Name(), line.Text)
		}
		var got []string
		for _, m := range p.WaitAll(resultRe, 5, 4*time.Minute)[3:5] {
			got = append(got, m[0])
		}
		after = append(after, got)
	}
	for _, p := range rest {
		if err := p.Wait(30 * time.Second); err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		d := left[p] - killed.Sub(p.Started())
		t.Logf("%s saw the host leave %v after the kill (heartbeat timeout 1.5 s, transport idle timeout 10 s)", p.Name(), d.Round(100*time.Millisecond))
		if d > 5*time.Second {
			t.Errorf("%s noticed the killed host only after %v: want about 1.5 s (the game's heartbeat), not the transport's 10 s", p.Name(), d)
		}
	}
	for _, p := range ps {
		if p.HasLine(`problem .*`) {
			t.Logf("%s reported problems:\n%s", p.Name(), p.Transcript())
		}
	}
	t.Logf("host %s killed; %s took over; the others were done %v later; rounds 4-5:\n%s",
		host.Name(), next.Name(), time.Since(killed).Round(time.Second), strings.Join(after[0], "\n"))
	if !slices.Equal(after[0], after[1]) {
		t.Fatalf("after the crash, %s printed\n%s\nbut %s printed\n%s", rest[0].Name(), strings.Join(after[0], "\n"), rest[1].Name(), strings.Join(after[1], "\n"))
	}
	for k, line := range after[0] {
		if !strings.HasPrefix(line, fmt.Sprintf("round %d ", 4+k)) {
			t.Fatalf("expected round %d, got %q", 4+k, line)
		}
	}
	for _, p := range rest {
		p.WaitAll(`host `+ids[next], 1, time.Second)
	}
	if strings.Contains(after[0][1], "winner "+host.Name()+" ") || strings.Contains(after[0][1], host.Name()+"=") {
		t.Fatalf("the killed host played round 5: %s", after[0][1])
	}
}
