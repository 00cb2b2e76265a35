package discovery

// These tests drive the MDNS backend through its seams (query, newServer,
// ifaces) and never open a socket: the real backend multicasts, and
// multicast is allowed only inside network namespaces a test creates.

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
)

var (
	veth0 = &net.Interface{Index: 7, Name: "veth0", Flags: net.FlagUp | net.FlagRunning | net.FlagMulticast}
	veth1 = &net.Interface{Index: 8, Name: "veth1", Flags: net.FlagUp | net.FlagRunning | net.FlagMulticast}
)

func ipnet(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

// fakeIfaces makes MDNS see the given interfaces (with nil Interface) or
// only the selected one.
func fakeIfaces(infos ...ifaceInfo) func(*net.Interface) ([]ifaceInfo, error) {
	return func(sel *net.Interface) ([]ifaceInfo, error) {
		if sel == nil {
			return infos, nil
		}
		for _, in := range infos {
			if in.iface.Name == sel.Name {
				return []ifaceInfo{in}, nil
			}
		}
		return nil, ErrNoInterface
	}
}

var (
	v4Only    = describe(veth0, []net.Addr{ipnet("10.99.0.1/24")})
	dualStack = describe(veth0, []net.Addr{ipnet("10.99.0.1/24"), ipnet("fe80::1/64"), ipnet("fd00::1/64")})
	second    = describe(veth1, []net.Addr{ipnet("192.168.7.1/24")})
)

// fakeLAN answers queries the way hashicorp/mdns's Query behaves: entries
// are offered without blocking, then the call lasts its whole timeout,
// whatever the context does.
type fakeLAN struct {
	mu     sync.Mutex
	polls  map[string]int // per interface
	params []mdns.QueryParam
	answer func(poll int, p *mdns.QueryParam) ([]*mdns.ServiceEntry, error)
}

func (f *fakeLAN) query(ctx context.Context, p *mdns.QueryParam) error {
	f.mu.Lock()
	if f.polls == nil {
		f.polls = make(map[string]int)
	}
	f.polls[p.Interface.Name]++
	poll := f.polls[p.Interface.Name]
	f.params = append(f.params, *p)
	f.mu.Unlock()
	es, err := f.answer(poll, p)
	if err != nil {
		return err
	}
	for _, e := range es {
		select {
		case p.Entries <- e:
		default:
		}
	}
	time.Sleep(p.Timeout)
	return nil
}

func (f *fakeLAN) lastParams() []mdns.QueryParam {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.params)
}

// browseUntilReturn starts m.Browse; the caller defers stop, which cancels
// and waits for the channel to close, so that no query is left sleeping on
// the bubble's clock when the test returns (even through t.Fatal).
func browseUntilReturn(t *testing.T, m Backend, interval time.Duration) (<-chan []Record, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.Browse(ctx, testService, interval)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return ch, func() {
		cancel()
		for range ch {
		}
	}
}

func entryFor(t testing.TB, r Record) *mdns.ServiceEntry {
	txt, err := r.TXT()
	if err != nil {
		t.Fatal(err)
	}
	return fakeEntry(r.Instance, testService, r.Port, txt, r.Addrs[0])
}

func TestMDNSBrowseQueryParameters(t *testing.T) {
	for _, tc := range []struct {
		info         ifaceInfo
		v4, v6       bool
		wantInterval time.Duration
		interval     time.Duration
	}{
		{v4Only, true, false, time.Second, time.Second},
		{dualStack, true, true, DefaultInterval, 0},
		{v4Only, true, false, 500 * time.Millisecond, 500 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			lan := &fakeLAN{answer: func(int, *mdns.QueryParam) ([]*mdns.ServiceEntry, error) { return nil, nil }}
			m := &MDNS{Interface: veth0, query: lan.query, ifaces: fakeIfaces(tc.info, second)}
			ch, stop := browseUntilReturn(t, m, tc.interval)
			defer stop()
			time.Sleep(tc.wantInterval * 3 / 4)
			next(t, ch)
			ps := lan.lastParams()
			if len(ps) != 1 {
				t.Fatalf("%d queries in the first poll, want 1 (only the chosen interface)", len(ps))
			}
			p := ps[0]
			if p.Service != testService || p.Domain != "local" || p.Interface != veth0 {
				t.Errorf("query for %q in %q on %v", p.Service, p.Domain, p.Interface)
			}
			if p.Timeout <= 0 || p.Timeout >= tc.wantInterval {
				t.Errorf("timeout %v, want below the interval %v", p.Timeout, tc.wantInterval)
			}
			if cap(p.Entries) < 64 {
				t.Errorf("entries channel holds %d, want a buffer of at least 64", cap(p.Entries))
			}
			if p.DisableIPv4 != !tc.v4 || p.DisableIPv6 != !tc.v6 {
				t.Errorf("DisableIPv4 %v DisableIPv6 %v for %+v", p.DisableIPv4, p.DisableIPv6, tc.info)
			}
			if p.Logger == nil || p.Logger.Writer() != io.Discard {
				t.Errorf("logger %v is not silent", p.Logger)
			}
		})
	}
}

func TestMDNSBrowseForgetsAfterMissedPolls(t *testing.T) {
	for _, tc := range []struct{ missed, gonePoll int }{{0, 5}, {1, 3}, {3, 5}, {4, 6}} {
		synctest.Test(t, func(t *testing.T) {
			a := recA()
			lan := &fakeLAN{answer: func(poll int, _ *mdns.QueryParam) ([]*mdns.ServiceEntry, error) {
				if poll <= 2 {
					return []*mdns.ServiceEntry{entryFor(t, a)}, nil
				}
				return nil, nil
			}}
			m := &MDNS{Interface: veth0, MissedPolls: tc.missed, query: lan.query, ifaces: fakeIfaces(v4Only)}
			ch, stop := browseUntilReturn(t, m, time.Second)
			defer stop()
			// Poll n starts at n-1 s and ends 0.75 s later.
			time.Sleep(750 * time.Millisecond)
			if snap := next(t, ch); !slices.Equal(ids(snap), []string{idA}) {
				t.Fatalf("first snapshot %v", ids(snap))
			}
			time.Sleep(time.Duration(tc.gonePoll-1)*time.Second - time.Nanosecond)
			none(t, ch)
			time.Sleep(time.Nanosecond)
			if snap := next(t, ch); len(snap) != 0 {
				t.Fatalf("MissedPolls %d: still there after poll %d: %v", tc.missed, tc.gonePoll, ids(snap))
			}
		})
	}
}

func TestMDNSBrowseFiltersAndCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := recA(), recB()
		other := entryFor(t, b)
		other.Name = "bbbb._chat._udp.local."
		hostile := entryFor(t, b)
		hostile.InfoFields = append(hostile.InfoFields, "id="+idC)
		lan := &fakeLAN{answer: func(int, *mdns.QueryParam) ([]*mdns.ServiceEntry, error) {
			return []*mdns.ServiceEntry{other, hostile, entryFor(t, a)}, nil
		}}
		m := &MDNS{Interface: veth0, query: lan.query, ifaces: fakeIfaces(v4Only)}
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		time.Sleep(750 * time.Millisecond)
		want := a
		want.Addrs = want.Addrs[:1]
		if snap := next(t, ch); !equalRecords(snap, []Record{want}) {
			t.Fatalf("snapshot %+v, want %+v", snap, want)
		}
		if st := m.Stats(); st != (Stats{Polls: 1, Entries: 3, OtherService: 1, Invalid: 1}) {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestMDNSBrowseQueriesEveryInterfaceInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := recA()
		lan := &fakeLAN{answer: func(_ int, p *mdns.QueryParam) ([]*mdns.ServiceEntry, error) {
			r := a
			if p.Interface.Name == "veth1" {
				r.Addrs = addrs("192.168.7.20")
			}
			return []*mdns.ServiceEntry{entryFor(t, r)}, nil
		}}
		m := &MDNS{query: lan.query, ifaces: fakeIfaces(v4Only, second)}
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		time.Sleep(750 * time.Millisecond) // one query timeout, not two
		snap := next(t, ch)
		if len(snap) != 1 || !slices.Equal(snap[0].Addrs, addrs("10.0.0.1", "192.168.7.20")) {
			t.Fatalf("snapshot %+v, want one record with both interfaces' addresses", snap)
		}
		if ps := lan.lastParams(); len(ps) != 2 {
			t.Fatalf("%d queries, want one per interface", len(ps))
		}
	})
}

func TestMDNSBrowseFallsBackToIPv4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := recA()
		lan := &fakeLAN{answer: func(_ int, p *mdns.QueryParam) ([]*mdns.ServiceEntry, error) {
			if !p.DisableIPv6 {
				return nil, errors.New("sendto ff02::fb: network is unreachable")
			}
			return []*mdns.ServiceEntry{entryFor(t, a)}, nil
		}}
		m := &MDNS{Interface: veth0, query: lan.query, ifaces: fakeIfaces(dualStack)}
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		if snap := next(t, ch); len(snap) != 0 { // poll 1 failed at once
			t.Fatalf("poll 1: %v", ids(snap))
		}
		time.Sleep(1750 * time.Millisecond)
		if snap := next(t, ch); !slices.Equal(ids(snap), []string{idA}) {
			t.Fatalf("poll 2: %v, want A over IPv4", ids(snap))
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if st := m.Stats(); st.QueryErrors != 1 || st.Polls != 7 {
			t.Fatalf("stats %+v: want 1 query error in 7 polls", st)
		}
	})
}

func TestMDNSBrowseCancelWaitsForRunningQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{answer: func(int, *mdns.QueryParam) ([]*mdns.ServiceEntry, error) { return nil, nil }}
		m := &MDNS{Interface: veth0, query: lan.query, ifaces: fakeIfaces(v4Only)}
		ctx, cancel := context.WithCancel(t.Context())
		ch, err := m.Browse(ctx, testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		synctest.Wait()
		select {
		case _, ok := <-ch:
			t.Fatalf("channel readable (open=%v) while a query still runs", ok)
		default:
		}
		time.Sleep(650 * time.Millisecond)
		synctest.Wait()
		if _, ok := <-ch; ok {
			t.Fatal("snapshot after cancel")
		}
		if m.Stats().Polls != 0 {
			t.Fatal("a canceled poll was counted")
		}
	})
}

func TestMDNSBrowseNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	lan := &fakeLAN{answer: func(int, *mdns.QueryParam) ([]*mdns.ServiceEntry, error) {
		return []*mdns.ServiceEntry{entryFor(t, recA())}, nil
	}}
	m := &MDNS{query: lan.query, ifaces: fakeIfaces(v4Only, second)}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.Browse(ctx, testService, MinMDNSInterval)
	if err != nil {
		t.Fatal(err)
	}
	if snap := <-ch; len(snap) != 1 {
		t.Fatalf("snapshot %v", ids(snap))
	}
	cancel()
	for range ch {
	}
	waitGoroutines(t, before)
}

func TestMDNSBrowseValidates(t *testing.T) {
	m := &MDNS{query: func(context.Context, *mdns.QueryParam) error { return nil }, ifaces: fakeIfaces(v4Only)}
	for _, iv := range []time.Duration{-time.Second, time.Millisecond, MinMDNSInterval - 1} {
		if _, err := m.Browse(t.Context(), testService, iv); !errors.Is(err, ErrInvalidInterval) {
			t.Errorf("Browse with interval %v = %v, want ErrInvalidInterval", iv, err)
		}
	}
	if _, err := m.Browse(t.Context(), "_Bad._udp", time.Second); !errors.Is(err, ErrInvalidService) {
		t.Errorf("bad service: %v", err)
	}
	neg := &MDNS{MissedPolls: -1}
	if _, err := neg.Browse(t.Context(), testService, time.Second); !errors.Is(err, ErrInvalidInterval) {
		t.Errorf("MissedPolls -1: %v", err)
	}
}

// fakeServer stands in for *mdns.Server.
type fakeServer struct {
	cfg       *mdns.Config
	shutdowns int
}

func (s *fakeServer) Shutdown() error { s.shutdowns++; return nil }

type fakeResponders struct {
	servers []*fakeServer
	fail    map[string]bool // interface names whose responder fails
}

func (f *fakeResponders) newServer(c *mdns.Config) (responder, error) {
	if f.fail[c.Iface.Name] {
		return nil, errors.New("bind 5353: address in use")
	}
	s := &fakeServer{cfg: c}
	f.servers = append(f.servers, s)
	return s, nil
}

// resolve asks a zone what a browser asks (PTR for the service), packs and
// unpacks the answer with miekg/dns as it crosses the network, and builds
// the entry the way hashicorp/mdns's client does.
func resolve(t *testing.T, z mdns.Zone) *mdns.ServiceEntry {
	t.Helper()
	rrs := z.Records(dns.Question{Name: testService + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET})
	if len(rrs) == 0 {
		return nil
	}
	msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Compress: true, Answer: rrs}
	wire, err := msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var got dns.Msg
	if err := got.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	e := &mdns.ServiceEntry{}
	for _, rr := range got.Answer {
		switch rr := rr.(type) {
		case *dns.PTR:
			e.Name = rr.Ptr
		case *dns.SRV:
			e.Port, e.Host = int(rr.Port), rr.Target
		case *dns.TXT:
			e.InfoFields = rr.Txt
		case *dns.A:
			e.AddrV4 = rr.A // hashicorp keeps the last one
		case *dns.AAAA:
			e.AddrV6 = rr.AAAA
			e.AddrV6IPAddr = &net.IPAddr{IP: rr.AAAA, Zone: "veth0"}
		}
	}
	return e
}

func TestMDNSAdvertiseZoneRoundTrip(t *testing.T) {
	fr := &fakeResponders{}
	m := &MDNS{Interface: veth0, newServer: fr.newServer, ifaces: fakeIfaces(dualStack)}
	r := recA()
	r.Addrs = nil // the interface's addresses
	r.Name = `Zoë "the" \ 100%=`
	ad, err := m.Advertise(testService, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.servers) != 1 {
		t.Fatalf("%d responders, want 1", len(fr.servers))
	}
	cfg := fr.servers[0].cfg
	if cfg.Iface != veth0 || cfg.Logger == nil || cfg.Logger.Writer() != io.Discard {
		t.Fatalf("responder config: iface %v, logger %v", cfg.Iface, cfg.Logger)
	}
	e := resolve(t, cfg.Zone)
	if e.Host != "aaaa.local." {
		t.Errorf("host %q, want the instance's own host name", e.Host)
	}
	got, err := entryRecord(e, "."+testService+".local.")
	if err != nil {
		t.Fatalf("entry %+v: %v", e, err)
	}
	// A browser keeps the last A and AAAA: the global IPv6 comes last.
	want := r
	want.Addrs = addrs("10.99.0.1", "fd00::1")
	if !sameRecord(got, want) {
		t.Fatalf("browser sees %+v, want %+v", got, want)
	}

	r.Seats, r.Name = 0, "full"
	if err := ad.Update(r); err != nil {
		t.Fatal(err)
	}
	bad := r
	bad.Port = 0
	if err := ad.Update(bad); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Update with port 0 = %v", err)
	}
	if got, err := entryRecord(resolve(t, cfg.Zone), "."+testService+".local."); err != nil || got.Seats != 0 || got.Name != "full" {
		t.Fatalf("after Update: %+v, %v", got, err)
	}

	if err := ad.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ad.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := fr.servers[0].shutdowns; n != 1 {
		t.Fatalf("%d shutdowns, want 1", n)
	}
	if e := resolve(t, cfg.Zone); e != nil {
		t.Fatalf("stopped zone still answers: %+v", e)
	}
	if err := ad.Update(r); !errors.Is(err, ErrStopped) {
		t.Fatalf("Update after Stop = %v", err)
	}
}

func TestMDNSAdvertiseExplicitAddrs(t *testing.T) {
	fr := &fakeResponders{}
	m := &MDNS{newServer: fr.newServer, ifaces: fakeIfaces(v4Only, second)}
	r := recA()
	r.Addrs = addrs("2001:db8::5", "10.0.0.5", "fe80::5%veth0")
	ad, err := m.Advertise(testService, r)
	if err != nil {
		t.Fatal(err)
	}
	defer ad.Stop()
	if len(fr.servers) != 2 {
		t.Fatalf("%d responders, want one per interface", len(fr.servers))
	}
	for _, s := range fr.servers {
		svc := s.cfg.Zone.(*zone).svc.Load()
		var got []string
		for _, ip := range svc.IPs {
			got = append(got, ip.String())
		}
		if want := []string{"10.0.0.5", "fe80::5", "2001:db8::5"}; !slices.Equal(got, want) {
			t.Errorf("zone IPs %v, want %v (link-local before global)", got, want)
		}
	}
}

func TestMDNSAdvertiseSkipsFailingInterfaces(t *testing.T) {
	fr := &fakeResponders{fail: map[string]bool{"veth0": true}}
	m := &MDNS{newServer: fr.newServer, ifaces: fakeIfaces(v4Only, second)}
	ad, err := m.Advertise(testService, recA())
	if err != nil || len(fr.servers) != 1 || fr.servers[0].cfg.Iface != veth1 {
		t.Fatalf("Advertise = %v with %d responders; want veth1 only", err, len(fr.servers))
	}
	ad.Stop()
	fr = &fakeResponders{fail: map[string]bool{"veth0": true, "veth1": true}}
	m = &MDNS{newServer: fr.newServer, ifaces: fakeIfaces(v4Only, second)}
	if _, err := m.Advertise(testService, recA()); err == nil || !strings.Contains(err.Error(), "veth0") || !strings.HasPrefix(err.Error(), "discovery: ") {
		t.Fatalf("Advertise with every responder failing = %v", err)
	}
	m = &MDNS{newServer: fr.newServer, ifaces: fakeIfaces()}
	if _, err := m.Advertise(testService, recA()); !errors.Is(err, ErrNoInterface) {
		t.Fatalf("no interfaces: %v", err)
	}
	m = &MDNS{newServer: fr.newServer, ifaces: fakeIfaces(v4Only)}
	r := recA()
	r.Instance = "a.b"
	if _, err := m.Advertise(testService, r); !errors.Is(err, ErrInvalidRecord) || len(fr.servers) != 0 {
		t.Fatalf("bad instance: %v", err)
	}
}

func TestEligibleInterfaces(t *testing.T) {
	const ok = net.FlagUp | net.FlagRunning | net.FlagMulticast
	for _, tc := range []struct {
		f    net.Flags
		want bool
	}{
		{ok, true},
		{ok | net.FlagBroadcast, true},
		{ok &^ net.FlagUp, false},
		{ok &^ net.FlagRunning, false},
		{ok &^ net.FlagMulticast, false},
		{ok | net.FlagLoopback, false},
		{ok | net.FlagPointToPoint, false},
	} {
		if got := eligible(tc.f); got != tc.want {
			t.Errorf("eligible(%v) = %v", tc.f, got)
		}
	}
}

func TestDescribeInterface(t *testing.T) {
	info := describe(veth0, []net.Addr{
		ipnet("10.0.0.1/24"), ipnet("2001:db8::1/64"), ipnet("fe80::1/64"), ipnet("10.0.0.2/24"),
		&net.IPAddr{IP: net.ParseIP("fd00::2")}, ipnet("0.0.0.0/0"), ipnet("10.0.0.1/24"),
		&net.UDPAddr{IP: net.ParseIP("10.0.0.9")}, // not an interface address type
	})
	var got []string
	for _, ip := range info.ips {
		got = append(got, ip.String())
	}
	want := []string{"10.0.0.2", "10.0.0.1", "fe80::1", "2001:db8::1", "fd00::2"}
	if !slices.Equal(got, want) || !info.v4 || !info.v6 {
		t.Fatalf("describe: %v v4=%v v6=%v; want %v", got, info.v4, info.v6, want)
	}
	if info := describe(veth0, nil); len(info.ips) != 0 || info.v4 || info.v6 {
		t.Fatalf("no addresses: %+v", info)
	}
	if got := orderAddrs(addrs("fe80::1%eth0")); got[0].Zone() != "" {
		t.Fatalf("zone kept for the zone file: %v", got)
	}
}

// TestListInterfacesReadsOnly uses the real interface list (a read-only
// call, no traffic).
func TestListInterfacesReadsOnly(t *testing.T) {
	infos, err := listInterfaces(nil)
	if err != nil && !errors.Is(err, ErrNoInterface) {
		t.Fatal(err)
	}
	for _, in := range infos {
		if !eligible(in.iface.Flags) || len(in.ips) == 0 || (!in.v4 && !in.v6) {
			t.Errorf("listed %+v", in)
		}
	}
	if lo, err := net.InterfaceByName("lo"); err == nil {
		infos, err := listInterfaces(lo)
		if err != nil || len(infos) != 1 || !slices.ContainsFunc(infos[0].ips, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) {
			t.Errorf("explicit lo: %+v, %v", infos, err)
		}
	}
	if _, err := listInterfaces(&net.Interface{Index: 1 << 30, Name: "gone"}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("missing interface: %v", err)
	}
}
