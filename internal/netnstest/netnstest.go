// Package netnstest builds small LANs of Linux network namespaces for
// tests that must cross a real network (mDNS discovery, several hosts): one
// namespace holds a bridge, each host namespace a veth plugged into it, with
// addresses in 10.77.0.0/24, IPv6 off and 224.0.0.0/4 routed to the veth.
// Nothing appears in the root namespace; everything is deleted by
// t.Cleanup, and tests skip (saying why) without root or iproute2. Processes
// run inside a host with LAN.Run and are watched line by line.
package netnstest

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
	"syscall"
	"testing"
	"time"
)

// Iface is each host's veth (inside its namespace).
const Iface = "veth0"

var seq atomic.Int64

// LAN is a LAN of network namespaces: one namespace holding the
// bridge br0 and, for each host i, a namespace whose veth0 (10.77.0.i+1/24,
// IPv6 off, a 224.0.0.0/4 route) is plugged into br0.
type LAN struct {
	t      *testing.T
	prefix string
	bridge string
	hosts  []string
}

// New creates a LAN of n hosts; t.Cleanup deletes it, and checks
// that nothing is left, whether the test passes, fails or panics.
func New(t *testing.T, prefix string, n int) *LAN {
	t.Helper()
	Skip(t)
	SweepStale(t, prefix)
	l := &LAN{t: t, prefix: fmt.Sprintf("%s%d-%d-", prefix, os.Getpid(), seq.Add(1))}
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
		l.ip("link", "add", Iface, "netns", ns, "type", "veth", "peer", "name", port, "netns", l.bridge)
		l.ip("-n", l.bridge, "link", "set", port, "master", "br0")
		l.ip("-n", l.bridge, "link", "set", port, "up")
		l.ip("-n", ns, "addr", "add", fmt.Sprintf("%s/24", l.Addr(i)), "dev", Iface)
		l.ip("-n", ns, "link", "set", "lo", "up")
		l.ip("-n", ns, "link", "set", Iface, "up")
		l.ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", Iface)
	}
	return l
}

// Skip skips the test, saying why, where it cannot create
// network namespaces.
func Skip(t *testing.T) {
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

// Addr returns host i's address.
func (l *LAN) Addr(i int) string { return fmt.Sprintf("10.77.0.%d", i+1) }

func (l *LAN) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

func (l *LAN) del(ns string) {
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		l.t.Errorf("ip netns del %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
}

// checkDeleted fails the test if a namespace of this LAN, or one of its
// links, is still there.
func (l *LAN) checkDeleted() {
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
	names := []string{Iface, "br0"}
	for i := range l.hosts {
		names = append(names, fmt.Sprintf("h%d@", i+1))
	}
	for _, name := range names {
		if strings.Contains(string(out), ": "+name) {
			l.t.Errorf("link %s in the root namespace:\n%s", name, out)
		}
	}
}

// SweepStale deletes the namespaces named prefix<pid>-... of earlier
// test runs whose process is gone (killed before its cleanup ran). It
// blocks while ip runs.
func SweepStale(t *testing.T, prefix string) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	rx := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d+)-\S+`)
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

// Proc is a process running in one of the LAN's namespaces, fed through
// its stdin and watched through the lines it prints.
type Proc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  bytes.Buffer
	started time.Time
	exited  chan struct{} // closed when Wait returned
	waitErr error

	mu      sync.Mutex
	lines   []Line
	changed chan struct{} // capacity 1: a line arrived
	next    int           // lines before next were matched by waitLine
}

// Line is one line a Proc printed.
type Line struct {
	At   time.Duration // since the process started
	Text string
}

// Run starts "ip netns exec <host's namespace> argv..." with env added.
// t.Cleanup kills it if it is still running, before the namespaces go.
func (l *LAN) Run(host int, name string, env []string, argv ...string) *Proc {
	l.t.Helper()
	return RunIn(l.t, l.hosts[host], name, env, argv...)
}

// RunIn starts "ip netns exec ns argv..." with env added, for rigs of
// other shapes (internal/natrig) whose namespaces the test made itself.
// t.Cleanup kills it if it is still running; register the namespaces'
// deletion before calling RunIn, so that the process goes first. It does
// not block.
func RunIn(t *testing.T, ns, name string, env []string, argv ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, name: name, exited: make(chan struct{}), changed: make(chan struct{}, 1)}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	p.cmd.Env = append(os.Environ(), env...)
	// Its own process group, so that cleanup also ends what it started
	// (xvfb-run's X server and program, a shell's children).
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, Line{time.Since(p.started), sc.Text()})
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
		}
		p.waitErr = p.cmd.Wait() // after stdout is drained, as Wait wants
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s\nstderr:\n%s", name, p.Transcript(), p.stderr.String())
		}
	})
	return p
}

// Transcript returns what the process printed so far.
func (p *Proc) Transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		fmt.Fprintf(&b, "%6dms  %s\n", l.At.Milliseconds(), l.Text)
	}
	return b.String()
}

// WaitLine waits up to d for a line matching re after the lines already
// matched, and returns it with its submatches.
func (p *Proc) WaitLine(re string, d time.Duration) (Line, []string) {
	p.t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		exited := p.HasExited() // before the scan: then the scan saw every line
		p.mu.Lock()
		for i := p.next; i < len(p.lines); i++ {
			if m := rx.FindStringSubmatch(p.lines[i].Text); m != nil {
				p.next = i + 1
				l := p.lines[i]
				p.mu.Unlock()
				return l, m
			}
		}
		p.mu.Unlock()
		if exited {
			p.t.Fatalf("%s exited (%v) without a line matching %q; output:\n%s\nstderr:\n%s", p.name, p.waitErr, re, p.Transcript(), p.stderr.String())
		}
		select {
		case <-p.changed:
		case <-p.exited:
		case <-deadline.C:
			p.t.Fatalf("%s: no line matching %q within %v; output:\n%s", p.name, re, d, p.Transcript())
		}
	}
}

// HasExited reports whether the process has exited.
func (p *Proc) HasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// HasLine reports whether any line so far matches re.
func (p *Proc) HasLine(re string) bool {
	rx := regexp.MustCompile("^" + re + "$")
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.lines, func(l Line) bool { return rx.MatchString(l.Text) })
}

// WaitAll waits up to d until count lines, among all printed so far
// (matched before or not), match re, and returns their submatches.
func (p *Proc) WaitAll(re string, count int, d time.Duration) [][]string {
	p.t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		exited := p.HasExited()
		var ms [][]string
		p.mu.Lock()
		for _, l := range p.lines {
			if m := rx.FindStringSubmatch(l.Text); m != nil {
				ms = append(ms, append(m, strconv.FormatInt(l.At.Milliseconds(), 10)))
			}
		}
		p.mu.Unlock()
		if len(ms) >= count {
			return ms
		}
		if exited {
			p.t.Fatalf("%s exited (%v) with %d of %d lines matching %q; output:\n%s\nstderr:\n%s", p.name, p.waitErr, len(ms), count, re, p.Transcript(), p.stderr.String())
		}
		select {
		case <-p.changed:
		case <-p.exited:
		case <-deadline.C:
			p.t.Fatalf("%s: %d of %d lines matching %q within %v; output:\n%s", p.name, len(ms), count, re, d, p.Transcript())
		}
	}
}

// Exit closes the process's stdin and waits up to d for it to exit
// successfully.
func (p *Proc) Exit(d time.Duration) {
	p.t.Helper()
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %v of the end of its input; output:\n%s", p.name, d, p.Transcript())
	}
	if p.waitErr != nil {
		p.t.Fatalf("%s: %v; output:\n%s\nstderr:\n%s", p.name, p.waitErr, p.Transcript(), p.stderr.String())
	}
}

// Wait waits up to d for the process to exit by itself (unlike Exit, it
// leaves stdin open) and returns how it ended: nil, or the error of
// exec.Cmd.Wait — for one ended by Signal(syscall.SIGKILL), "signal:
// killed". The test fails if the process is still running after d.
func (p *Proc) Wait(d time.Duration) error {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(d):
		p.t.Fatalf("%s still running %v later (hung?); output:\n%s", p.name, d, p.Transcript())
		return nil
	}
}

// Name returns the name the process was started with.
func (p *Proc) Name() string { return p.name }

// Started returns when the process was started.
func (p *Proc) Started() time.Time { return p.started }

// Stdin returns the process's standard input.
func (p *Proc) Stdin() io.Writer { return p.stdin }

// Signal sends sig to the process (ip netns exec passes it on).
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Host returns the namespace of host i.
func (l *LAN) Host(i int) string { return l.hosts[i] }

// Build builds the main package in the current directory (a test's own
// command) into a temporary directory as name and returns the binary's
// path. Without a go command it skips the test, saying why.
func Build(t *testing.T, name string) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("needs the go command to build %s: %v", name, err)
	}
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}
