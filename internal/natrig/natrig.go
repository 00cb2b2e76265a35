package natrig

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// NAT is the behaviour of a home network's router.
type NAT int

const (
	// Cone is endpoint-independent mapping with address-and-port-dependent
	// filtering (RFC 4787; "port-restricted cone" in RFC 3489's words):
	// plain nftables masquerade, which keeps a flow's source port when it
	// is free, so one local socket has one public address:port toward
	// every destination, and a stateful rule that drops anything arriving
	// on the public leg that is not a reply to a flow the home started.
	Cone NAT = iota
	// Symmetric is endpoint-dependent mapping (masquerade fully-random:
	// every new destination address:port gets a new random public port)
	// with the same filtering as Cone.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case Cone:
		return "cone"
	case Symmetric:
		return "symmetric"
	}
	return fmt.Sprintf("NAT(%d)", int(n))
}

// Iface is the interface of each public and home host (inside its
// namespace).
const Iface = "veth0"

// Router interface names, inside a router's namespace.
const (
	WAN = "wan" // the public leg (a veth to the public bridge)
	LAN = "lan" // the private leg (a bridge the home's hosts plug into)
)

// Config says what to build.
type Config struct {
	// Homes lists one home network per entry, by the NAT of its router.
	Homes []NAT
	// HostsPerHome is the number of hosts in each home. Default 1.
	HostsPerHome int
	// PublicHosts is the number of hosts on the public segment. Default 1.
	PublicHosts int
}

// Rig is a set of network namespaces: a public segment with hosts and
// routers, and home networks behind those routers. It is made by New and
// deleted by the test's cleanup. Its methods may be called from the test's
// goroutine only (they use t.Fatal).
type Rig struct {
	t       *testing.T
	prefix  string
	cfg     Config
	pub     string   // the public bridge's namespace
	publics []string // public hosts' namespaces
	routers []string
	homes   [][]string // homes[h][i]: host i of home h
}

var seq atomic.Int64

// New builds the rig; t.Cleanup deletes every namespace (and with them
// every veth, bridge and nftables table) and checks that nothing is left,
// whether the test passes, fails or panics. Without root, iproute2 or nft
// it skips the test, saying why. It blocks while ip and nft run.
func New(t *testing.T, prefix string, cfg Config) *Rig {
	t.Helper()
	Skip(t)
	if cfg.HostsPerHome <= 0 {
		cfg.HostsPerHome = 1
	}
	if cfg.PublicHosts <= 0 {
		cfg.PublicHosts = 1
	}
	if len(cfg.Homes) > 9 || cfg.HostsPerHome > 9 || cfg.PublicHosts > 9 {
		t.Fatalf("natrig: at most 9 homes, 9 hosts per home and 9 public hosts (%+v)", cfg)
	}
	netnstest.SweepStale(t, prefix)
	r := &Rig{t: t, cfg: cfg, prefix: fmt.Sprintf("%s%d-%d-", prefix, os.Getpid(), seq.Add(1))}
	t.Cleanup(r.checkDeleted) // registered first: runs last
	r.pub = r.prefix + "pub"
	if out, err := exec.Command("ip", "netns", "add", r.pub).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (ip netns add: %v: %s); nothing was sent", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { r.del(r.pub) })
	r.noIPv6(r.pub)
	r.ip("-n", r.pub, "link", "add", "br0", "type", "bridge")
	r.ip("-n", r.pub, "link", "set", "br0", "up")

	for i := range cfg.PublicHosts {
		ns := fmt.Sprintf("%ss%d", r.prefix, i+1)
		r.addNS(ns)
		r.publics = append(r.publics, ns)
		port := fmt.Sprintf("s%d", i+1)
		r.ip("link", "add", Iface, "netns", ns, "type", "veth", "peer", "name", port, "netns", r.pub)
		r.ip("-n", r.pub, "link", "set", port, "master", "br0")
		r.ip("-n", r.pub, "link", "set", port, "up")
		r.ip("-n", ns, "addr", "add", r.PublicAddr(i).String()+"/24", "dev", Iface)
		r.ip("-n", ns, "link", "set", Iface, "up")
		r.sinkRoute(ns, Iface)
	}

	for h, nat := range cfg.Homes {
		rt := fmt.Sprintf("%sr%d", r.prefix, h+1)
		r.addNS(rt)
		r.routers = append(r.routers, rt)
		port := fmt.Sprintf("r%d", h+1)
		r.ip("link", "add", WAN, "netns", rt, "type", "veth", "peer", "name", port, "netns", r.pub)
		r.ip("-n", r.pub, "link", "set", port, "master", "br0")
		r.ip("-n", r.pub, "link", "set", port, "up")
		r.ip("-n", rt, "addr", "add", r.RouterAddr(h).String()+"/24", "dev", WAN)
		r.ip("-n", rt, "link", "set", WAN, "up")
		r.sinkRoute(rt, WAN)
		r.ip("-n", rt, "link", "add", LAN, "type", "bridge")
		r.ip("-n", rt, "addr", "add", r.Gateway(h).String()+"/24", "dev", LAN)
		r.ip("-n", rt, "link", "set", LAN, "up")
		r.ip("netns", "exec", rt, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		r.nft(rt, ruleset(nat))

		var hosts []string
		for i := range cfg.HostsPerHome {
			ns := fmt.Sprintf("%sr%dh%d", r.prefix, h+1, i+1)
			r.addNS(ns)
			hosts = append(hosts, ns)
			port := fmt.Sprintf("h%d", i+1)
			r.ip("link", "add", Iface, "netns", ns, "type", "veth", "peer", "name", port, "netns", rt)
			r.ip("-n", rt, "link", "set", port, "master", LAN)
			r.ip("-n", rt, "link", "set", port, "up")
			r.ip("-n", ns, "addr", "add", r.HostAddr(h, i).String()+"/24", "dev", Iface)
			r.ip("-n", ns, "link", "set", Iface, "up")
			r.ip("-n", ns, "route", "add", "default", "via", r.Gateway(h).String())
		}
		r.homes = append(r.homes, hosts)
	}
	return r
}

// sinkAddr is the public segment's "rest of the internet": a default
// route's next hop that nothing answers, with a permanent neighbour entry
// so that packets to it leave without ARP.
const sinkAddr = "203.0.113.254"

// sinkRoute gives namespace ns a default route to the sink on dev. Packets
// to addresses nobody on the rig has (a peer's private host candidate)
// are then lost on the wire, as on the internet, instead of failing at
// once with "network is unreachable" — an error coturn does not survive
// (it stops relaying that allocation).
func (r *Rig) sinkRoute(ns, dev string) {
	r.ip("-n", ns, "neigh", "add", sinkAddr, "lladdr", "02:00:00:00:00:fe", "dev", dev, "nud", "permanent")
	r.ip("-n", ns, "route", "add", "default", "via", sinkAddr, "dev", dev)
}

// ruleset is a router's nftables table: masquerade on the public leg, and
// nothing new in from it. The drop happens before conntrack confirms the
// flow, so an unsolicited packet (a peer's hole punch that arrives before
// ours left) leaves no conntrack entry that would later push our own
// mapping onto another port.
func ruleset(nat NAT) string {
	masq := "masquerade"
	if nat == Symmetric {
		masq = "masquerade fully-random"
	}
	return fmt.Sprintf(`table ip natrig {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname %[1]q %[2]s
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname %[1]q ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname %[1]q ct state new drop
	}
}
`, WAN, masq)
}

// Skip skips the test, saying why, where the rig cannot be built: not
// Linux, not root, no ip (iproute2) or no nft (nftables).
func Skip(t *testing.T) {
	t.Helper()
	netnstest.Skip(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skipf("needs nftables' nft for the NAT routers (Debian: apt-get install nftables): %v; nothing was sent", err)
	}
}

// PublicAddr returns public host i's address: 203.0.113.10+i (TEST-NET-3).
func (r *Rig) PublicAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i)})
}

// RouterAddr returns the public address of home h's router:
// 203.0.113.101+h. Everything a home sends out appears to come from it.
func (r *Rig) RouterAddr(h int) netip.Addr {
	return netip.AddrFrom4([4]byte{203, 0, 113, byte(101 + h)})
}

// Gateway returns the private address of home h's router: 192.168.h+1.1.
func (r *Rig) Gateway(h int) netip.Addr { return netip.AddrFrom4([4]byte{192, 168, byte(h + 1), 1}) }

// HostAddr returns the private address of host i of home h:
// 192.168.h+1.10+i.
func (r *Rig) HostAddr(h, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{192, 168, byte(h + 1), byte(10 + i)})
}

// NAT returns the NAT of home h's router.
func (r *Rig) NAT(h int) NAT { return r.cfg.Homes[h] }

// PublicNS returns public host i's namespace.
func (r *Rig) PublicNS(i int) string { return r.publics[i] }

// HomeNS returns the namespace of host i of home h.
func (r *Rig) HomeNS(h, i int) string { return r.homes[h][i] }

// RouterNS returns home h's router's namespace.
func (r *Rig) RouterNS(h int) string { return r.routers[h] }

// RunPublic starts argv inside public host i (see netnstest.RunIn); it
// is killed at cleanup if still running. It does not block.
func (r *Rig) RunPublic(i int, name string, env []string, argv ...string) *netnstest.Proc {
	r.t.Helper()
	return netnstest.RunIn(r.t, r.publics[i], name, env, argv...)
}

// RunHome starts argv inside host i of home h (see netnstest.RunIn); it
// is killed at cleanup if still running. It does not block.
func (r *Rig) RunHome(h, i int, name string, env []string, argv ...string) *netnstest.Proc {
	r.t.Helper()
	return netnstest.RunIn(r.t, r.homes[h][i], name, env, argv...)
}

// Ruleset returns home h's router's nftables ruleset with its counters,
// as nft lists it (for a failing test's log). It blocks while nft runs.
func (r *Rig) Ruleset(h int) string {
	out, err := exec.Command("ip", "netns", "exec", r.routers[h], "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("nft list ruleset: %v: %s", err, out)
	}
	return string(out)
}

func (r *Rig) addNS(ns string) {
	r.t.Helper()
	r.ip("netns", "add", ns)
	r.t.Cleanup(func() { r.del(ns) })
	r.noIPv6(ns)
	r.ip("-n", ns, "link", "set", "lo", "up")
}

// noIPv6 turns IPv6 off before any link exists there, so no link ever has
// a (tentative) link-local address.
func (r *Rig) noIPv6(ns string) {
	r.t.Helper()
	r.ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
}

func (r *Rig) ip(args ...string) {
	r.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		r.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

// nft loads a ruleset inside namespace ns (never the root namespace's).
func (r *Rig) nft(ns, rules string) {
	r.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("nft -f - in %s: %v: %s\nruleset:\n%s", ns, err, bytes.TrimSpace(out), rules)
	}
}

func (r *Rig) del(ns string) {
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		r.t.Errorf("ip netns del %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
}

// checkDeleted fails the test if a namespace of the rig, or one of its
// links, is still there, or if the root namespace has a table of ours.
func (r *Rig) checkDeleted() {
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		r.t.Errorf("ip netns list: %v: %s", err, out)
	}
	if strings.Contains(string(out), r.prefix) {
		r.t.Errorf("namespaces left behind:\n%s", out)
	}
	out, err = exec.Command("ip", "-o", "link", "show").CombinedOutput()
	if err != nil {
		r.t.Errorf("ip link show: %v: %s", err, out)
	}
	for _, name := range []string{WAN + "@", LAN + ":", Iface + "@", "br0:"} {
		if strings.Contains(string(out), ": "+name) {
			r.t.Errorf("link %s in the root namespace:\n%s", strings.TrimRight(name, "@:"), out)
		}
	}
	if out, err := exec.Command("nft", "list", "tables").CombinedOutput(); err == nil && strings.Contains(string(out), "natrig") {
		r.t.Errorf("an nftables table natrig in the root namespace:\n%s", out)
	}
}

// CheckInside returns an error unless the calling process runs in a rig
// host: its only interfaces must be lo and veth0, with one address of the
// rig (203.0.113.0/24 or 192.168.0.0/16). A test's helper process calls
// it first and refuses to send anything otherwise. It does not block.
func CheckInside() error {
	ifcs, err := net.Interfaces()
	if err != nil {
		return err
	}
	found := false
	for _, ifc := range ifcs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ifc.Name != Iface {
			return fmt.Errorf("natrig: interface %s: not inside a rig host", ifc.Name)
		}
		addrs, err := ifc.Addrs()
		if err != nil || len(addrs) != 1 {
			return fmt.Errorf("natrig: %s has addresses %v (%v): not inside a rig host", Iface, addrs, err)
		}
		p, err := netip.ParsePrefix(addrs[0].String())
		if err != nil || !(netip.MustParsePrefix("203.0.113.0/24").Contains(p.Addr()) || netip.MustParsePrefix("192.168.0.0/16").Contains(p.Addr())) {
			return fmt.Errorf("natrig: %s has address %s: not inside a rig host", Iface, addrs[0])
		}
		found = true
	}
	if !found {
		return fmt.Errorf("natrig: no %s: not inside a rig host", Iface)
	}
	return nil
}
