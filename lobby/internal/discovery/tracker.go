package discovery

import (
	"cmp"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Bounds on what a tracker keeps, so a hostile LAN cannot grow it without
// limit. Entries beyond them are counted in Stats.Overflow.
const (
	maxTracked   = 512 // sightings, over all IDs
	maxSightings = 4   // sightings per ID
	maxPeerAddrs = 16  // addresses per sighting
)

// errOtherService marks an entry for another service (the Memory backend
// hands over every advertisement it holds).
var errOtherService = errors.New("discovery: entry for another service")

// entryRecord turns one browser entry into a Record if it belongs to
// the service whose name suffix is "."+service+".local." (compared
// case-insensitively, as DNS names are). It returns errOtherService for
// entries of other services and an error wrapping ErrInvalidRecord for a bad
// instance label, port or TXT, or when no address can be dialed. It never
// panics, whatever the entry holds.
func entryRecord(e *svcEntry, suffix string) (Record, error) {
	if e == nil {
		return Record{}, invalid("nil entry")
	}
	name := e.Name
	if len(name) <= len(suffix) || !strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return Record{}, errOtherService
	}
	instance := name[:len(name)-len(suffix)]
	if err := checkInstance(instance); err != nil {
		return Record{}, err
	}
	if e.Port < 1 || e.Port > 65535 {
		return Record{}, invalid("port %d", e.Port)
	}
	r, err := ParseTXT(e.InfoFields)
	if err != nil {
		return Record{}, err
	}
	r.Instance = instance
	r.Port = uint16(e.Port)
	r.Addrs = entryAddrs(e, nil)
	if len(r.Addrs) == 0 {
		return Record{}, invalid("no usable address")
	}
	return r, nil
}

// entryAddrs appends the usable addresses of e (its A and AAAA fields; the
// MDNS browser hands over one entry per address) to dst. Link-local IPv6
// addresses keep the zone of the interface that received them.
func entryAddrs(e *svcEntry, dst []netip.Addr) []netip.Addr {
	if a, ok := netip.AddrFromSlice(e.AddrV4); ok {
		dst = appendAddr(dst, a.Unmap())
	}
	v6, zone := e.AddrV6, ""
	if e.AddrV6IPAddr != nil {
		v6, zone = e.AddrV6IPAddr.IP, e.AddrV6IPAddr.Zone
	}
	if a, ok := netip.AddrFromSlice(v6); ok {
		a = a.Unmap()
		if a.Is6() && a.IsLinkLocalUnicast() && zone != "" {
			a = a.WithZone(zone)
		}
		dst = appendAddr(dst, a)
	}
	return dst
}

// appendAddr appends a to dst if it is usable and not there yet.
func appendAddr(dst []netip.Addr, a netip.Addr) []netip.Addr {
	if !UsableAddr(a) || slices.Contains(dst, a) {
		return dst
	}
	return append(dst, a)
}

// pollCounts is what one poll saw, for Stats.
type pollCounts struct {
	entries, other, invalid, overflow uint64
}

// sightingKey identifies one sighting: an ID advertised under one instance
// label and port. A peer's own advertisement is one sighting; anyone on the
// LAN can add others for the same ID (records are hints, not proofs), so
// the tracker keeps them apart instead of letting one hide another.
type sightingKey struct {
	id, instance string
	port         uint16
}

func compareKeys(a, b sightingKey) int {
	return cmp.Or(strings.Compare(a.id, b.id), strings.Compare(a.instance, b.instance), cmp.Compare(a.port, b.port))
}

// tracked is one sighting the tracker knows.
type tracked struct {
	rec   Record                // latest fields; Addrs unused
	seen  uint64                // last poll in which the sighting was seen
	addrs map[netip.Addr]uint64 // address → last poll in which it was seen
}

// tracker aggregates polls into snapshots: entries in, snapshot out, given
// the poll number. It keeps one record per sighting (ID, instance, port),
// at most maxSightings per ID and maxTracked in all, forgets a sighting
// missed in missed consecutive polls (and an address likewise), and reports
// whether the snapshot changed since the last one it returned. It uses no
// clock and no sockets; it is not safe for concurrent use.
type tracker struct {
	suffix    string
	missed    uint64
	sightings map[sightingKey]*tracked
	perID     map[string]int // number of sightings per ID
	last      []Record
	published bool
}

// newTracker returns a tracker for service ("_type._udp") that forgets
// what it missed in missed consecutive polls (missed >= 1).
func newTracker(service string, missed int) *tracker {
	return &tracker{
		suffix:    "." + service + ".local.",
		missed:    uint64(max(missed, 1)),
		sightings: make(map[sightingKey]*tracked),
		perID:     make(map[string]int),
	}
}

// compareSightings orders two records of one sighting (same ID, instance
// and port) seen in the same poll, so that the choice between them does
// not depend on the order of answers.
func compareSightings(a, b Record) int {
	return cmp.Or(
		strings.Compare(a.Instance, b.Instance),
		cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Version, b.Version),
		cmp.Compare(a.Seats, b.Seats),
		cmp.Compare(a.Players, b.Players),
		strings.Compare(a.Name, b.Name))
}

// observe folds the entries of poll (numbers increase by one per poll,
// starting at 1) into the tracked set. Entries are grouped by sighting (ID,
// instance, port): for each it keeps the record whose fields sort first
// (compareSightings) and merges the addresses of every entry with those
// same fields. Sightings already tracked are updated first, then whatever
// was missed too long is forgotten, then new sightings are admitted in
// sorted order while the bounds allow (maxTracked in all, maxSightings per
// ID; the rest is counted as overflow and tried again at the next poll). It
// returns the snapshot sorted by ID, instance and port, and whether it
// differs from the previous one returned (always true the first time). The
// snapshot is the caller's to keep.
func (t *tracker) observe(poll uint64, entries []*svcEntry) ([]Record, bool, pollCounts) {
	var c pollCounts
	best := make(map[sightingKey]Record)
	for _, e := range entries {
		c.entries++
		r, err := entryRecord(e, t.suffix)
		switch {
		case errors.Is(err, errOtherService):
			c.other++
			continue
		case err != nil:
			c.invalid++
			continue
		}
		k := sightingKey{r.ID, r.Instance, r.Port}
		b, ok := best[k]
		switch {
		case !ok || compareSightings(r, b) < 0:
			best[k] = r
		case compareSightings(r, b) == 0:
			for _, a := range r.Addrs {
				b.Addrs = appendAddr(b.Addrs, a)
			}
			best[k] = b
		}
	}
	var fresh []sightingKey
	for k, r := range best {
		if p := t.sightings[k]; p != nil {
			t.update(p, poll, r, &c)
		} else {
			fresh = append(fresh, k)
		}
	}
	for k, p := range t.sightings {
		if t.gone(poll, p.seen) {
			t.forget(k)
			continue
		}
		for a, seen := range p.addrs {
			if t.gone(poll, seen) {
				delete(p.addrs, a)
			}
		}
	}
	slices.SortFunc(fresh, compareKeys)
	for _, k := range fresh {
		if len(t.sightings) >= maxTracked || t.perID[k.id] >= maxSightings {
			c.overflow++
			continue
		}
		p := &tracked{addrs: make(map[netip.Addr]uint64)}
		t.sightings[k] = p
		t.perID[k.id]++
		t.update(p, poll, best[k], &c)
	}
	snap := t.snapshot()
	changed := !t.published || !equalRecords(snap, t.last)
	t.published = true
	t.last = snap
	return cloneRecords(snap), changed, c
}

// update records that sighting p was seen in poll as r, adding r's
// addresses while maxPeerAddrs allows.
func (t *tracker) update(p *tracked, poll uint64, r Record, c *pollCounts) {
	p.seen = poll
	for _, a := range r.Addrs {
		if _, ok := p.addrs[a]; !ok && len(p.addrs) >= maxPeerAddrs {
			c.overflow++
			continue
		}
		p.addrs[a] = poll
	}
	r.Addrs = nil
	p.rec = r
}

// forget drops sighting k.
func (t *tracker) forget(k sightingKey) {
	delete(t.sightings, k)
	if t.perID[k.id]--; t.perID[k.id] <= 0 {
		delete(t.perID, k.id)
	}
}

// gone reports whether something last seen in poll seen has been missed in
// t.missed consecutive polls by poll now.
func (t *tracker) gone(now, seen uint64) bool {
	return now > seen && now-seen >= t.missed
}

// snapshot returns the tracked sightings sorted by ID, instance and port,
// addresses sorted.
func (t *tracker) snapshot() []Record {
	snap := make([]Record, 0, len(t.sightings))
	for _, p := range t.sightings {
		r := p.rec
		r.Addrs = make([]netip.Addr, 0, len(p.addrs))
		for a := range p.addrs {
			r.Addrs = append(r.Addrs, a)
		}
		slices.SortFunc(r.Addrs, netip.Addr.Compare)
		snap = append(snap, r)
	}
	slices.SortFunc(snap, CompareRecords)
	return snap
}

// cloneRecords deep-copies a snapshot.
func cloneRecords(rs []Record) []Record {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Addrs = slices.Clone(out[i].Addrs)
	}
	return out
}

// fakeEntry builds the entry the MDNS browser delivers for one address of
// an instance of service; the Memory backend uses it so that it runs
// through the same filtering and aggregation as MDNS.
func fakeEntry(instance, service string, port uint16, txt []string, a netip.Addr) *svcEntry {
	e := &svcEntry{
		Name:       instance + "." + service + ".local.",
		Host:       instance + ".local.",
		Port:       int(port),
		InfoFields: slices.Clone(txt),
		Info:       strings.Join(txt, "|"),
	}
	if a.Is4() || a.Is4In6() {
		e.AddrV4 = net.IP(a.Unmap().AsSlice())
	} else {
		e.AddrV6 = net.IP(a.AsSlice())
		e.AddrV6IPAddr = &net.IPAddr{IP: e.AddrV6, Zone: a.Zone()}
	}
	return e
}
