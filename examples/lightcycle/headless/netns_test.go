package main

// The multi-host acceptance test (EXAMPLES.md, lightcycle): instances of
// the headless binary, each in a network namespace of its own on a veth
// bridge, find each other over real mDNS, play full rounds and must report
// the same results; then the host is killed and the others must carry on
// or end the round cleanly. Everything the test creates (namespaces,
// veths, the bridge) lives in namespaces it deletes afterwards, whatever
// happens; no packet reaches the machine's real interfaces. Without root
// (or iproute2) it skips and says why.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lanIface is each host's veth, inside its namespace.
const lanIface = "veth0"

// nsPrefix starts the name of every namespace this test creates, followed
// by the test process's PID, so leftovers of a killed run can be told from
// namespaces in use.
const nsPrefix = "pumpnet-lc-"

// lan is a LAN of network namespaces: one holds the bridge br0, and each
// host i has a namespace whose veth0 (10.78.0.i+1/24, IPv6 off, a route
// for 224.0.0.0/4) is plugged into br0.
type lan struct {
	t      *testing.T
	prefix string
	hosts  []string
}

func newLAN(t *testing.T, n int) *lan {
	t.Helper()
	switch {
	case runtime.GOOS != "linux":
		t.Skip("network namespaces need Linux; nothing was run")
	case os.Geteuid() != 0:
		t.Skip("needs root to create network namespaces (ip netns add); nothing was run")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("needs iproute2's ip: %v", err)
	}
	sweepStale(t)
	l := &lan{t: t, prefix: fmt.Sprintf("%s%d-", nsPrefix, os.Getpid())}
	t.Cleanup(l.checkDeleted) // registered first, so it runs last
	bridge := l.prefix + "br"
	if out, err := exec.Command("ip", "netns", "add", bridge).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (ip netns add: %v: %s); nothing was run", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { l.del(bridge) })
	l.ip("netns", "exec", bridge, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	// No IGMP snooping: with no querier on this LAN, multicast is flooded.
	l.ip("-n", bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.ip("-n", bridge, "link", "set", "br0", "up")
	for i := range n {
		ns := fmt.Sprintf("%sh%d", l.prefix, i+1)
		l.ip("netns", "add", ns)
		t.Cleanup(func() { l.del(ns) })
		l.hosts = append(l.hosts, ns)
		l.ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		port := fmt.Sprintf("h%d", i+1)
		// Both ends are created inside their namespaces: nothing appears in
		// the root namespace, even for a moment.
		l.ip("link", "add", lanIface, "netns", ns, "type", "veth", "peer", "name", port, "netns", bridge)
		l.ip("-n", bridge, "link", "set", port, "master", "br0")
		l.ip("-n", bridge, "link", "set", port, "up")
		l.ip("-n", ns, "addr", "add", fmt.Sprintf("10.78.0.%d/24", i+1), "dev", lanIface)
		l.ip("-n", ns, "link", "set", "lo", "up")
		l.ip("-n", ns, "link", "set", lanIface, "up")
		l.ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", lanIface)
	}
	return l
}

func (l *lan) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

func (l *lan) del(ns string) {
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		l.t.Errorf("ip netns del %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
}

// checkDeleted fails the test if a namespace of this LAN is still there,
// or one of its links showed up in the root namespace.
func (l *lan) checkDeleted() {
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		l.t.Errorf("ip netns list: %v: %s", err, out)
	}
	if strings.Contains(string(out), l.prefix) {
		l.t.Errorf("namespaces left behind:\n%s", out)
	}
	out, err = exec.Command("ip", "-o", "link", "show").CombinedOutput()
	if err != nil {
		l.t.Errorf("ip link show: %v: %s", err, out)
	}
	for _, name := range []string{lanIface, "br0"} {
		if strings.Contains(string(out), ": "+name) {
			l.t.Errorf("link %s in the root namespace:\n%s", name, out)
		}
	}
}

// sweepStale deletes namespaces of earlier runs whose process is gone.
func sweepStale(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	rx := regexp.MustCompile(`^` + regexp.QuoteMeta(nsPrefix) + `(\d+)-\S+`)
	for _, line := range strings.Split(string(out), "\n") {
		m := rx.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", m[0]).CombinedOutput(); err != nil {
			t.Logf("stale namespace %s: %v: %s", m[0], err, out)
		}
	}
}

// instance is the headless binary running in one namespace; the test reads
// what it prints.
type instance struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	started time.Time
	exited  chan struct{}
	waitErr error

	mu      sync.Mutex
	lines   []string
	at      []time.Duration
	changed chan struct{}
}

// run starts the binary in host i's namespace ("ip netns exec" execs it,
// so the process is the binary itself). t.Cleanup kills it if it still
// runs, before the namespaces go.
func (l *lan) run(i int, name, bin string, args ...string) *instance {
	l.t.Helper()
	p := &instance{t: l.t, name: name, exited: make(chan struct{}), changed: make(chan struct{}, 1)}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", l.hosts[i], bin}, args...)...)
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		l.t.Fatalf("%s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.at = append(p.at, time.Since(p.started))
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, stdout)
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	l.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if l.t.Failed() {
			l.t.Logf("%s printed:\n%s\nstderr:\n%s", name, p.transcript(), p.stderr.String())
		}
	})
	return p
}

func (p *instance) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for i, l := range p.lines {
		fmt.Fprintf(&b, "%7dms  %s\n", p.at[i].Milliseconds(), l)
	}
	return b.String()
}

// wait waits up to d until count lines match re (anchored), and returns
// their submatches.
func (p *instance) wait(re string, count int, d time.Duration) [][]string {
	p.t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		exited := p.hasExited()
		var ms [][]string
		p.mu.Lock()
		for _, l := range p.lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				ms = append(ms, m)
			}
		}
		p.mu.Unlock()
		if len(ms) >= count {
			return ms
		}
		if exited {
			p.t.Fatalf("%s exited (%v) with %d of %d lines matching %q", p.name, p.waitErr, len(ms), count, re)
		}
		select {
		case <-p.changed:
		case <-p.exited:
		case <-deadline.C:
			p.t.Fatalf("%s: %d of %d lines matching %q within %v", p.name, len(ms), count, re, d)
		}
	}
}

// firstAt returns when the first line matching re was printed, since the
// instance started, or -1.
func (p *instance) firstAt(re string) time.Duration {
	rx := regexp.MustCompile("^" + re + "$")
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, l := range p.lines {
		if rx.MatchString(l) {
			return p.at[i]
		}
	}
	return -1
}

func (p *instance) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exit waits up to d for the instance to exit by itself, successfully.
func (p *instance) exit(d time.Duration) {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		p.t.Fatalf("%s still running %v later (hung?)", p.name, d)
	}
	if p.waitErr != nil {
		p.t.Fatalf("%s: %v", p.name, p.waitErr)
	}
}

// buildBinary builds this command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lightcycle-headless")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// resultRe matches a result line; group 1 is the round.
const resultRe = `round (\d+) (?:winner \S+|draw|abandoned) steps \d+ digest [0-9a-f]{16} scores \S+`

// TestNetnsHostsPlayRoundsAndSurviveHostCrash runs the headless binary in
// three namespaces on one bridge, with -bots 2 and the autopilot as each
// instance's player: they must find each other (real mDNS), play three
// rounds and print the same three result lines (winner, steps, final
// digest, scores). Then the host is killed (SIGKILL, mid-round 4): the two
// others must notice, carry on under the next-lowest ID (or end the round
// as abandoned), print the same round 4 and 5 results, and exit by
// themselves.
func TestNetnsHostsPlayRoundsAndSurviveHostCrash(t *testing.T) {
	const n = 3
	l := newLAN(t, n)
	bin := buildBinary(t)
	var ps []*instance
	ids := map[*instance]string{}
	for i := range n {
		name := fmt.Sprintf("h%d", i+1)
		ps = append(ps, l.run(i, name, bin, "-iface", lanIface, "-name", name, "-bots", "2", "-players", "3",
			"-rounds", "5", "-tps", "240", "-countdown", "60", "-timeout", "3s"))
	}
	for _, p := range ps {
		ids[p] = p.wait(`self ([0-9a-f]{64}) h\d`, 1, 10*time.Second)[0][1]
	}
	// Three rounds, the same everywhere.
	var want []string
	for _, p := range ps {
		var got []string
		for _, m := range p.wait(resultRe, 3, 4*time.Minute)[:3] {
			got = append(got, m[0])
		}
		if want == nil {
			want = got
			t.Logf("rounds 1-3, as %s printed them:\n%s", p.name, strings.Join(got, "\n"))
		} else if !slices.Equal(got, want) {
			t.Fatalf("%s printed\n%s\nbut %s printed\n%s", p.name, strings.Join(got, "\n"), ps[0].name, strings.Join(want, "\n"))
		}
	}
	for i := 1; i <= 3; i++ {
		if !strings.HasPrefix(want[i-1], fmt.Sprintf("round %d ", i)) {
			t.Fatalf("result %d is %q", i, want[i-1])
		}
	}

	// Kill the host (the lowest ID) during round 4.
	host := slices.MinFunc(ps, func(a, b *instance) int { return strings.Compare(ids[a], ids[b]) })
	var rest []*instance
	for _, p := range ps {
		if p != host {
			rest = append(rest, p)
		}
	}
	for _, p := range ps {
		p.wait(`started 4`, 1, time.Minute)
	}
	time.Sleep(time.Second)
	if host.hasExited() {
		t.Fatalf("%s (the host) exited early", host.name)
	}
	killed := time.Now()
	if err := host.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-host.exited
	next := slices.MinFunc(rest, func(a, b *instance) int { return strings.Compare(ids[a], ids[b]) })
	var after [][]string // per survivor: its results of rounds 4 and 5
	for _, p := range rest {
		p.wait(`left `+ids[host]+` .*`, 1, 20*time.Second)
		var got []string
		for _, m := range p.wait(resultRe, 5, 4*time.Minute)[3:5] {
			got = append(got, m[0])
		}
		after = append(after, got)
	}
	for _, p := range rest {
		p.exit(30 * time.Second)
		t.Logf("%s saw the host leave %v after the kill (idle timeout 3s)", p.name,
			(p.firstAt(`left `+ids[host]+` .*`) - killed.Sub(p.started)).Round(100*time.Millisecond))
	}
	for _, p := range ps {
		if p.firstAt(`problem .*`) >= 0 {
			t.Logf("%s reported problems:\n%s", p.name, p.transcript())
		}
	}
	t.Logf("host %s killed; %s took over; the others were done %v later; rounds 4-5:\n%s",
		host.name, next.name, time.Since(killed).Round(time.Second), strings.Join(after[0], "\n"))
	if !slices.Equal(after[0], after[1]) {
		t.Fatalf("after the crash, %s printed\n%s\nbut %s printed\n%s", rest[0].name, strings.Join(after[0], "\n"), rest[1].name, strings.Join(after[1], "\n"))
	}
	for k, line := range after[0] {
		if !strings.HasPrefix(line, fmt.Sprintf("round %d ", 4+k)) {
			t.Fatalf("expected round %d, got %q", 4+k, line)
		}
	}
	for _, p := range rest {
		p.wait(`host `+ids[next], 1, time.Second)
	}
	if strings.Contains(after[0][1], "winner "+ids[host]) || strings.Contains(after[0][1], ids[host]+"=") {
		t.Fatalf("the killed host played round 5: %s", after[0][1])
	}
}
