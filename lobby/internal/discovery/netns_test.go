//go:build linux

package discovery

// Real mDNS next to a real Avahi: these tests build a LAN of network
// namespaces (internal/netnstest), run avahi-daemon (each with its own
// D-Bus daemon, configuration, services directory and /run, in a private
// mount namespace) and pumpnet peers (this test binary, re-executed in a
// helper role) in them, and delete everything afterwards. No packet
// reaches the machine's real interfaces. Without root, ip netns,
// avahi-daemon, avahi-browse or dbus-daemon, they skip and say why.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// Environment of a re-executed test binary (TestNetnsDiscoveryHelper).
const (
	netnsRoleEnv     = "PUMPNET_DISCOVERY_NETNS_ROLE"     // peer or wire
	netnsInstanceEnv = "PUMPNET_DISCOVERY_NETNS_INSTANCE" // the peer's instance label
	netnsIDEnv       = "PUMPNET_DISCOVERY_NETNS_ID"       // the peer's ID
	netnsPeersEnv    = "PUMPNET_DISCOVERY_NETNS_PEERS"    // wire: the pumpnet peers' addresses
)

// netnsServiceType is the service type every party of these tests uses.
const netnsServiceType = "netns-avahi"

// avahiID is the ID of the i-th Avahi service; pumpnetID of the i-th peer.
func avahiID(i int) string   { return fmt.Sprintf("%064x", 0xa0000+i) }
func pumpnetID(i int) string { return fmt.Sprintf("%064x", 0xb0000+i) }

// needAvahi skips the test, saying why, where Avahi cannot run.
func needAvahi(t *testing.T) {
	t.Helper()
	netnstest.Skip(t)
	for _, cmd := range []string{"avahi-daemon", "avahi-browse", "dbus-daemon", "unshare", "mount"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("needs %s (Debian packages avahi-daemon avahi-utils dbus util-linux): %v", cmd, err)
		}
	}
	if out, err := exec.Command("unshare", "-m", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot create a mount namespace for avahi-daemon's own /run and services (unshare -m: %v: %s); nothing was sent", err, out)
	}
}

// startAvahi runs a D-Bus system bus and an avahi-daemon in host's
// namespace, publishing one static service per name in services (instance
// label av<i>, port 4000+i, a valid pumpnet TXT with avahiID(i)). The daemon
// runs in a private mount namespace where its services directory and /run
// are its own; it talks only on the veth, IPv4 only. It returns the bus
// address and waits until every service is established.
func startAvahi(t *testing.T, l *netnstest.LAN, host int, services []int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pumpnet-avahi-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	svcDir := filepath.Join(dir, "services")
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bus := filepath.Join(dir, "bus")
	write(filepath.Join(dir, "bus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=`+bus+`</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
`)
	write(filepath.Join(dir, "avahi-daemon.conf"), fmt.Sprintf(`[server]
host-name=avahi-h%d
use-ipv4=yes
use-ipv6=no
allow-interfaces=%s
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`, host+1, netnstest.Iface))
	write(filepath.Join(svcDir, "README"), "static services of one test avahi-daemon\n")
	for _, i := range services {
		write(filepath.Join(svcDir, fmt.Sprintf("av%d.service", i)), fmt.Sprintf(`<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>av%d</name>
  <service>
    <type>_%s._udp</type>
    <port>%d</port>
    <txt-record>id=%s</txt-record>
    <txt-record>v=1</txt-record>
    <txt-record>s=3</txt-record>
    <txt-record>n=avahi%%20service%%20%d</txt-record>
  </service>
</service-group>
`, i, netnsServiceType, 4000+i, avahiID(i), i))
	}
	dbusd := l.Run(host, fmt.Sprintf("dbus-h%d", host+1), nil, "sh", "-c",
		`dbus-daemon --config-file="$1" --nofork --nopidfile --print-address 2>&1`, "sh", filepath.Join(dir, "bus.conf"))
	t.Cleanup(func() { dbusd.Signal(syscall.SIGTERM) })
	dbusd.WaitLine(`unix:path=.*`, 10*time.Second)
	env := []string{"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + bus}
	avahi := l.Run(host, fmt.Sprintf("avahi-h%d", host+1), env, "unshare", "-m", "sh", "-c",
		`mount --make-rprivate / && mount --bind "$1" /etc/avahi/services && mount -t tmpfs tmpfs /run && exec avahi-daemon --file="$2" --no-chroot --no-drop-root --no-rlimits --no-proc-title 2>&1`,
		"sh", svcDir, filepath.Join(dir, "avahi-daemon.conf"))
	t.Cleanup(func() { avahi.Signal(syscall.SIGTERM) })
	avahi.WaitLine(`Server startup complete\..*`, 10*time.Second)
	avahi.WaitAll(`Service "av\d+" .* successfully established\.`, len(services), 10*time.Second)
	return env[0]
}

// TestNetnsAvahiNeighbours runs pumpnet peers on a LAN where two Avahi
// daemons publish ten well-formed services of the same type (one of them
// in the same namespace as a pumpnet peer, sharing port 5353): every peer
// must see every peer and every Avahi service, and keep seeing them, with
// no snapshot missing any, for 24 polls; avahi-browse in another namespace
// must resolve every peer.
func TestNetnsAvahiNeighbours(t *testing.T) {
	needAvahi(t)
	const peers, services = 3, 10
	l := netnstest.New(t, "pumpnet-disc-", 5)
	startAvahi(t, l, 0, []int{0, 1, 2, 3, 4})
	startAvahi(t, l, 1, []int{5, 6, 7, 8, 9})
	browserBus := startAvahi(t, l, 4, nil)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range services {
		want = append(want, fmt.Sprintf("av%d", i))
	}
	var ps []*netnstest.Proc
	for i, host := range []int{0, 2, 3} { // p1 shares h1 with an avahi-daemon
		inst := fmt.Sprintf("p%d", i+1)
		want = append(want, inst)
		env := []string{netnsRoleEnv + "=peer", netnsInstanceEnv + "=" + inst, netnsIDEnv + "=" + pumpnetID(i)}
		ps = append(ps, l.Run(host, inst, env, exe, "-test.run=^TestNetnsDiscoveryHelper$"))
	}
	slices.Sort(want)
	browse := l.Run(4, "avahi-browse", []string{browserBus}, "avahi-browse", "-r", "-p", "-k", "_"+netnsServiceType+"._udp")

	// Every peer has everyone within 10 s.
	full := make([]time.Duration, len(ps))
	for i, p := range ps {
		m := p.WaitAll(`snap (\d+) `+regexpQuote(strings.Join(want, ",")), 1, 10*time.Second)[0]
		full[i] = atMS(t, m[1])
	}
	// Then 24 polls of 500 ms: no snapshot may lose anyone, until the
	// peers are told to stop (one that stops says goodbye, and the others
	// rightly forget it).
	time.Sleep(12 * time.Second)
	stopAt := make([]time.Duration, len(ps))
	for i, p := range ps {
		stopAt[i] = time.Since(p.Started())
	}
	for i, p := range ps {
		p.Exit(10 * time.Second)
		var flaps []string
		var polls string
		for _, m := range p.WaitAll(`snap (\d+) (.*)`, 1, time.Second) {
			if at := atMS(t, m[1]); at > full[i] && at < stopAt[i] && m[2] != strings.Join(want, ",") {
				flaps = append(flaps, fmt.Sprintf("%vms: %s", m[1], m[2]))
			}
		}
		if ms := p.WaitAll(`stats (.*)`, 1, time.Second); len(ms) > 0 {
			polls = ms[0][1]
		}
		t.Logf("%s: all %d records after %v, none lost until %v; stats %s", p.Name(), len(want), full[i], stopAt[i], polls)
		if len(flaps) > 0 {
			t.Errorf("%s lost records after it had all %d (%d snapshots):\n%s", p.Name(), len(want), len(flaps), strings.Join(flaps, "\n"))
		}
	}
	// avahi-browse resolves every pumpnet peer: its instance, its address,
	// its port and its TXT.
	for i, host := range []int{0, 2, 3} {
		re := fmt.Sprintf(`=;%s;IPv4;p%d;_%s\._udp;local;p%d\.local;%s;(\d+);.*"id=%s".*`,
			netnstest.Iface, i+1, netnsServiceType, i+1, regexpQuote(l.Addr(host)), pumpnetID(i))
		browse.WaitAll(re, 1, 10*time.Second)
	}
}

// regexpQuote quotes s for a netnstest pattern.
func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func atMS(t *testing.T, s string) time.Duration {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(n) * time.Millisecond
}

// TestNetnsResponderWire checks the responder's packets as they cross the
// LAN: a query from port 5353 draws a multicast answer with IP TTL 255,
// the PTR in the Answer section (shared: no cache-flush bit) and SRV, TXT
// and A in the Additional section with the cache-flush bit; a legacy query
// (from another port) draws a unicast answer to that port with the query's
// ID and question, TTLs of at most 10 s and no cache-flush bits (RFC 6762
// §6.7, §10.2, §11).
func TestNetnsResponderWire(t *testing.T) {
	netnstest.Skip(t)
	l := netnstest.New(t, "pumpnet-disc-", 3)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var ps []*netnstest.Proc
	var addrs []string
	for i := range 2 {
		inst := fmt.Sprintf("p%d", i+1)
		env := []string{netnsRoleEnv + "=peer", netnsInstanceEnv + "=" + inst, netnsIDEnv + "=" + pumpnetID(i)}
		ps = append(ps, l.Run(i, inst, env, exe, "-test.run=^TestNetnsDiscoveryHelper$"))
		addrs = append(addrs, l.Addr(i))
	}
	for _, p := range ps {
		p.WaitLine(`snap \d+ p1,p2`, 10*time.Second)
	}
	wire := l.Run(2, "wire", []string{netnsRoleEnv + "=wire", netnsPeersEnv + "=" + strings.Join(addrs, ",")}, exe, "-test.run=^TestNetnsDiscoveryHelper$", "-test.v")
	if err := wire.Wait(20 * time.Second); err != nil {
		t.Fatalf("wire checks failed: %v\n%s", err, wire.Transcript())
	}
	t.Logf("wire checks:\n%s", wire.Transcript())
	for _, p := range ps {
		p.Exit(10 * time.Second)
	}
}

// TestNetnsDiscoveryHelper is not a test: the netns tests re-execute this
// binary with it, inside one of their namespaces, in the role netnsRoleEnv
// names.
func TestNetnsDiscoveryHelper(t *testing.T) {
	role := os.Getenv(netnsRoleEnv)
	if role == "" {
		t.Skip("helper process of the netns tests: runs only inside their namespaces")
	}
	ifc := netnsOnlyInterface(t)
	switch role {
	case "peer":
		netnsPeer(t, ifc)
	case "wire":
		netnsWire(t, ifc)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// netnsOnlyInterface returns the veth of the namespace the helper runs in
// and refuses to go on anywhere else.
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
	as, err := veth.Addrs()
	if err != nil || len(as) == 0 || !strings.HasPrefix(as[0].String(), "10.77.0.") {
		t.Fatalf("%s has addresses %v, want 10.77.0.x: not inside a test namespace", netnstest.Iface, as)
	}
	return veth
}

// netnsPeer advertises a record and browses as a lobby does (500 ms, the
// default missed polls), printing every snapshot as "snap <ms> <instances>"
// and, when its stdin ends, "stats ...".
func netnsPeer(t *testing.T, ifc *net.Interface) {
	service, err := ServiceName(netnsServiceType)
	if err != nil {
		t.Fatal(err)
	}
	m := &MDNS{Interface: ifc}
	r := Record{Instance: os.Getenv(netnsInstanceEnv), Port: 5000, ID: os.Getenv(netnsIDEnv), Version: 1, Seats: 2, Name: "peer " + os.Getenv(netnsInstanceEnv)}
	ad, err := m.Advertise(context.Background(), service, r)
	if err != nil {
		t.Fatal(err)
	}
	defer ad.Stop()
	quit := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(quit)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	ch, err := m.Browse(ctx, service, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case snap, ok := <-ch:
			if !ok {
				t.Fatal("browsing ended (60s)")
			}
			var names []string
			for _, r := range snap {
				names = append(names, r.Instance)
			}
			slices.Sort(names)
			fmt.Printf("snap %d %s\n", time.Since(start).Milliseconds(), strings.Join(names, ","))
		case <-quit:
			cancel()
			for range ch {
			}
			fmt.Printf("stats %+v\n", m.Stats())
			return
		}
	}
}

// netnsWire queries the pumpnet peers (netnsPeersEnv) as a standard
// client would and checks their answers (see TestNetnsResponderWire).
func netnsWire(t *testing.T, ifc *net.Interface) {
	var peers []netip.Addr
	for _, s := range strings.Split(os.Getenv(netnsPeersEnv), ",") {
		peers = append(peers, netip.MustParseAddr(s))
	}
	service := "_" + netnsServiceType + "._udp.local."

	// A query from port 5353, as Avahi and Bonjour send them.
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:5353")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p := ipv4.NewPacketConn(pc)
	if err := p.JoinGroup(ifc, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetMulticastInterface(ifc); err != nil {
		t.Fatal(err)
	}
	if err := p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst, true); err != nil {
		t.Fatal(err)
	}
	q := new(dns.Msg)
	q.SetQuestion(service, dns.TypePTR)
	q.Id, q.RecursionDesired = 0, false
	wire, _ := q.Pack()
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	seen := map[netip.Addr]bool{}
	buf := make([]byte, 9000)
	deadline := time.Now().Add(5 * time.Second)
	for len(seen) < len(peers) && time.Now().Before(deadline) {
		if _, err := p.WriteTo(wire, nil, group); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(1200 * time.Millisecond))
		for {
			n, cm, src, err := p.ReadFrom(buf)
			if err != nil {
				break
			}
			from := netip.MustParseAddr(src.(*net.UDPAddr).IP.String())
			if !slices.Contains(peers, from) || seen[from] {
				continue
			}
			var msg dns.Msg
			if msg.Unpack(buf[:n]) != nil || !msg.Response || len(msg.Answer) == 0 {
				continue
			}
			seen[from] = true
			checkMulticastAnswer(t, from, cm, &msg, service)
		}
	}
	if len(seen) < len(peers) {
		t.Fatalf("multicast answers from %v of %v", seen, peers)
	}

	// A legacy unicast query, from an ephemeral port.
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	q.Id = 0x4242
	wire, _ = q.Pack()
	seen = map[netip.Addr]bool{}
	deadline = time.Now().Add(5 * time.Second)
	for len(seen) < len(peers) && time.Now().Before(deadline) {
		if _, err := uc.WriteToUDP(wire, group); err != nil {
			t.Fatal(err)
		}
		uc.SetReadDeadline(time.Now().Add(1200 * time.Millisecond))
		for {
			n, src, err := uc.ReadFromUDP(buf)
			if err != nil {
				break
			}
			from := netip.MustParseAddr(src.IP.String())
			if !slices.Contains(peers, from) || seen[from] {
				continue
			}
			var msg dns.Msg
			if err := msg.Unpack(buf[:n]); err != nil {
				t.Errorf("legacy answer from %v: %v", from, err)
				continue
			}
			seen[from] = true
			checkLegacyAnswer(t, from, src.Port, &msg, service)
		}
	}
	if len(seen) < len(peers) {
		t.Fatalf("legacy unicast answers from %v of %v", seen, peers)
	}
}

func checkMulticastAnswer(t *testing.T, from netip.Addr, cm *ipv4.ControlMessage, msg *dns.Msg, service string) {
	t.Helper()
	fmt.Printf("multicast answer from %v: dst %v ttl %v, %d answers, %d additional\n", from, cm.Dst, cm.TTL, len(msg.Answer), len(msg.Extra))
	if !cm.Dst.Equal(net.IPv4(224, 0, 0, 251)) {
		t.Errorf("%v answered a port-5353 query to %v, want multicast 224.0.0.251", from, cm.Dst)
	}
	if cm.TTL != 255 {
		t.Errorf("%v answered with IP TTL %d, want 255", from, cm.TTL)
	}
	if msg.Id != 0 || len(msg.Question) != 0 || !msg.Authoritative {
		t.Errorf("%v: multicast answer with ID %d, %d questions, AA %v", from, msg.Id, len(msg.Question), msg.Authoritative)
	}
	var ptrTarget string
	for _, rr := range msg.Answer {
		if ptr, ok := rr.(*dns.PTR); ok && strings.EqualFold(ptr.Hdr.Name, service) {
			ptrTarget = ptr.Ptr
			if ptr.Hdr.Class != dns.ClassINET {
				t.Errorf("%v: PTR class %#x, want IN without cache-flush (shared record)", from, ptr.Hdr.Class)
			}
		}
	}
	if ptrTarget == "" {
		t.Errorf("%v: no PTR for %s in the Answer section: %v", from, service, msg.Answer)
		return
	}
	// SRV, TXT and A travel with the PTR: in the Additional section, or in
	// the Answer section when the same response answers them too (another
	// querier asked for them, or it is an announcement); RFC 6762 §12 does
	// not repeat an answer in Additional.
	kinds := map[uint16]bool{}
	for _, rr := range append(slices.Clone(msg.Answer), msg.Extra...) {
		h := rr.Header()
		switch h.Rrtype {
		case dns.TypeSRV, dns.TypeTXT, dns.TypeA:
			kinds[h.Rrtype] = true
			if h.Class != dns.ClassINET|1<<15 {
				t.Errorf("%v: %s with class %#x, want IN with the cache-flush bit", from, dns.TypeToString[h.Rrtype], h.Class)
			}
		}
	}
	for _, k := range []uint16{dns.TypeSRV, dns.TypeTXT, dns.TypeA} {
		if !kinds[k] {
			t.Errorf("%v: no %s with a PTR answer (Answer %v, Additional %v)", from, dns.TypeToString[k], msg.Answer, msg.Extra)
		}
	}
}

func checkLegacyAnswer(t *testing.T, from netip.Addr, port int, msg *dns.Msg, service string) {
	t.Helper()
	fmt.Printf("legacy answer from %v:%d: id %#x, %d questions, %d answers, %d additional\n", from, port, msg.Id, len(msg.Question), len(msg.Answer), len(msg.Extra))
	if port != 5353 {
		t.Errorf("legacy answer from %v came from port %d, want 5353", from, port)
	}
	if msg.Id != 0x4242 || !msg.Response {
		t.Errorf("%v: legacy answer with ID %#x (response %v), want the query's 0x4242", from, msg.Id, msg.Response)
	}
	if len(msg.Question) != 1 || !strings.EqualFold(msg.Question[0].Name, service) || msg.Question[0].Qtype != dns.TypePTR {
		t.Errorf("%v: legacy answer repeats question %v, want the query's", from, msg.Question)
	}
	if len(msg.Answer) == 0 {
		t.Errorf("%v: empty legacy answer", from)
	}
	for _, rr := range append(slices.Clone(msg.Answer), msg.Extra...) {
		h := rr.Header()
		if h.Class&(1<<15) != 0 {
			t.Errorf("%v: legacy answer %s has the cache-flush bit", from, dns.TypeToString[h.Rrtype])
		}
		if h.Ttl > 10 {
			t.Errorf("%v: legacy answer %s with TTL %d, want at most 10", from, dns.TypeToString[h.Rrtype], h.Ttl)
		}
	}
}

// reusePort sets SO_REUSEADDR and SO_REUSEPORT, as Avahi does, to share
// port 5353.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); serr != nil {
			return
		}
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
