package lobby

// Real mDNS across hosts: every test here builds a small LAN of network
// namespaces (DESIGN §6), runs one process per namespace (this test binary,
// re-executed in a helper role), and deletes everything afterwards. No
// packet, multicast or not, reaches the machine's real interfaces: the
// namespaces' only links are veths to a bridge that lives in a namespace of
// its own. Without root (or without ip netns), the tests skip and say why.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"

	"github.com/pumpnet/pumpnet/engine"
)

// Environment of a re-executed test binary (TestNetnsHelperProcess).
const (
	netnsRoleEnv = "PUMPNET_LOBBY_NETNS_ROLE" // peer, server or browser
	netnsNameEnv = "PUMPNET_LOBBY_NETNS_NAME" // display name
	netnsWantEnv = "PUMPNET_LOBBY_NETNS_WANT" // peers that make the mesh complete
)

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
	l := netnstest.New(t, "pumpnet-lobby-", n)
	exe := testExe(t)
	var ps []*netnstest.Proc
	for i := range n {
		name := fmt.Sprintf("p%d", i+1)
		ps = append(ps, l.Run(i, name, helperEnv("peer", name, n-1), exe, "-test.run=^TestNetnsHelperProcess$"))
	}
	var firstAdded, meshAt []time.Duration
	var host string
	for i, p := range ps {
		added := p.WaitAll(`netns: added (p\d) (\d+)`, n-1, 10*time.Second)
		var names []string
		first := time.Hour
		for _, m := range added {
			names = append(names, m[1])
			first = min(first, atMS(t, m[2]))
		}
		slices.Sort(names)
		if want := others(n, i); !slices.Equal(names, want) {
			t.Fatalf("%s added %v, want %v", p.Name(), names, want)
		}
		m := p.WaitAll(`netns: mesh (\d+) host ([0-9a-f]{64})`, 1, 10*time.Second)[0]
		firstAdded, meshAt = append(firstAdded, first), append(meshAt, atMS(t, m[1]))
		if host == "" {
			host = m[2]
		} else if m[2] != host {
			t.Errorf("%s thinks the host is %.8s, another peer %.8s", p.Name(), m[2], host)
		}
	}
	for _, p := range ps {
		if p.HasLine(`netns: (refused|send error) .*`) {
			t.Errorf("%s was refused or could not send:\n%s", p.Name(), p.Transcript())
		}
	}
	t.Logf("%d peers, one per namespace, default poll interval 500ms: first PeerAdded after %v, full mesh after %v (each peer, from its Join)",
		n, firstAdded, meshAt)
	if worst := slices.Max(meshAt); worst >= 2*time.Second {
		t.Errorf("full mesh after %v, want under 2s", worst)
	}
	for i, p := range ps {
		var from []string
		for _, m := range p.WaitAll(`netns: chat (p\d) hello from (p\d)`, n-1, 5*time.Second) {
			if m[1] != m[2] {
				t.Errorf("%s: a message from %s says it is from %s", p.Name(), m[1], m[2])
			}
			from = append(from, m[1])
		}
		slices.Sort(from)
		if want := others(n, i); !slices.Equal(from, want) {
			t.Errorf("%s got messages from %v, want %v", p.Name(), from, want)
		}
	}

	// p1 leaves: the others remove it within a moment (the close reaches
	// them), not after the 10 s idle timeout.
	left := make([]time.Duration, n)
	for i, p := range ps {
		left[i] = time.Since(p.Started())
	}
	ps[0].Exit(5 * time.Second)
	var latency []time.Duration
	for i, p := range ps[1:] {
		m := p.WaitAll(`netns: removed p1 (\d+) .*`, 1, 5*time.Second)[0]
		lat := atMS(t, m[len(m)-1]) - left[i+1]
		latency = append(latency, lat)
		if lat > 2*time.Second {
			t.Errorf("%s removed p1 %v after it left", p.Name(), lat)
		}
	}
	t.Logf("p1 left: removed by the others after %v", latency)
	for _, p := range ps[1:] {
		p.Exit(5 * time.Second)
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
	l := netnstest.New(t, "pumpnet-lobby-", 3)
	exe := testExe(t)
	srv := l.Run(0, "server", helperEnv("server", "arena on h1", 0), exe, "-test.run=^TestNetnsHelperProcess$")
	_, m := srv.WaitLine(`netns: server (dtls://(\S+)#([0-9a-f]{64}))`, 10*time.Second)
	connect, addr := m[1], m[2]
	if !strings.HasPrefix(addr, l.Addr(0)+":") {
		t.Fatalf("server's connect string %s, want the address %s", connect, l.Addr(0))
	}
	var bs []*netnstest.Proc
	for i := 1; i <= 2; i++ {
		bs = append(bs, l.Run(i, fmt.Sprintf("browser%d", i), helperEnv("browser", "", 0), exe, "-test.run=^TestNetnsHelperProcess$"))
	}
	// Each browser connects as soon as it has found the server, so the
	// later one may see a seat taken already (responders multicast a
	// record at most once a second, so two browsers starting together may
	// find the server up to a second apart); the first sees all 3.
	var found []time.Duration
	var seats []string
	for _, b := range bs {
		_, m := b.WaitLine(`netns: found (\d+) (\S+) seats=(\d+) name="(.*)"`, 10*time.Second)
		found = append(found, atMS(t, m[1]))
		seats = append(seats, m[3])
		if m[2] != connect || (m[3] != "3" && m[3] != "2") || m[4] != "arena on h1" {
			t.Errorf("%s found %q (seats %s, name %q), want %q (seats 3, or 2 after the other connected; name %q)", b.Name(), m[2], m[3], m[4], connect, "arena on h1")
		}
	}
	if !slices.Contains(seats, "3") {
		t.Errorf("seats seen %v: no browser saw the 3 seats advertised before anyone connected", seats)
	}
	for _, b := range bs {
		b.WaitLine(`netns: connected \d+`, 10*time.Second)
	}
	t.Logf("Browse found the server after %v (each browser, from its Browse)", found)
	for _, b := range bs {
		b.WaitLine(`netns: players [12] \d+`, 10*time.Second)
	}
	srv.WaitAll(`netns: client 10\.77\.0\.[23]:\d+`, 2, 5*time.Second)

	// The server stops advertising: browsers forget it after 3 missed
	// polls of 500ms.
	stop := time.Since(bs[0].Started())
	srv.Exit(5 * time.Second)
	_, m = bs[0].WaitLine(`netns: gone (\d+)`, 10*time.Second)
	t.Logf("server gone from the list %v after it stopped advertising", atMS(t, m[1])-stop)
	bs[1].WaitLine(`netns: gone \d+`, 10*time.Second)
	for _, b := range bs {
		b.Exit(5 * time.Second)
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
		case ifcs[i].Name == netnstest.Iface && veth == nil:
			veth = &ifcs[i]
		default:
			t.Fatalf("interface %s: not inside a test namespace; refusing to multicast", ifcs[i].Name)
		}
	}
	if veth == nil {
		t.Fatal("no " + netnstest.Iface + ": not inside a test namespace")
	}
	addrs, err := veth.Addrs()
	if err != nil || len(addrs) == 0 || !strings.HasPrefix(addrs[0].String(), "10.77.0.") {
		t.Fatalf("%s has addresses %v, want 10.77.0.x: not inside a test namespace", netnstest.Iface, addrs)
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
	srv.OnConnect(func(p *engine.Peer) {
		fmt.Printf("netns: client %s\n", p.Addr())
		if err := ad.Update(len(srv.Peers()), 3-len(srv.Peers())); err != nil {
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
