package main

// The -lan end-to-end test: a chat server and two clients, real processes,
// one per network namespace, on real mDNS. The namespaces' only links are
// veths to a bridge in a namespace of its own; the test creates and
// deletes them all (DESIGN §6). Without root (or ip netns), it skips and
// says why.
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
const netnsPrefix = "pumpnet-chat-"

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

// TestNetnsLAN runs "chat -serve :31425 -lan" in one namespace and
// "chat -lan" clients in two others: each client finds the server on its
// own, connects with the advertised connect string (the fingerprint is
// verified), sees the players count the server advertises, and chats.
func TestNetnsLAN(t *testing.T) {
	skipWithoutNetns(t)
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("needs the go command to build chat: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "chat")
	if out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l := newNetnsLAN(t, 3)
	srv := l.run(0, "server", nil, bin, "-serve", ":31425", "-lan", "-iface", netnsIface)
	_, m := srv.waitLine(`chat: connect string (dtls://10\.77\.0\.1:31425#[0-9a-f]{64})`, 10*time.Second)
	connect := m[1]
	srv.waitLine(`chat: advertised on the LAN as "chat on .*"; or join with: go run ./examples/chat -lan -nick NAME`, 5*time.Second)

	found := `\*\*\* found "chat on .*" \((\d+) players?\) at (\S+)`
	ann := l.run(1, "ann", nil, bin, "-lan", "-iface", netnsIface, "-nick", "ann")
	ann.waitLine(`\*\*\* looking for a chat server on the LAN\.\.\.`, 5*time.Second)
	line, m := ann.waitLine(found, 10*time.Second)
	if m[1] != "0" || m[2] != connect {
		t.Fatalf("ann found %q, want %s with 0 players", line.text, connect)
	}
	t.Logf("ann found the server %v after she started", line.at)
	ann.waitLine(`\*\*\* connected to 10\.77\.0\.1:31425`, 5*time.Second)
	ann.waitLine(`\*\*\* players: ann`, 5*time.Second)

	// bob browses after ann joined: the server advertises 1 player.
	bob := l.run(2, "bob", nil, bin, "-lan", "-iface", netnsIface, "-nick", "bob")
	if _, m := bob.waitLine(found, 10*time.Second); m[1] != "1" || m[2] != connect {
		t.Fatalf("bob found %q players at %s, want 1 at %s", m[1], m[2], connect)
	}
	for _, c := range []*nsProc{ann, bob} {
		c.waitLine(`\*\*\* players: ann, bob`, 5*time.Second)
	}
	io.WriteString(ann.stdin, "hello over the LAN\n")
	io.WriteString(bob.stdin, "hi ann\n")
	for _, c := range []*nsProc{ann, bob} {
		c.waitAll(`(ann: hello over the LAN|bob: hi ann)`, 2, 5*time.Second)
	}
	ann.exit(5 * time.Second)
	bob.waitLine(`\*\*\* players: bob`, 5*time.Second)
	bob.exit(5 * time.Second)
	srv.waitLine(`- 10\.77\.0\.3:\d+ \(bob\) left: .*`, 5*time.Second)
	if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	srv.waitLine(`chat: server stopped`, 5*time.Second)
	srv.exit(5 * time.Second)
	if srv.hasLine(`! .*`) {
		t.Errorf("the server reported errors:\n%s", srv.transcript())
	}
	for _, p := range []*nsProc{srv, ann, bob} {
		t.Logf("%s:\n%s", p.name, p.transcript())
	}
}
