package main

// The end-to-end test: real lobbychat processes, one per network
// namespace, on real mDNS. The namespaces' only links are veths to a
// bridge in a namespace of its own; the test creates and deletes them all
// (DESIGN §6). Without root (or ip netns), it skips and says why.
//
// The namespace helpers are a copy of the lobby's (lobby/netns_test.go):
// test files cannot be shared across modules.

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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// netnsIface is each host's veth (inside its namespace).
const netnsIface = "veth0"

// netnsPrefix starts the name of every namespace these tests create; the
// PID of the test process follows, so leftovers of a killed run can be
// told from namespaces in use.
const netnsPrefix = "pumpnet-lobbychat-"

var netnsSeq atomic.Int64

// netnsLAN is a LAN of network namespaces: one namespace holding the
// bridge br0 and, for each host i, a namespace whose veth0 (10.77.0.i+1/24,
// IPv6 off, a 224.0.0.0/4 route) is plugged into br0.
type netnsLAN struct {
	t      *testing.T
	prefix string
	bridge string
	hosts  []string
}

// newNetnsLAN creates a LAN of n hosts; t.Cleanup deletes it, and checks
// that nothing is left, whether the test passes, fails or panics.
func newNetnsLAN(t *testing.T, n int) *netnsLAN {
	t.Helper()
	skipWithoutNetns(t)
	sweepStaleNetns(t)
	l := &netnsLAN{t: t, prefix: fmt.Sprintf("%s%d-%d-", netnsPrefix, os.Getpid(), netnsSeq.Add(1))}
	t.Cleanup(l.checkDeleted) // registered first: runs last
	l.bridge = l.prefix + "br"
	if out, err := exec.Command("ip", "netns", "add", l.bridge).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (ip netns add: %v: %s); nothing was sent", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { l.del(l.bridge) })
	l.ip("netns", "exec", l.bridge, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	// No snooping: with no IGMP querier on this LAN, multicast is flooded.
	l.ip("-n", l.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.ip("-n", l.bridge, "link", "set", "br0", "up")
	for i := range n {
		ns := fmt.Sprintf("%sh%d", l.prefix, i+1)
		l.ip("netns", "add", ns)
		t.Cleanup(func() { l.del(ns) })
		l.hosts = append(l.hosts, ns)
		// IPv6 off before the veth exists, so it never has a (tentative)
		// link-local address.
		l.ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		port := fmt.Sprintf("h%d", i+1)
		// Both ends are created inside their namespaces: nothing appears in
		// the root namespace, even for a moment.
		l.ip("link", "add", netnsIface, "netns", ns, "type", "veth", "peer", "name", port, "netns", l.bridge)
		l.ip("-n", l.bridge, "link", "set", port, "master", "br0")
		l.ip("-n", l.bridge, "link", "set", port, "up")
		l.ip("-n", ns, "addr", "add", fmt.Sprintf("%s/24", l.addr(i)), "dev", netnsIface)
		l.ip("-n", ns, "link", "set", "lo", "up")
		l.ip("-n", ns, "link", "set", netnsIface, "up")
		l.ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", netnsIface)
	}
	return l
}

// skipWithoutNetns skips the test, saying why, where it cannot create
// network namespaces.
func skipWithoutNetns(t *testing.T) {
	t.Helper()
	switch {
	case runtime.GOOS != "linux":
		t.Skip("network namespaces need Linux; nothing was sent")
	case os.Geteuid() != 0:
		t.Skip("needs root to create network namespaces (ip netns add); nothing was sent")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("needs iproute2's ip to create network namespaces: %v", err)
	}
}

// addr returns host i's address.
func (l *netnsLAN) addr(i int) string { return fmt.Sprintf("10.77.0.%d", i+1) }

func (l *netnsLAN) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

func (l *netnsLAN) del(ns string) {
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		l.t.Errorf("ip netns del %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
}

// checkDeleted fails the test if a namespace of this LAN, or one of its
// links, is still there.
func (l *netnsLAN) checkDeleted() {
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
	names := []string{netnsIface, "br0"}
	for i := range l.hosts {
		names = append(names, fmt.Sprintf("h%d@", i+1))
	}
	for _, name := range names {
		if strings.Contains(string(out), ": "+name) {
			l.t.Errorf("link %s in the root namespace:\n%s", name, out)
		}
	}
}

// sweepStaleNetns deletes namespaces of earlier runs of these tests whose
// process is gone (killed before its cleanup ran).
func sweepStaleNetns(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	rx := regexp.MustCompile(`^` + regexp.QuoteMeta(netnsPrefix) + `(\d+)-\S+`)
	for _, line := range strings.Split(string(out), "\n") {
		m := rx.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue // its test is still running
		}
		if out, err := exec.Command("ip", "netns", "del", m[0]).CombinedOutput(); err != nil {
			t.Logf("stale namespace %s: ip netns del: %v: %s", m[0], err, out)
		} else {
			t.Logf("deleted stale namespace %s", m[0])
		}
	}
}

// nsProc is a process running in one of the LAN's namespaces, fed through
// its stdin and watched through the lines it prints.
type nsProc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  bytes.Buffer
	started time.Time
	exited  chan struct{} // closed when Wait returned
	waitErr error

	mu      sync.Mutex
	lines   []nsLine
	changed chan struct{} // capacity 1: a line arrived
	next    int           // lines before next were matched by waitLine
}

type nsLine struct {
	at   time.Duration // since the process started
	text string
}

// run starts "ip netns exec <host's namespace> argv..." with env added.
// t.Cleanup kills it if it is still running, before the namespaces go.
func (l *netnsLAN) run(host int, name string, env []string, argv ...string) *nsProc {
	l.t.Helper()
	p := &nsProc{t: l.t, name: name, exited: make(chan struct{}), changed: make(chan struct{}, 1)}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", l.hosts[host]}, argv...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
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
			p.lines = append(p.lines, nsLine{time.Since(p.started), sc.Text()})
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
		}
		p.waitErr = p.cmd.Wait() // after stdout is drained, as Wait wants
		close(p.exited)
	}()
	l.t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
		if l.t.Failed() {
			l.t.Logf("%s's output:\n%s\nstderr:\n%s", name, p.transcript(), p.stderr.String())
		}
	})
	return p
}

// transcript returns what the process printed so far.
func (p *nsProc) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		fmt.Fprintf(&b, "%6dms  %s\n", l.at.Milliseconds(), l.text)
	}
	return b.String()
}

// waitLine waits up to d for a line matching re after the lines already
// matched, and returns it with its submatches.
func (p *nsProc) waitLine(re string, d time.Duration) (nsLine, []string) {
	p.t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		exited := p.hasExited() // before the scan: then the scan saw every line
		p.mu.Lock()
		for i := p.next; i < len(p.lines); i++ {
			if m := rx.FindStringSubmatch(p.lines[i].text); m != nil {
				p.next = i + 1
				l := p.lines[i]
				p.mu.Unlock()
				return l, m
			}
		}
		p.mu.Unlock()
		if exited {
			p.t.Fatalf("%s exited (%v) without a line matching %q; output:\n%s\nstderr:\n%s", p.name, p.waitErr, re, p.transcript(), p.stderr.String())
		}
		select {
		case <-p.changed:
		case <-p.exited:
		case <-deadline.C:
			p.t.Fatalf("%s: no line matching %q within %v; output:\n%s", p.name, re, d, p.transcript())
		}
	}
}

func (p *nsProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// hasLine reports whether any line so far matches re.
func (p *nsProc) hasLine(re string) bool {
	rx := regexp.MustCompile("^" + re + "$")
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.lines, func(l nsLine) bool { return rx.MatchString(l.text) })
}

// waitAll waits up to d until count lines, among all printed so far
// (matched before or not), match re, and returns their submatches.
func (p *nsProc) waitAll(re string, count int, d time.Duration) [][]string {
	p.t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		exited := p.hasExited()
		var ms [][]string
		p.mu.Lock()
		for _, l := range p.lines {
			if m := rx.FindStringSubmatch(l.text); m != nil {
				ms = append(ms, append(m, strconv.FormatInt(l.at.Milliseconds(), 10)))
			}
		}
		p.mu.Unlock()
		if len(ms) >= count {
			return ms
		}
		if exited {
			p.t.Fatalf("%s exited (%v) with %d of %d lines matching %q; output:\n%s\nstderr:\n%s", p.name, p.waitErr, len(ms), count, re, p.transcript(), p.stderr.String())
		}
		select {
		case <-p.changed:
		case <-p.exited:
		case <-deadline.C:
			p.t.Fatalf("%s: %d of %d lines matching %q within %v; output:\n%s", p.name, len(ms), count, re, d, p.transcript())
		}
	}
}

// exit closes the process's stdin and waits up to d for it to exit
// successfully.
func (p *nsProc) exit(d time.Duration) {
	p.t.Helper()
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %v of the end of its input; output:\n%s", p.name, d, p.transcript())
	}
	if p.waitErr != nil {
		p.t.Fatalf("%s: %v; output:\n%s\nstderr:\n%s", p.name, p.waitErr, p.transcript(), p.stderr.String())
	}
}

// buildLobbychat builds this program into a temporary directory.
func buildLobbychat(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("needs the go command to build lobbychat: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lobbychat")
	if out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestNetnsChat runs four lobbychat processes, one per namespace: ann, bob
// and carol find each other and form the mesh, chat to everyone and to one
// peer, list the peers; carol locks, and dave, arriving, meets ann and bob
// but not carol until she unlocks; ann quits and everyone is told.
func TestNetnsChat(t *testing.T) {
	skipWithoutNetns(t)
	bin := buildLobbychat(t)
	l := newNetnsLAN(t, 4)
	names := []string{"ann", "bob", "carol", "dave"}
	ps := map[string]*nsProc{}
	startPeer := func(i int, extra ...string) {
		ps[names[i]] = l.run(i, names[i], nil, append([]string{bin, "-name", names[i], "-iface", netnsIface}, extra...)...)
	}
	say := func(who, line string) {
		t.Helper()
		if _, err := io.WriteString(ps[who].stdin, line+"\n"); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
	}
	id := `\(id ([0-9a-f]{8})\)`
	for i := range 3 {
		startPeer(i)
	}
	var mesh []time.Duration
	for _, me := range names[:3] {
		p := ps[me]
		p.waitLine(`\*\*\* you are `+me+` `+id+`, looking for "lobbychat" peers on veth0 \(sessions of up to 8\); /help lists the commands`, 10*time.Second)
		var joined []string
		var at time.Duration
		for range 2 {
			line, m := p.waitLine(`\*\*\* (\w+) joined `+id, 10*time.Second)
			joined, at = append(joined, m[1]), line.at
		}
		slices.Sort(joined)
		if want := slices.DeleteFunc(slices.Clone(names[:3]), func(n string) bool { return n == me }); !slices.Equal(joined, want) {
			t.Fatalf("%s saw %v join, want %v", me, joined, want)
		}
		mesh = append(mesh, at)
	}
	t.Logf("ann, bob, carol: mesh complete %v after each process started", mesh)

	say("ann", "hello from ann")
	for _, who := range []string{"ann", "bob", "carol"} {
		ps[who].waitLine(`ann: hello from ann`, 5*time.Second)
	}
	say("bob", "/to carol psst")
	ps["bob"].waitLine(`you \(to carol\): psst`, 5*time.Second)
	ps["carol"].waitLine(`bob \(to you\): psst`, 5*time.Second)
	say("carol", "/peers")
	ps["carol"].waitLine(`\*\*\* 2 peers, looking for more`, 5*time.Second)
	ps["carol"].waitLine(`\*\*\*   carol +[0-9a-f]{8}  you(, host)?`, 5*time.Second)
	ps["carol"].waitAll(`\*\*\*   (ann|bob) +[0-9a-f]{8}  rtt [0-9.]+[µm]?s(, host)?`, 2, 5*time.Second)
	hosts := 0
	for _, re := range []string{`\*\*\*   carol .* you, host`, `\*\*\*   (ann|bob) .*, host`} {
		if ps["carol"].hasLine(re) {
			hosts++
		}
	}
	if hosts != 1 {
		t.Errorf("carol's /peers shows %d hosts, want 1:\n%s", hosts, ps["carol"].transcript())
	}

	// carol locks her seats: dave meets ann and bob, not carol.
	say("carol", "/lock")
	ps["carol"].waitLine(`\*\*\* locked: not looking for peers; the 2 in the session stay`, 5*time.Second)
	startPeer(3, "-events")
	dave := ps["dave"]
	dave.waitAll(`\d+ joined [0-9a-f]{8} "(ann|bob)" ""`, 2, 10*time.Second)
	ps["ann"].waitLine(`\*\*\* dave joined `+id, 5*time.Second)
	ps["bob"].waitLine(`\*\*\* dave joined `+id, 5*time.Second)
	time.Sleep(1500 * time.Millisecond) // three polls
	if dave.hasLine(`\d+ joined [0-9a-f]{8} "carol" ""`) || ps["carol"].hasLine(`\*\*\* dave joined .*`) {
		t.Fatalf("dave met carol while she was locked:\n%s\n%s", dave.transcript(), ps["carol"].transcript())
	}
	say("carol", "/unlock")
	ps["carol"].waitLine(`\*\*\* unlocked: looking for peers`, 5*time.Second)
	ps["carol"].waitLine(`\*\*\* dave joined `+id, 10*time.Second)
	dave.waitLine(`\d+ joined [0-9a-f]{8} "carol" ""`, 10*time.Second)
	say("dave", "hi, I'm dave")
	dave.waitLine(`\d+ said [0-9a-f]{8} "dave" "hi, I'm dave"`, 5*time.Second)
	for _, who := range []string{"ann", "bob", "carol"} {
		ps[who].waitLine(`dave: hi, I'm dave`, 5*time.Second)
	}

	// ann quits: everyone is told at once.
	say("ann", "/quit")
	ps["ann"].exit(5 * time.Second)
	for _, who := range []string{"bob", "carol"} {
		ps[who].waitLine(`\*\*\* ann left `+id+`: .*`, 3*time.Second)
	}
	dave.waitLine(`\d+ left [0-9a-f]{8} "ann" ".*"`, 3*time.Second)
	if ps["ann"].hasLine(`.*psst.*`) {
		t.Error("ann saw bob's line to carol")
	}
	for _, who := range []string{"bob", "carol", "dave"} {
		ps[who].exit(5 * time.Second)
	}
	for _, who := range names {
		ps[who].waitLine(`(\*\*\* you left the session|\d+ bye .*)`, time.Second)
		t.Logf("%s (namespace %s):\n%s", who, l.hosts[slices.Index(names, who)], ps[who].transcript())
	}
}
