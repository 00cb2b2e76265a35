package discovery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/mdns"
)

const testService = "_lightcycle._udp"

// entry builds a fake hashicorp/mdns entry as its client delivers them:
// Name is the instance's full name, AddrV4/AddrV6IPAddr the last A/AAAA.
func entry(name string, port int, txt []string, v4, v6 string) *mdns.ServiceEntry {
	e := &mdns.ServiceEntry{Name: name, Port: port, InfoFields: txt, Info: strings.Join(txt, "|")}
	if v4 != "" {
		e.AddrV4 = net.ParseIP(v4).To4()
	}
	if v6 != "" {
		ip, zone, _ := strings.Cut(v6, "%")
		e.AddrV6 = net.ParseIP(ip)
		e.AddrV6IPAddr = &net.IPAddr{IP: e.AddrV6, Zone: zone}
	}
	return e
}

// txtOf returns the TXT of a record with the given ID and seats.
func txtOf(t testing.TB, id string, seats int) []string {
	t.Helper()
	txt, err := Record{ID: id, Version: 1, Seats: seats, Name: "n-" + id[:4]}.TXT()
	if err != nil {
		t.Fatal(err)
	}
	return txt
}

func name(instance string) string { return instance + "." + testService + ".local." }

func ids(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestTrackerFiltersOtherServices(t *testing.T) {
	tr := newTracker(testService, 3)
	txt := txtOf(t, idA, 2)
	entries := []*mdns.ServiceEntry{
		entry("printer._ipp._tcp.local.", 631, []string{"rp=queue"}, "10.0.0.9", ""),
		entry("a._chat._udp.local.", 9, txt, "10.0.0.8", ""),
		entry("a._lightcycle._tcp.local.", 9, txt, "10.0.0.7", ""),
		entry("a._lightcycle._udp.local.evil.", 9, txt, "10.0.0.6", ""),
		entry("a._xlightcycle._udp.local.", 9, txt, "10.0.0.5", ""),
		entry(testService+".local.", 9, txt, "10.0.0.4", ""), // no instance label
		entry("host.local.", 9, txt, "10.0.0.3", ""),
		nil,
		entry("ok."+testService+".local.", 31425, txt, "10.0.0.2", ""),
	}
	snap, changed, c := tr.observe(1, entries)
	if !changed || len(snap) != 1 || snap[0].Instance != "ok" || snap[0].Port != 31425 ||
		!slices.Equal(snap[0].Addrs, addrs("10.0.0.2")) || snap[0].ID != idA || snap[0].Seats != 2 || snap[0].Name != "n-0123" {
		t.Fatalf("snapshot = %+v, changed %v; want only instance ok", snap, changed)
	}
	want := pollCounts{entries: 9, other: 7, invalid: 1} // nil is invalid
	if c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
}

func TestTrackerMatchesServiceCaseInsensitively(t *testing.T) {
	tr := newTracker(testService, 3)
	snap, _, _ := tr.observe(1, []*mdns.ServiceEntry{
		entry("Ann._LightCycle._UDP.LOCAL.", 5, txtOf(t, idA, 1), "10.0.0.2", ""),
	})
	if len(snap) != 1 || snap[0].Instance != "Ann" {
		t.Fatalf("snapshot = %+v, want instance Ann", snap)
	}
}

func TestTrackerDropsInvalidEntries(t *testing.T) {
	txt := txtOf(t, idA, 1)
	for _, tc := range []struct {
		what string
		e    *mdns.ServiceEntry
	}{
		{"bad TXT", entry(name("a"), 5, []string{"id=" + idA}, "10.0.0.2", "")},
		{"hostile TXT", entry(name("a"), 5, append(slices.Clone(txt), `n=\000`), "10.0.0.2", "")},
		{"port 0", entry(name("a"), 0, txt, "10.0.0.2", "")},
		{"port too big", entry(name("a"), 70000, txt, "10.0.0.2", "")},
		{"negative port", entry(name("a"), -1, txt, "10.0.0.2", "")},
		{"no address", entry(name("a"), 5, txt, "", "")},
		{"unspecified", entry(name("a"), 5, txt, "0.0.0.0", "::")},
		{"multicast", entry(name("a"), 5, txt, "224.0.0.251", "ff02::fb")},
		{"broadcast", entry(name("a"), 5, txt, "255.255.255.255", "")},
		{"escaped dot in instance", entry(`a\.b.`+testService+".local.", 5, txt, "10.0.0.2", "")},
		{"dot in instance", entry("a.b."+testService+".local.", 5, txt, "10.0.0.2", "")},
		{"long instance", entry(name(strings.Repeat("i", 64)), 5, txt, "10.0.0.2", "")},
		{"malformed IP", &mdns.ServiceEntry{Name: name("a"), Port: 5, InfoFields: txt, AddrV4: net.IP{1, 2, 3}}},
	} {
		tr := newTracker(testService, 3)
		snap, _, c := tr.observe(1, []*mdns.ServiceEntry{tc.e})
		if len(snap) != 0 || c.invalid != 1 {
			t.Errorf("%s: snapshot %+v, counts %+v; want it dropped as invalid", tc.what, snap, c)
		}
	}
}

func TestTrackerMergesAddresses(t *testing.T) {
	txt := txtOf(t, idA, 1)
	entries := []*mdns.ServiceEntry{
		entry(name("a"), 5, txt, "192.168.1.20", "fe80::1%eth0"),
		entry(name("a"), 5, txt, "10.0.0.2", "2001:db8::1"),
		entry(name("a"), 5, txt, "192.168.1.20", ""), // duplicate
		// Same ID from another instance/port: not merged (it sorts later).
		entry(name("b"), 6, txt, "10.9.9.9", ""),
		entry(name("c"), 5, txtOf(t, idB, 4), "10.0.0.3", ""),
		// v4-mapped IPv6 is unmapped.
		{Name: name("a"), Port: 5, InfoFields: txt, AddrV6: net.ParseIP("::ffff:10.0.0.4")},
	}
	want := []Record{
		{Instance: "a", Port: 5, ID: idA, Version: 1, Seats: 1, Name: "n-0123",
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.4"), netip.MustParseAddr("192.168.1.20"),
				netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1").WithZone("eth0")}},
		{Instance: "c", Port: 5, ID: idB, Version: 1, Seats: 4, Name: "n-fedc", Addrs: addrs("10.0.0.3")},
	}
	// The result must not depend on the order of answers.
	for i := 0; i < 20; i++ {
		perm := slices.Clone(entries)
		for j := range perm {
			k := (j*7 + i*3) % len(perm)
			perm[j], perm[k] = perm[k], perm[j]
		}
		snap, _, _ := newTracker(testService, 3).observe(1, perm)
		if !equalRecords(snap, want) {
			t.Fatalf("order %d: snapshot\n %+v\nwant\n %+v", i, snap, want)
		}
	}
}

func TestTrackerDisappearsAfterMissedPolls(t *testing.T) {
	a := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	b := entry(name("b"), 5, txtOf(t, idB, 1), "10.0.0.3", "")
	for _, missed := range []int{1, 2, 3, 5} {
		tr := newTracker(testService, missed)
		tr.observe(1, []*mdns.ServiceEntry{a, b})
		for poll := uint64(2); poll <= uint64(missed)+1; poll++ {
			snap, changed, _ := tr.observe(poll, []*mdns.ServiceEntry{b})
			gone := poll-1 >= uint64(missed)
			if gone != !slices.Contains(ids(snap), idA) || changed != gone {
				t.Fatalf("missed=%d poll %d: snapshot %v changed %v; want a gone=%v", missed, poll, ids(snap), changed, gone)
			}
		}
		// Seen again: back at once.
		if snap, changed, _ := tr.observe(uint64(missed)+2, []*mdns.ServiceEntry{a, b}); len(snap) != 2 || !changed {
			t.Fatalf("missed=%d: a not back: %v", missed, ids(snap))
		}
	}
}

func TestTrackerMissCountIsConsecutive(t *testing.T) {
	a := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	tr := newTracker(testService, 3)
	// Seen every other poll: never missed 3 times in a row.
	for poll := uint64(1); poll <= 20; poll++ {
		var es []*mdns.ServiceEntry
		if poll%3 == 1 {
			es = append(es, a)
		}
		if snap, _, _ := tr.observe(poll, es); len(snap) != 1 {
			t.Fatalf("poll %d: record dropped after %d misses", poll, (poll-1)%3)
		}
	}
}

func TestTrackerForgetsStaleAddresses(t *testing.T) {
	txt := txtOf(t, idA, 1)
	tr := newTracker(testService, 3)
	tr.observe(1, []*mdns.ServiceEntry{entry(name("a"), 5, txt, "10.0.0.1", "")})
	for poll := uint64(2); poll <= 4; poll++ {
		snap, changed, _ := tr.observe(poll, []*mdns.ServiceEntry{entry(name("a"), 5, txt, "10.0.0.2", "")})
		want := addrs("10.0.0.1", "10.0.0.2")
		if poll == 4 {
			want = addrs("10.0.0.2")
		}
		if len(snap) != 1 || !slices.Equal(snap[0].Addrs, want) || changed != (poll != 3) {
			t.Fatalf("poll %d: %+v changed %v; want addrs %v", poll, snap, changed, want)
		}
	}
	// A restart on another port forgets the old addresses at once.
	snap, _, _ := tr.observe(5, []*mdns.ServiceEntry{entry(name("a"), 6, txt, "10.0.0.3", "")})
	if len(snap) != 1 || snap[0].Port != 6 || !slices.Equal(snap[0].Addrs, addrs("10.0.0.3")) {
		t.Fatalf("after restart: %+v", snap)
	}
}

func TestTrackerPublishesChangesOnly(t *testing.T) {
	tr := newTracker(testService, 3)
	a1 := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	a2 := entry(name("a"), 5, txtOf(t, idA, 2), "10.0.0.2", "")
	b := entry(name("b"), 5, txtOf(t, idB, 1), "10.0.0.3", "")
	steps := []struct {
		entries []*mdns.ServiceEntry
		changed bool
		ids     []string
	}{
		{nil, true, nil}, // the first snapshot is always published, even empty
		{nil, false, nil},
		{[]*mdns.ServiceEntry{a1}, true, []string{idA}},
		{[]*mdns.ServiceEntry{a1}, false, []string{idA}},
		{[]*mdns.ServiceEntry{a1, a1}, false, []string{idA}},
		{[]*mdns.ServiceEntry{a2}, true, []string{idA}}, // seats changed
		{[]*mdns.ServiceEntry{b, a2}, true, []string{idA, idB}},
		{[]*mdns.ServiceEntry{a2, b}, false, []string{idA, idB}},
		{[]*mdns.ServiceEntry{b}, false, []string{idA, idB}}, // a missed once: kept
	}
	for i, s := range steps {
		snap, changed, _ := tr.observe(uint64(i+1), s.entries)
		if changed != s.changed || !slices.Equal(ids(snap), s.ids) {
			t.Fatalf("poll %d: ids %v changed %v; want %v %v", i+1, ids(snap), changed, s.ids, s.changed)
		}
	}
	snap, _, _ := tr.observe(uint64(len(steps)+1), []*mdns.ServiceEntry{a2, b})
	if snap[0].Seats != 2 {
		t.Fatalf("seats = %d, want 2", snap[0].Seats)
	}
}

func TestTrackerSnapshotBelongsToCaller(t *testing.T) {
	tr := newTracker(testService, 3)
	e := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	snap, _, _ := tr.observe(1, []*mdns.ServiceEntry{e})
	snap[0].Seats = 99
	snap[0].Addrs[0] = netip.MustParseAddr("10.6.6.6")
	if snap, changed, _ := tr.observe(2, []*mdns.ServiceEntry{e}); changed || snap[0].Seats != 1 || snap[0].Addrs[0] != netip.MustParseAddr("10.0.0.2") {
		t.Fatalf("caller's edits reached the tracker: %+v changed %v", snap, changed)
	}
}

func TestTrackerBounds(t *testing.T) {
	tr := newTracker(testService, 3)
	var es []*mdns.ServiceEntry
	for i := 0; i < maxTracked+88; i++ {
		id := fmt.Sprintf("%064x", i)
		es = append(es, entry(name(fmt.Sprint("i", i)), 5, txtOf(t, id, 1), "10.0.0.2", ""))
	}
	snap, _, c := tr.observe(1, es)
	if len(snap) != maxTracked || c.overflow != 88 {
		t.Fatalf("%d records tracked, overflow %d; want %d and 88", len(snap), c.overflow, maxTracked)
	}
	tr = newTracker(testService, 3)
	txt := txtOf(t, idA, 1)
	var over uint64
	for poll := uint64(1); poll <= 3; poll++ {
		es = es[:0]
		for i := 0; i < 10; i++ {
			es = append(es, entry(name("a"), 5, txt, fmt.Sprintf("10.0.%d.%d", poll, i+1), ""))
		}
		snap, _, c = tr.observe(poll, es)
		over += c.overflow
	}
	if len(snap) != 1 || len(snap[0].Addrs) != maxPeerAddrs || over != 30-maxPeerAddrs {
		t.Fatalf("%d addresses kept, overflow %d; want %d", len(snap[0].Addrs), over, maxPeerAddrs)
	}
}

func TestEntryRecordKeepsLinkLocalZoneOnly(t *testing.T) {
	r, err := entryRecord(entry(name("a"), 5, txtOf(t, idA, 1), "", "fe80::2%veth0"), "."+testService+".local.")
	if err != nil || len(r.Addrs) != 1 || r.Addrs[0].Zone() != "veth0" {
		t.Fatalf("link-local: %+v, %v", r, err)
	}
	r, err = entryRecord(entry(name("a"), 5, txtOf(t, idA, 1), "", "2001:db8::2%veth0"), "."+testService+".local.")
	if err != nil || len(r.Addrs) != 1 || r.Addrs[0].Zone() != "" {
		t.Fatalf("global: %+v, %v", r, err)
	}
}

func FuzzEntryRecord(f *testing.F) {
	txt := strings.Join(txtOf(f, idA, 3), "\x00")
	f.Add(name("a"), 5, txt, []byte{10, 0, 0, 2}, []byte(nil), "")
	f.Add(name("0123456789abcdef"), 65535, txt, []byte(nil), []byte(net.ParseIP("fe80::1")), "eth0")
	f.Add("x._other._udp.local.", 1, txt, []byte{1, 2, 3, 4}, []byte(nil), "")
	f.Add(`a\.b.`+testService+".local.", 1, txt+"\x00n=%FF", []byte{1, 2, 3}, []byte{0xff}, "\x00")
	f.Add(testService+".local.", -5, "", []byte(nil), []byte(nil), "")
	suffix := "." + testService + ".local."
	f.Fuzz(func(t *testing.T, nm string, port int, txt string, v4, v6 []byte, zone string) {
		e := &mdns.ServiceEntry{Name: nm, Port: port, InfoFields: strings.Split(txt, "\x00"),
			AddrV4: v4, AddrV6: v6, AddrV6IPAddr: &net.IPAddr{IP: v6, Zone: zone}}
		r, err := entryRecord(e, suffix)
		if err != nil {
			if !errors.Is(err, ErrInvalidRecord) && !errors.Is(err, errOtherService) {
				t.Fatalf("error %v wraps neither ErrInvalidRecord nor errOtherService", err)
			}
			return
		}
		if checkInstance(r.Instance) != nil || r.Port == 0 || len(r.Addrs) == 0 || len(r.Addrs) > 2 ||
			!strings.EqualFold(r.Instance+suffix, nm) {
			t.Fatalf("accepted a bad record %+v from %+v", r, e)
		}
		for _, a := range r.Addrs {
			if !UsableAddr(a) {
				t.Fatalf("accepted unusable address %v", a)
			}
		}
		tx := r
		tx.Instance, tx.Addrs, tx.Port = "", nil, 0
		checkParsed(t, tx)
		// The tracker takes whatever the parser takes.
		if snap, _, _ := newTracker(testService, 1).observe(1, []*mdns.ServiceEntry{e}); len(snap) != 1 {
			t.Fatalf("tracker dropped an entry entryRecord accepts")
		}
	})
}
