package discovery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const testService = "_lightcycle._udp"

// entry builds a browser entry as the MDNS browser delivers them: Name is
// the instance's full name, AddrV4/AddrV6IPAddr an A/AAAA address.
func entry(name string, port int, txt []string, v4, v6 string) *svcEntry {
	e := &svcEntry{Name: name, Port: port, InfoFields: txt, Info: strings.Join(txt, "|")}
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
	entries := []*svcEntry{
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
	snap, _, _ := tr.observe(1, []*svcEntry{
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
		e    *svcEntry
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
		{"malformed IP", &svcEntry{Name: name("a"), Port: 5, InfoFields: txt, AddrV4: net.IP{1, 2, 3}}},
	} {
		tr := newTracker(testService, 3)
		snap, _, c := tr.observe(1, []*svcEntry{tc.e})
		if len(snap) != 0 || c.invalid != 1 {
			t.Errorf("%s: snapshot %+v, counts %+v; want it dropped as invalid", tc.what, snap, c)
		}
	}
}

func TestTrackerMergesAddresses(t *testing.T) {
	txt := txtOf(t, idA, 1)
	entries := []*svcEntry{
		entry(name("a"), 5, txt, "192.168.1.20", "fe80::1%eth0"),
		entry(name("a"), 5, txt, "10.0.0.2", "2001:db8::1"),
		entry(name("a"), 5, txt, "192.168.1.20", ""), // duplicate
		// Same sighting (ID, instance, port) with other fields: the
		// fields that sort first win, its addresses are not merged.
		entry(name("a"), 5, txtOf(t, idA, 2), "10.7.7.7", ""),
		// Same ID from another instance/port: another sighting, kept
		// apart (a neighbour may advertise anyone's ID).
		entry(name("b"), 6, txt, "10.9.9.9", ""),
		entry(name("c"), 5, txtOf(t, idB, 4), "10.0.0.3", ""),
		// v4-mapped IPv6 is unmapped.
		{Name: name("a"), Port: 5, InfoFields: txt, AddrV6: net.ParseIP("::ffff:10.0.0.4")},
	}
	want := []Record{
		{Instance: "a", Port: 5, ID: idA, Version: 1, Seats: 1, Name: "n-0123",
			Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.4"), netip.MustParseAddr("192.168.1.20"),
				netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1").WithZone("eth0")}},
		{Instance: "b", Port: 6, ID: idA, Version: 1, Seats: 1, Name: "n-0123", Addrs: addrs("10.9.9.9")},
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
		tr.observe(1, []*svcEntry{a, b})
		for poll := uint64(2); poll <= uint64(missed)+1; poll++ {
			snap, changed, _ := tr.observe(poll, []*svcEntry{b})
			gone := poll-1 >= uint64(missed)
			if gone != !slices.Contains(ids(snap), idA) || changed != gone {
				t.Fatalf("missed=%d poll %d: snapshot %v changed %v; want a gone=%v", missed, poll, ids(snap), changed, gone)
			}
		}
		// Seen again: back at once.
		if snap, changed, _ := tr.observe(uint64(missed)+2, []*svcEntry{a, b}); len(snap) != 2 || !changed {
			t.Fatalf("missed=%d: a not back: %v", missed, ids(snap))
		}
	}
}

func TestTrackerMissCountIsConsecutive(t *testing.T) {
	a := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	tr := newTracker(testService, 3)
	// Seen every other poll: never missed 3 times in a row.
	for poll := uint64(1); poll <= 20; poll++ {
		var es []*svcEntry
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
	tr.observe(1, []*svcEntry{entry(name("a"), 5, txt, "10.0.0.1", "")})
	for poll := uint64(2); poll <= 4; poll++ {
		snap, changed, _ := tr.observe(poll, []*svcEntry{entry(name("a"), 5, txt, "10.0.0.2", "")})
		want := addrs("10.0.0.1", "10.0.0.2")
		if poll == 4 {
			want = addrs("10.0.0.2")
		}
		if len(snap) != 1 || !slices.Equal(snap[0].Addrs, want) || changed != (poll != 3) {
			t.Fatalf("poll %d: %+v changed %v; want addrs %v", poll, snap, changed, want)
		}
	}
	// A restart on another port is another sighting: the old one (and
	// its addresses) goes once it has been missed as long as any other.
	for poll := uint64(5); poll <= 7; poll++ {
		snap, _, _ := tr.observe(poll, []*svcEntry{entry(name("a"), 6, txt, "10.0.0.3", "")})
		n := len(snap)
		if n == 0 || snap[n-1].Port != 6 || !slices.Equal(snap[n-1].Addrs, addrs("10.0.0.3")) ||
			(n == 2) != (poll < 7) || (n == 2 && (snap[0].Port != 5 || !slices.Equal(snap[0].Addrs, addrs("10.0.0.2")))) {
			t.Fatalf("poll %d after restart: %+v", poll, snap)
		}
	}
}

// A LAN neighbour advertises a peer's ID with its own address under an
// instance label that sorts first: both sightings are kept, sorted by ID,
// instance and port, and each is forgotten on its own.
func TestTrackerKeepsEverySightingOfAnID(t *testing.T) {
	txt := txtOf(t, idA, 3)
	real := entry(name("0123456789abcdef"), 7000, txt, "10.0.0.2", "")
	fake := entry(name("0000"), 7000, txtOf(t, idA, 0), "10.0.0.250", "")
	fake2 := entry(name("0123456789abcdef"), 7001, txt, "10.0.0.250", "")
	b := entry(name("b"), 5, txtOf(t, idB, 1), "10.0.0.3", "")
	want := []Record{
		{Instance: "0000", Port: 7000, ID: idA, Version: 1, Seats: 0, Name: "n-0123", Addrs: addrs("10.0.0.250")},
		{Instance: "0123456789abcdef", Port: 7000, ID: idA, Version: 1, Seats: 3, Name: "n-0123", Addrs: addrs("10.0.0.2")},
		{Instance: "0123456789abcdef", Port: 7001, ID: idA, Version: 1, Seats: 3, Name: "n-0123", Addrs: addrs("10.0.0.250")},
		{Instance: "b", Port: 5, ID: idB, Version: 1, Seats: 1, Name: "n-fedc", Addrs: addrs("10.0.0.3")},
	}
	for i, order := range [][]*svcEntry{{real, fake, fake2, b}, {b, fake2, fake, real}, {fake, b, real, fake2}} {
		snap, _, c := newTracker(testService, 2).observe(1, order)
		if !equalRecords(snap, want) || c.overflow != 0 {
			t.Fatalf("order %d: snapshot\n %+v\nwant\n %+v\n(overflow %d)", i, snap, want, c.overflow)
		}
		if !slices.IsSortedFunc(snap, CompareRecords) {
			t.Fatalf("order %d: snapshot not sorted by ID, instance, port", i)
		}
	}
	// The neighbour stops: its sightings go after the missed polls, the
	// real one stays.
	tr := newTracker(testService, 2)
	tr.observe(1, []*svcEntry{real, fake, fake2, b})
	tr.observe(2, []*svcEntry{real, b})
	snap, changed, _ := tr.observe(3, []*svcEntry{real, b})
	if !changed || !equalRecords(snap, []Record{want[1], want[3]}) {
		t.Fatalf("after the neighbour stopped: %+v (changed %v)", snap, changed)
	}
}

// At most maxSightings sightings of one ID are kept. Sightings already
// tracked keep their place (a newcomer that sorts first does not evict
// them); a slot freed by a sighting that went is taken at once.
func TestTrackerBoundsSightingsPerID(t *testing.T) {
	sighting := func(i int) *svcEntry {
		return entry(name(fmt.Sprint("i", i)), 5, txtOf(t, idA, 1), fmt.Sprintf("10.0.0.%d", i+1), "")
	}
	instances := func(snap []Record) []string {
		var out []string
		for _, r := range snap {
			out = append(out, r.Instance)
		}
		return out
	}
	tr := newTracker(testService, 2)
	var es []*svcEntry
	for i := 3; i <= maxSightings+4; i++ { // i3..i8: 6 sightings, sorted
		es = append(es, sighting(i))
	}
	es = append(es, entry(name("other"), 5, txtOf(t, idB, 1), "10.0.1.1", ""))
	snap, _, c := tr.observe(1, es)
	if got, want := instances(snap), []string{"i3", "i4", "i5", "i6", "other"}; !slices.Equal(got, want) || c.overflow != 2 {
		t.Fatalf("poll 1: kept %v, overflow %d; want %v and 2", got, c.overflow, want)
	}
	// i1 sorts first but comes late: it overflows, and is counted at each
	// poll.
	es = append(es, sighting(1))
	snap, _, c = tr.observe(2, es)
	if got, want := instances(snap), []string{"i3", "i4", "i5", "i6", "other"}; !slices.Equal(got, want) || c.overflow != 3 {
		t.Fatalf("poll 2: kept %v, overflow %d; want %v and 3", got, c.overflow, want)
	}
	// i3 and i4 stop answering: once missed twice their slots go to the
	// waiting sightings that sort first (i1, i7).
	es = slices.DeleteFunc(es, func(e *svcEntry) bool {
		return strings.HasPrefix(e.Name, "i3.") || strings.HasPrefix(e.Name, "i4.")
	})
	tr.observe(3, es)
	snap, _, c = tr.observe(4, es)
	if got, want := instances(snap), []string{"i1", "i5", "i6", "i7", "other"}; !slices.Equal(got, want) || c.overflow != 1 {
		t.Fatalf("poll 4: kept %v, overflow %d; want %v and 1", got, c.overflow, want)
	}
	if len(tr.perID) != 2 || tr.perID[idA] != maxSightings || tr.perID[idB] != 1 {
		t.Fatalf("per-ID counts %v", tr.perID)
	}
	snap, _, _ = tr.observe(10, nil)
	if len(snap) != 0 || len(tr.perID) != 0 || len(tr.sightings) != 0 {
		t.Fatalf("after everything went: %v, counts %v", snap, tr.perID)
	}
}

func TestTrackerPublishesChangesOnly(t *testing.T) {
	tr := newTracker(testService, 3)
	a1 := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	a2 := entry(name("a"), 5, txtOf(t, idA, 2), "10.0.0.2", "")
	b := entry(name("b"), 5, txtOf(t, idB, 1), "10.0.0.3", "")
	steps := []struct {
		entries []*svcEntry
		changed bool
		ids     []string
	}{
		{nil, true, nil}, // the first snapshot is always published, even empty
		{nil, false, nil},
		{[]*svcEntry{a1}, true, []string{idA}},
		{[]*svcEntry{a1}, false, []string{idA}},
		{[]*svcEntry{a1, a1}, false, []string{idA}},
		{[]*svcEntry{a2}, true, []string{idA}}, // seats changed
		{[]*svcEntry{b, a2}, true, []string{idA, idB}},
		{[]*svcEntry{a2, b}, false, []string{idA, idB}},
		{[]*svcEntry{b}, false, []string{idA, idB}}, // a missed once: kept
	}
	for i, s := range steps {
		snap, changed, _ := tr.observe(uint64(i+1), s.entries)
		if changed != s.changed || !slices.Equal(ids(snap), s.ids) {
			t.Fatalf("poll %d: ids %v changed %v; want %v %v", i+1, ids(snap), changed, s.ids, s.changed)
		}
	}
	snap, _, _ := tr.observe(uint64(len(steps)+1), []*svcEntry{a2, b})
	if snap[0].Seats != 2 {
		t.Fatalf("seats = %d, want 2", snap[0].Seats)
	}
}

func TestTrackerSnapshotBelongsToCaller(t *testing.T) {
	tr := newTracker(testService, 3)
	e := entry(name("a"), 5, txtOf(t, idA, 1), "10.0.0.2", "")
	snap, _, _ := tr.observe(1, []*svcEntry{e})
	snap[0].Seats = 99
	snap[0].Addrs[0] = netip.MustParseAddr("10.6.6.6")
	if snap, changed, _ := tr.observe(2, []*svcEntry{e}); changed || snap[0].Seats != 1 || snap[0].Addrs[0] != netip.MustParseAddr("10.0.0.2") {
		t.Fatalf("caller's edits reached the tracker: %+v changed %v", snap, changed)
	}
}

func TestTrackerBounds(t *testing.T) {
	tr := newTracker(testService, 3)
	var es []*svcEntry
	for i := 0; i < maxTracked+88; i++ {
		id := fmt.Sprintf("%064x", i)
		es = append(es, entry(name(fmt.Sprint("i", i)), 5, txtOf(t, id, 1), "10.0.0.2", ""))
	}
	snap, _, c := tr.observe(1, es)
	if len(snap) != maxTracked || c.overflow != 88 {
		t.Fatalf("%d records tracked, overflow %d; want %d and 88", len(snap), c.overflow, maxTracked)
	}
	// The total bound counts sightings, not IDs.
	tr = newTracker(testService, 3)
	es = es[:0]
	for i := 0; i < maxTracked/2+44; i++ {
		txt := txtOf(t, fmt.Sprintf("%064x", i), 1)
		es = append(es, entry(name("x"), 5, txt, "10.0.0.2", ""), entry(name("y"), 5, txt, "10.0.0.3", ""))
	}
	snap, _, c = tr.observe(1, es)
	if len(snap) != maxTracked || c.overflow != 88 || len(tr.sightings) != maxTracked {
		t.Fatalf("%d sightings tracked, overflow %d; want %d and 88", len(snap), c.overflow, maxTracked)
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
		e := &svcEntry{Name: nm, Port: port, InfoFields: strings.Split(txt, "\x00"),
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
		if snap, _, _ := newTracker(testService, 1).observe(1, []*svcEntry{e}); len(snap) != 1 {
			t.Fatalf("tracker dropped an entry entryRecord accepts")
		}
	})
}

// FuzzTracker feeds the tracker polls of entries built from script (3 bytes
// per entry, 0xff ends a poll) over a few IDs, instances, ports, seats and
// addresses, and checks its invariants after every poll: snapshots sorted
// by ID, instance and port without duplicates; the bounds (sightings per
// ID, addresses per sighting); every sighting seen in the poll present
// with the fields that sort first and their addresses, unless a bound was
// reached; nothing kept beyond the missed polls; changed exactly when the
// snapshot differs.
func FuzzTracker(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x02, 0x04, 0x02, 0x03, 0xff, 0x00, 0x01, 0x05}, uint8(1))
	f.Add([]byte{0x00, 0x00, 0x01, 0x04, 0x00, 0x02, 0x08, 0x00, 0x03, 0x0c, 0x00, 0x04, 0x10, 0x00, 0x05, 0x14, 0x00, 0x06, 0xff, 0xff, 0xff, 0x10, 0x08, 0x07}, uint8(2))
	f.Add([]byte{0x21, 0x13, 0x40, 0x21, 0x22, 0x41, 0x21, 0x01, 0x42, 0xff, 0x21, 0x03, 0x43, 0xff, 0xff, 0xff, 0xff}, uint8(3))
	ids := []string{idA, idB, idC, strings.Repeat("0", 64)}
	f.Fuzz(func(t *testing.T, script []byte, missed uint8) {
		if len(script) > 1536 { // 512 entries: more finds nothing new and slows the fuzzer
			script = script[:1536]
		}
		m := int(missed%4) + 1
		tr := newTracker(testService, m)
		type key = sightingKey
		lastSeen := map[key]uint64{}
		var prev []Record
		poll := uint64(0)
		var es []*svcEntry
		run := func() {
			poll++
			snap, changed, c := tr.observe(poll, es)
			if c.entries != uint64(len(es)) || c.other+c.invalid > c.entries {
				t.Fatalf("poll %d: counts %+v for %d entries", poll, c, len(es))
			}
			if !slices.IsSortedFunc(snap, CompareRecords) {
				t.Fatalf("poll %d: snapshot not sorted", poll)
			}
			perID := map[string]int{}
			got := map[key]Record{}
			for i, r := range snap {
				k := key{r.ID, r.Instance, r.Port}
				if i > 0 && CompareRecords(snap[i-1], r) == 0 {
					t.Fatalf("poll %d: sighting %v twice", poll, k)
				}
				got[k] = r
				perID[r.ID]++
				if len(r.Addrs) == 0 || len(r.Addrs) > maxPeerAddrs || !slices.IsSortedFunc(r.Addrs, netip.Addr.Compare) {
					t.Fatalf("poll %d: addresses %v", poll, r.Addrs)
				}
				for j, a := range r.Addrs {
					if !UsableAddr(a) || (j > 0 && r.Addrs[j-1] == a) {
						t.Fatalf("poll %d: addresses %v", poll, r.Addrs)
					}
				}
			}
			for id, n := range perID {
				if n > maxSightings || tr.perID[id] != n {
					t.Fatalf("poll %d: %d sightings of %s, tracker counts %d", poll, n, id[:4], tr.perID[id])
				}
			}
			if len(tr.perID) != len(perID) || len(snap) > maxTracked {
				t.Fatalf("poll %d: per-ID counts %v, snapshot has %v", poll, tr.perID, perID)
			}
			// What this poll saw, by the rules: per sighting, the fields
			// that sort first, with the addresses of those fields.
			best := map[key]Record{}
			for _, e := range es {
				r, err := entryRecord(e, tr.suffix)
				if err != nil {
					continue
				}
				k := key{r.ID, r.Instance, r.Port}
				b, ok := best[k]
				switch {
				case !ok || compareSightings(r, b) < 0:
					best[k] = r
				case compareSightings(r, b) == 0:
					b.Addrs = append(b.Addrs, r.Addrs...)
					best[k] = b
				}
			}
			for k, b := range best {
				r, ok := got[k]
				if !ok {
					if perID[k.id] < maxSightings && len(snap) < maxTracked {
						t.Fatalf("poll %d: %v seen but not kept, below the bounds", poll, k)
					}
					continue
				}
				lastSeen[k] = poll
				if r.Version != b.Version || r.Seats != b.Seats || r.Players != b.Players || r.Name != b.Name {
					t.Fatalf("poll %d: %v has fields %+v, want those of %+v", poll, k, r, b)
				}
				if len(r.Addrs) < maxPeerAddrs {
					for _, a := range b.Addrs {
						if !slices.Contains(r.Addrs, a) {
							t.Fatalf("poll %d: %v lacks address %v", poll, k, a)
						}
					}
				}
			}
			for k := range got {
				if s, ok := lastSeen[k]; !ok || poll-s >= uint64(m) {
					t.Fatalf("poll %d: %v kept, last seen in poll %d (missed %d)", poll, k, s, m)
				}
			}
			if changed != (poll == 1 || !equalRecords(prev, snap)) {
				t.Fatalf("poll %d: changed %v", poll, changed)
			}
			prev = snap
			es = es[:0]
		}
		for i := 0; i+2 < len(script) && poll < 64; i += 3 {
			b0, b1, b2 := script[i], script[i+1], script[i+2]
			if b0 == 0xff {
				run()
				i -= 2 // a poll break takes one byte
				continue
			}
			id := ids[b0&3]
			instance := fmt.Sprint("i", (b0>>2)&7)
			port := 1 + int(b0>>5)
			svc := name(instance)
			if b1&0x10 != 0 {
				svc = instance + "._other._udp.local."
			}
			if b1&0x20 != 0 {
				port = 0
			}
			txt, err := Record{ID: id, Version: int(b1 >> 7), Seats: int(b1 & 3), Name: fmt.Sprint("n", (b1>>2)&1)}.TXT()
			if err != nil {
				t.Fatal(err)
			}
			v4, v6 := fmt.Sprintf("10.%d.0.%d", (b1>>6)&1, b2), ""
			if b1&0x08 != 0 {
				v4, v6 = "", fmt.Sprintf("2001:db8::%x", b2)
			}
			es = append(es, entry(svc, port, txt, v4, v6))
		}
		run()
	})
}
