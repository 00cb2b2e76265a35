package discovery

import (
	"cmp"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/mdns"
)

// Bounds on what a tracker keeps, so a hostile LAN cannot grow it without
// limit. Entries beyond them are counted in Stats.Overflow.
const (
	maxTracked   = 512 // records (distinct IDs)
	maxPeerAddrs = 16  // addresses per record
)

// errOtherService marks an entry for another service: hashicorp/mdns passes
// on every complete answer that reaches its sockets.
var errOtherService = errors.New("discovery: entry for another service")

// entryRecord turns one hashicorp/mdns entry into a Record if it belongs to
// the service whose name suffix is "."+service+".local." (compared
// case-insensitively, as DNS names are). It returns errOtherService for
// entries of other services and an error wrapping ErrInvalidRecord for a bad
// instance label, port or TXT, or when no address can be dialed. It never
// panics, whatever the entry holds.
func entryRecord(e *mdns.ServiceEntry, suffix string) (Record, error) {
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

// entryAddrs appends the usable addresses of e (its last A and last AAAA
// answer: hashicorp/mdns keeps no more) to dst. Link-local IPv6 addresses
// keep the zone hashicorp/mdns borrowed from the receiving socket.
func entryAddrs(e *mdns.ServiceEntry, dst []netip.Addr) []netip.Addr {
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

// tracked is one record the tracker knows.
type tracked struct {
	rec   Record                // latest fields; Addrs unused
	seen  uint64                // last poll in which the ID was seen
	addrs map[netip.Addr]uint64 // address → last poll in which it was seen
}

// tracker aggregates polls into snapshots: entries in, snapshot out, given
// the poll number. It keeps records keyed by ID, forgets a record missed in
// missed consecutive polls (and an address likewise), and reports whether
// the snapshot changed since the last one it returned. It uses no clock and
// no sockets; it is not safe for concurrent use.
type tracker struct {
	suffix    string
	missed    uint64
	peers     map[string]*tracked
	last      []Record
	published bool
}

// newTracker returns a tracker for service ("_type._udp") that forgets
// what it missed in missed consecutive polls (missed >= 1).
func newTracker(service string, missed int) *tracker {
	return &tracker{
		suffix: "." + service + ".local.",
		missed: uint64(max(missed, 1)),
		peers:  make(map[string]*tracked),
	}
}

// compareSightings orders two records of one ID seen in the same poll, so
// that the choice between them does not depend on the order of answers.
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
// starting at 1) into the tracked set. For each ID it keeps the record
// whose fields sort first (compareSightings) and merges the addresses of
// every entry with those same fields. It returns the snapshot sorted by ID
// and whether it differs from the previous one returned (always true the
// first time). The snapshot is the caller's to keep.
func (t *tracker) observe(poll uint64, entries []*mdns.ServiceEntry) ([]Record, bool, pollCounts) {
	var c pollCounts
	best := make(map[string]Record)
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
		b, ok := best[r.ID]
		switch {
		case !ok || compareSightings(r, b) < 0:
			best[r.ID] = r
		case compareSightings(r, b) == 0:
			for _, a := range r.Addrs {
				b.Addrs = appendAddr(b.Addrs, a)
			}
			best[r.ID] = b
		}
	}
	for id, r := range best {
		p := t.peers[id]
		if p == nil {
			if len(t.peers) >= maxTracked {
				c.overflow++
				continue
			}
			p = &tracked{addrs: make(map[netip.Addr]uint64)}
			t.peers[id] = p
		} else if p.rec.Instance != r.Instance || p.rec.Port != r.Port {
			clear(p.addrs) // a restarted peer: its old addresses meant another port
		}
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
	for id, p := range t.peers {
		if t.gone(poll, p.seen) {
			delete(t.peers, id)
			continue
		}
		for a, seen := range p.addrs {
			if t.gone(poll, seen) {
				delete(p.addrs, a)
			}
		}
	}
	snap := t.snapshot()
	changed := !t.published || !equalRecords(snap, t.last)
	t.published = true
	t.last = snap
	return cloneRecords(snap), changed, c
}

// gone reports whether something last seen in poll seen has been missed in
// t.missed consecutive polls by poll now.
func (t *tracker) gone(now, seen uint64) bool {
	return now > seen && now-seen >= t.missed
}

// snapshot returns the tracked records sorted by ID, addresses sorted.
func (t *tracker) snapshot() []Record {
	snap := make([]Record, 0, len(t.peers))
	for _, p := range t.peers {
		r := p.rec
		r.Addrs = make([]netip.Addr, 0, len(p.addrs))
		for a := range p.addrs {
			r.Addrs = append(r.Addrs, a)
		}
		slices.SortFunc(r.Addrs, netip.Addr.Compare)
		snap = append(snap, r)
	}
	slices.SortFunc(snap, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
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

// fakeEntry builds the entry hashicorp/mdns would deliver for one address of
// an instance of service; the Memory backend uses it so that it runs
// through the same filtering and aggregation as MDNS.
func fakeEntry(instance, service string, port uint16, txt []string, a netip.Addr) *mdns.ServiceEntry {
	e := &mdns.ServiceEntry{
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
