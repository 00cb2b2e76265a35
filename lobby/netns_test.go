package lobby

// Real mDNS across hosts: every test here builds a small LAN of network
// namespaces (DESIGN §6), runs one process per namespace (this test binary,
// re-executed in a helper role), and deletes everything afterwards. No
// packet, multicast or not, reaches the machine's real interfaces: the
// namespaces' only links are veths to a bridge that lives in a namespace of
// its own. Without root (or without ip netns), the tests skip and say why.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// Environment of a re-executed test binary (TestNetnsHelperProcess).
const (
	netnsRoleEnv = "PUMPNET_LOBBY_NETNS_ROLE" // peer, server or browser
	netnsNameEnv = "PUMPNET_LOBBY_NETNS_NAME" // display name
	netnsWantEnv = "PUMPNET_LOBBY_NETNS_WANT" // peers that make the mesh complete
)

// netnsIface is each host's veth (inside its namespace).
const netnsIface = "veth0"

// netnsPrefix starts the name of every namespace these tests create; the
// PID of the test process follows, so leftovers of a killed run can be
// told from namespaces in use.
const netnsPrefix = "pumpnet-lobby-"

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

func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// helperEnv returns the environment that selects a helper role.
func helperEnv(role, name string, want int) []string {
	return []string{netnsRoleEnv + "=" + role, netnsNameEnv + "=" + name, fmt.Sprintf("%s=%d", netnsWantEnv, want)}
}

// atMS parses a millisecond count printed by a helper.
func atMS(t *testing.T, s string) time.Duration {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(n) * time.Millisecond
}

// TestNetnsSessionMesh runs one session peer per namespace, on real mDNS
// with the default poll interval: every peer must discover the others and
// complete the mesh within 2 s of joining, all must agree on the host,
// each peer's message must reach every other, and a peer that leaves must
// be removed everywhere at once (its connections are closed, not timed out).
func TestNetnsSessionMesh(t *testing.T) {
	const n = 3
	l := newNetnsLAN(t, n)
	exe := testExe(t)
	var ps []*nsProc
	for i := range n {
		name := fmt.Sprintf("p%d", i+1)
		ps = append(ps, l.run(i, name, helperEnv("peer", name, n-1), exe, "-test.run=^TestNetnsHelperProcess$"))
	}
	var firstAdded, meshAt []time.Duration
	var host string
	for i, p := range ps {
		added := p.waitAll(`netns: added (p\d) (\d+)`, n-1, 10*time.Second)
		var names []string
		first := time.Hour
		for _, m := range added {
			names = append(names, m[1])
			first = min(first, atMS(t, m[2]))
		}
		slices.Sort(names)
		if want := others(n, i); !slices.Equal(names, want) {
			t.Fatalf("%s added %v, want %v", p.name, names, want)
		}
		m := p.waitAll(`netns: mesh (\d+) host ([0-9a-f]{64})`, 1, 10*time.Second)[0]
		firstAdded, meshAt = append(firstAdded, first), append(meshAt, atMS(t, m[1]))
		if host == "" {
			host = m[2]
		} else if m[2] != host {
			t.Errorf("%s thinks the host is %.8s, another peer %.8s", p.name, m[2], host)
		}
	}
	for _, p := range ps {
		if p.hasLine(`netns: (refused|send error) .*`) {
			t.Errorf("%s was refused or could not send:\n%s", p.name, p.transcript())
		}
	}
	t.Logf("%d peers, one per namespace, default poll interval 500ms: first PeerAdded after %v, full mesh after %v (each peer, from its Join)",
		n, firstAdded, meshAt)
	if worst := slices.Max(meshAt); worst >= 2*time.Second {
		t.Errorf("full mesh after %v, want under 2s", worst)
	}
	for i, p := range ps {
		var from []string
		for _, m := range p.waitAll(`netns: chat (p\d) hello from (p\d)`, n-1, 5*time.Second) {
			if m[1] != m[2] {
				t.Errorf("%s: a message from %s says it is from %s", p.name, m[1], m[2])
			}
			from = append(from, m[1])
		}
		slices.Sort(from)
		if want := others(n, i); !slices.Equal(from, want) {
			t.Errorf("%s got messages from %v, want %v", p.name, from, want)
		}
	}

	// p1 leaves: the others remove it within a moment (the close reaches
	// them), not after the 10 s idle timeout.
	left := make([]time.Duration, n)
	for i, p := range ps {
		left[i] = time.Since(p.started)
	}
	ps[0].exit(5 * time.Second)
	var latency []time.Duration
	for i, p := range ps[1:] {
		m := p.waitAll(`netns: removed p1 (\d+) .*`, 1, 5*time.Second)[0]
		lat := atMS(t, m[len(m)-1]) - left[i+1]
		latency = append(latency, lat)
		if lat > 2*time.Second {
			t.Errorf("%s removed p1 %v after it left", p.name, lat)
		}
	}
	t.Logf("p1 left: removed by the others after %v", latency)
	for _, p := range ps[1:] {
		p.exit(5 * time.Second)
	}
}

// others returns the names p1..pn except the i-th (0-based).
func others(n, i int) []string {
	var names []string
	for j := range n {
		if j != i {
			names = append(names, fmt.Sprintf("p%d", j+1))
		}
	}
	return names
}

// TestNetnsHostedBrowse advertises an engine server in one namespace and
// browses for it from two others: both must find it (name, address, seats,
// fingerprint), connect with its ConnectString (which pins the
// fingerprint), see the players count the server advertises change, and
// see it disappear after it stops advertising.
func TestNetnsHostedBrowse(t *testing.T) {
	l := newNetnsLAN(t, 3)
	exe := testExe(t)
	srv := l.run(0, "server", helperEnv("server", "arena on h1", 0), exe, "-test.run=^TestNetnsHelperProcess$")
	_, m := srv.waitLine(`netns: server (dtls://(\S+)#([0-9a-f]{64}))`, 10*time.Second)
	connect, addr := m[1], m[2]
	if !strings.HasPrefix(addr, l.addr(0)+":") {
		t.Fatalf("server's connect string %s, want the address %s", connect, l.addr(0))
	}
	var bs []*nsProc
	for i := 1; i <= 2; i++ {
		bs = append(bs, l.run(i, fmt.Sprintf("browser%d", i), helperEnv("browser", "", 0), exe, "-test.run=^TestNetnsHelperProcess$"))
	}
	var found []time.Duration
	for _, b := range bs {
		_, m := b.waitLine(`netns: found (\d+) (\S+) seats=(\d+) name="(.*)"`, 10*time.Second)
		found = append(found, atMS(t, m[1]))
		if m[2] != connect || m[3] != "3" || m[4] != "arena on h1" {
			t.Errorf("%s found %q (seats %s, name %q), want %q (seats 3, name %q)", b.name, m[2], m[3], m[4], connect, "arena on h1")
		}
		b.waitLine(`netns: connected \d+`, 10*time.Second)
	}
	t.Logf("Browse found the server after %v (each browser, from its Browse)", found)
	for _, b := range bs {
		b.waitLine(`netns: players [12] \d+`, 10*time.Second)
	}
	srv.waitAll(`netns: client 10\.77\.0\.[23]:\d+`, 2, 5*time.Second)

	// The server stops advertising: browsers forget it after 3 missed
	// polls of 500ms.
	stop := time.Since(bs[0].started)
	srv.exit(5 * time.Second)
	_, m = bs[0].waitLine(`netns: gone (\d+)`, 10*time.Second)
	t.Logf("server gone from the list %v after it stopped advertising", atMS(t, m[1])-stop)
	bs[1].waitLine(`netns: gone \d+`, 10*time.Second)
	for _, b := range bs {
		b.exit(5 * time.Second)
	}
}

// TestNetnsHelperProcess is not a test: the netns tests re-execute this
// binary with it, inside one of their namespaces, in the role that
// netnsRoleEnv names. It prints lines "netns: <event> ...", with times in
// ms since it joined, advertised or browsed, and stops when its stdin
// ends.
func TestNetnsHelperProcess(t *testing.T) {
	role := os.Getenv(netnsRoleEnv)
	if role == "" {
		t.Skip("helper process of the netns tests: runs only inside their namespaces")
	}
	ifc := netnsOnlyInterface(t)
	quit := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(quit)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := os.Getenv(netnsNameEnv)
	switch role {
	case "peer":
		want, _ := strconv.Atoi(os.Getenv(netnsWantEnv))
		netnsPeer(ctx, t, ifc, name, want, quit)
	case "server":
		netnsServer(ctx, t, ifc, name, quit)
	case "browser":
		netnsBrowser(ctx, t, ifc, quit)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// netnsOnlyInterface returns the veth of the namespace the helper runs in,
// and refuses to go on anywhere else: the only interfaces must be lo and
// the veth, with an address of the test LAN.
func netnsOnlyInterface(t *testing.T) *net.Interface {
	ifcs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var veth *net.Interface
	for i := range ifcs {
		switch {
		case ifcs[i].Flags&net.FlagLoopback != 0:
		case ifcs[i].Name == netnsIface && veth == nil:
			veth = &ifcs[i]
		default:
			t.Fatalf("interface %s: not inside a test namespace; refusing to multicast", ifcs[i].Name)
		}
	}
	if veth == nil {
		t.Fatal("no " + netnsIface + ": not inside a test namespace")
	}
	addrs, err := veth.Addrs()
	if err != nil || len(addrs) == 0 || !strings.HasPrefix(addrs[0].String(), "10.77.0.") {
		t.Fatalf("%s has addresses %v, want 10.77.0.x: not inside a test namespace", netnsIface, addrs)
	}
	return veth
}

// netnsPeerLog prints a peer's session events.
type netnsPeerLog struct {
	s      *Session
	want   int
	start  time.Time
	meshed bool
}

func (l *netnsPeerLog) ms() int64 { return time.Since(l.start).Milliseconds() }

func (l *netnsPeerLog) PeerAdded(p *Peer) { fmt.Printf("netns: added %s %d\n", p.Name, l.ms()) }

// afterPump reports the complete mesh once, and says hello to everyone.
// (Not from PeerAdded: there, Host does not count the new peer yet.)
func (l *netnsPeerLog) afterPump() {
	if l.meshed || len(l.s.Peers()) < l.want {
		return
	}
	l.meshed = true
	fmt.Printf("netns: mesh %d host %s\n", l.ms(), l.s.Host())
	if err := l.s.Send(engine.Msg{"action": "chat", "text": "hello from " + l.s.Name()}); err != nil {
		fmt.Printf("netns: send error %v\n", err)
	}
}

func (l *netnsPeerLog) PeerRemoved(p *Peer, reason error) {
	fmt.Printf("netns: removed %s %d %v\n", p.Name, l.ms(), reason)
}

func (l *netnsPeerLog) PeerRefused(_ *Peer, reason error) { fmt.Printf("netns: refused %v\n", reason) }

func (l *netnsPeerLog) Network_chat(p *Peer, m engine.Msg) {
	fmt.Printf("netns: chat %s %v\n", p.Name, m["text"])
}

func netnsPeer(ctx context.Context, t *testing.T, ifc *net.Interface, name string, want int, quit <-chan struct{}) {
	start := time.Now()
	s, err := Join(ctx, Config{DisplayName: name, ServiceType: "netns-mesh", Interface: ifc})
	if err != nil {
		t.Fatal(err)
	}
	log := &netnsPeerLog{s: s, want: want, start: start}
	if err := s.Register(log); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case <-quit:
			s.Close()
			return
		case <-ctx.Done():
			s.Close()
			t.Fatal("still running after 30s")
		default:
		}
		s.PumpWait(ctx, 10*time.Millisecond)
		log.afterPump()
	}
}

func netnsServer(ctx context.Context, t *testing.T, ifc *net.Interface, name string, quit <-chan struct{}) {
	srv, err := engine.Listen(":0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ad, err := AdvertiseServer(srv, HostedConfig{Name: name, ServiceType: "netns-hosted", Seats: 3, Interface: ifc})
	if err != nil {
		t.Fatal(err)
	}
	defer ad.Close()
	srv.OnConnect(func(ch *engine.Channel) {
		fmt.Printf("netns: client %s\n", ch.Addr())
		if err := ad.Update(len(srv.Channels()), 3-len(srv.Channels())); err != nil {
			fmt.Printf("netns: update error %v\n", err)
		}
	})
	fmt.Printf("netns: server %s\n", srv.ConnectString())
	for {
		select {
		case <-quit:
			return
		case <-ctx.Done():
			t.Fatal("still running after 30s")
		default:
		}
		srv.PumpWait(ctx, 10*time.Millisecond)
	}
}

func netnsBrowser(ctx context.Context, t *testing.T, ifc *net.Interface, quit <-chan struct{}) {
	start := time.Now()
	ms := func() int64 { return time.Since(start).Milliseconds() }
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	list, err := Browse(bctx, "netns-hosted", BrowseOptions{Interface: ifc})
	if err != nil {
		t.Fatal(err)
	}
	// next returns the next list, until cond holds.
	next := func(cond func([]ServerInfo) bool) []ServerInfo {
		for servers := range list {
			if cond(servers) {
				return servers
			}
		}
		t.Fatal("browsing ended (30s)")
		return nil
	}
	found := next(func(s []ServerInfo) bool { return len(s) > 0 })[0]
	fmt.Printf("netns: found %d %s seats=%d name=%q\n", ms(), found.ConnectString(), found.Seats, found.Name)
	cl, err := engine.Connect(found.ConnectString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for !cl.Connected() && ctx.Err() == nil {
		cl.PumpWait(ctx, 10*time.Millisecond)
	}
	fmt.Printf("netns: connected %d\n", ms())
	info := next(func(s []ServerInfo) bool { return len(s) > 0 && s[0].Players > 0 })[0]
	fmt.Printf("netns: players %d %d\n", info.Players, ms())
	cl.Close()
	next(func(s []ServerInfo) bool { return len(s) == 0 })
	fmt.Printf("netns: gone %d\n", ms())
	<-quit
}
