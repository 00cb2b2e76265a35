package discovery

// The mDNS/DNS-SD messages of the MDNS backend (RFC 6762, RFC 6763): what
// a responder answers, what a browser asks and what it keeps of the
// answers. Nothing here touches a socket or a clock of its own; the time is
// passed in, so that tests can drive it packet by packet.

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

const (
	// mdnsPort is the mDNS port (RFC 6762 §3).
	mdnsPort = 5353
	// maxPacket is the largest mDNS message read or sent (RFC 6762 §17).
	maxPacket = 9000
	// maxQueryPacket bounds the queries a browser sends, to stay below a
	// common Ethernet MTU.
	maxQueryPacket = 1400
	// cacheFlush is the cache-flush bit of an RR class (RFC 6762 §10.2),
	// and unicastResponse the QU bit of a question class (§5.4).
	cacheFlush      = 1 << 15
	unicastResponse = 1 << 15
	// recordTTL is the TTL of every record advertised, in seconds (RFC 6762
	// §10 recommends 120 s for records that name a host). Records of game
	// sessions come and go, so PTR and TXT use it too.
	recordTTL = 120
	// legacyTTL caps TTLs in answers to legacy unicast queries (§6.7).
	legacyTTL = 10
	// multicastGap is the least time between two multicasts of one record
	// on one interface (RFC 6762 §6).
	multicastGap = time.Second
	// flushGrace is how long records are kept after a cache-flush record
	// or a goodbye (RFC 6762 §10.1, §10.2).
	flushGrace = time.Second
	// servicesName is the DNS-SD service type enumeration name (RFC 6763
	// §9).
	servicesName = "_services._dns-sd._udp.local."
)

var (
	mdnsGroup4 = netip.AddrPortFrom(netip.AddrFrom4([4]byte{224, 0, 0, 251}), mdnsPort)
	mdnsGroup6 = netip.AddrPortFrom(netip.MustParseAddr("ff02::fb"), mdnsPort)
)

// rrKey identifies a record by name, type and data, ignoring case of the
// name, the class's cache-flush bit and the TTL.
func rrKey(rr dns.RR) string {
	c := dns.Copy(rr)
	h := c.Header()
	h.Name = strings.ToLower(h.Name)
	h.Class &^= cacheFlush
	h.Ttl = 0
	if srv, ok := c.(*dns.SRV); ok {
		srv.Target = strings.ToLower(srv.Target)
	}
	if ptr, ok := c.(*dns.PTR); ok {
		ptr.Ptr = strings.ToLower(ptr.Ptr)
	}
	return c.String()
}

// zoneData is what one responder answers for: one instance of one service
// on one interface. It is immutable once built.
type zoneData struct {
	service  string // "_type._udp.local."
	instance string // "<instance>._type._udp.local."
	host     string // "<instance>.local."
	ptr      dns.RR // service → instance (shared)
	enum     dns.RR // _services._dns-sd._udp.local. → service (shared)
	srv, txt dns.RR // unique
	addrs    []dns.RR
	nsecInst dns.RR // the instance has SRV and TXT only
	nsecHost dns.RR // the host has these address types only
}

// newZone builds the records for r (validated by prepare) with txt, on an
// interface whose addresses are ifaceIPs (used when r.Addrs is empty).
// Zones of link-local IPv6 addresses are dropped: DNS has none.
func newZone(service string, r Record, txt []string, ifaceIPs []netip.Addr) *zoneData {
	svc := service + ".local."
	z := &zoneData{service: svc, instance: r.Instance + "." + svc, host: r.Instance + ".local."}
	hdr := func(name string, t uint16, unique bool) dns.RR_Header {
		class := uint16(dns.ClassINET)
		if unique {
			class |= cacheFlush
		}
		return dns.RR_Header{Name: name, Rrtype: t, Class: class, Ttl: recordTTL}
	}
	z.ptr = &dns.PTR{Hdr: hdr(svc, dns.TypePTR, false), Ptr: z.instance}
	z.enum = &dns.PTR{Hdr: hdr(servicesName, dns.TypePTR, false), Ptr: svc}
	z.srv = &dns.SRV{Hdr: hdr(z.instance, dns.TypeSRV, true), Port: r.Port, Target: z.host}
	z.txt = &dns.TXT{Hdr: hdr(z.instance, dns.TypeTXT, true), Txt: slices.Clone(txt)}
	ips := ifaceIPs
	if len(r.Addrs) > 0 {
		ips = r.Addrs
	}
	hostTypes := []uint16{}
	for _, a := range orderAddrs(ips) {
		if a.Is4() {
			z.addrs = append(z.addrs, &dns.A{Hdr: hdr(z.host, dns.TypeA, true), A: net.IP(a.AsSlice())})
			if !slices.Contains(hostTypes, dns.TypeA) {
				hostTypes = append(hostTypes, dns.TypeA)
			}
		} else {
			z.addrs = append(z.addrs, &dns.AAAA{Hdr: hdr(z.host, dns.TypeAAAA, true), AAAA: net.IP(a.AsSlice())})
			if !slices.Contains(hostTypes, dns.TypeAAAA) {
				hostTypes = append(hostTypes, dns.TypeAAAA)
			}
		}
	}
	slices.Sort(hostTypes)
	z.nsecInst = &dns.NSEC{Hdr: hdr(z.instance, dns.TypeNSEC, true), NextDomain: z.instance, TypeBitMap: []uint16{dns.TypeTXT, dns.TypeSRV}}
	z.nsecHost = &dns.NSEC{Hdr: hdr(z.host, dns.TypeNSEC, true), NextDomain: z.host, TypeBitMap: hostTypes}
	return z
}

// all returns every record of z: answers first (PTR), then the unique
// records, as an announcement or a goodbye carries them.
func (z *zoneData) all() (answers, extra []dns.RR) {
	answers = []dns.RR{z.ptr, z.srv, z.txt}
	answers = append(answers, z.addrs...)
	return answers, []dns.RR{z.nsecInst, z.nsecHost}
}

// addrsOf returns the address records of z of type t (dns.TypeANY: all).
func (z *zoneData) addrsOf(t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.addrs {
		if t == dns.TypeANY || rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

// answerQuestion returns what z answers to q, and what it adds to the
// Additional section (RFC 6763 §12): SRV, TXT and addresses after a PTR,
// addresses after an SRV, and NSEC records saying which types a name does
// not have (RFC 6762 §6.1).
func (z *zoneData) answerQuestion(q dns.Question) (answers, extra []dns.RR) {
	if q.Qclass&^unicastResponse != dns.ClassINET && q.Qclass&^unicastResponse != dns.ClassANY {
		return nil, nil
	}
	name := q.Name
	any := q.Qtype == dns.TypeANY
	switch {
	case strings.EqualFold(name, z.service):
		if q.Qtype == dns.TypePTR || any {
			answers = []dns.RR{z.ptr}
			extra = append([]dns.RR{z.srv, z.txt}, z.addrs...)
			extra = append(extra, z.nsecInst, z.nsecHost)
		}
	case strings.EqualFold(name, servicesName):
		if q.Qtype == dns.TypePTR || any {
			answers = []dns.RR{z.enum}
		}
	case strings.EqualFold(name, z.instance):
		switch {
		case any:
			answers = []dns.RR{z.srv, z.txt}
		case q.Qtype == dns.TypeSRV:
			answers = []dns.RR{z.srv}
		case q.Qtype == dns.TypeTXT:
			answers = []dns.RR{z.txt}
		default:
			answers = []dns.RR{z.nsecInst}
		}
		if q.Qtype != dns.TypeTXT {
			extra = append(slices.Clone(z.addrs), z.nsecHost)
		}
	case strings.EqualFold(name, z.host):
		switch {
		case any:
			answers = z.addrsOf(dns.TypeANY)
		case q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA:
			answers = z.addrsOf(q.Qtype)
		}
		if len(answers) == 0 {
			answers = []dns.RR{z.nsecHost}
		} else {
			extra = []dns.RR{z.nsecHost}
		}
	}
	return answers, extra
}

// reply is a response a responder sends: to the group, or unicast to a
// querier.
type reply struct {
	msg     *dns.Msg
	unicast bool // to the querier's address and port, not the group
}

// answerQuery returns z's reply to query, received from src, or nil. It
// follows RFC 6762: queries only (QR clear, opcode and rcode 0); known
// answers with at least half our TTL are not repeated (§7.1); a query from
// a port other than 5353 is a legacy unicast query, answered unicast with
// its ID and questions, TTLs of at most 10 s and no cache-flush bits
// (§6.7, §10.2); a query whose every question asks for a unicast response
// (QU) is answered unicast (§5.4); any other answer is multicast, without
// the records multicast on this interface less than a second ago (§6).
// recent reports that; answerQuery does not record the multicast (the
// caller does when it sends).
func (z *zoneData) answerQuery(query *dns.Msg, src netip.AddrPort, recent func(key string) bool) *reply {
	if query.Response || query.Opcode != dns.OpcodeQuery || query.Rcode != dns.RcodeSuccess || len(query.Question) == 0 {
		return nil
	}
	legacy := src.Port() != mdnsPort
	allQU := true
	var answers, extra []dns.RR
	for _, q := range query.Question {
		if q.Qclass&unicastResponse == 0 {
			allQU = false
		}
		a, e := z.answerQuestion(q)
		answers = append(answers, a...)
		extra = append(extra, e...)
	}
	known := make(map[string]bool)
	for _, rr := range query.Answer {
		if rr.Header().Ttl >= recordTTL/2 {
			known[rrKey(rr)] = true
		}
	}
	seen := make(map[string]bool)
	unicast := legacy || allQU
	keep := func(rrs []dns.RR, suppress bool) []dns.RR {
		var out []dns.RR
		for _, rr := range rrs {
			k := rrKey(rr)
			if seen[k] || (suppress && known[k]) || (!unicast && recent(k)) {
				continue
			}
			seen[k] = true
			out = append(out, rr)
		}
		return out
	}
	answers = keep(answers, true)
	if len(answers) == 0 {
		return nil
	}
	extra = keep(extra, false)
	msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Compress: true, Answer: answers, Extra: extra}
	if legacy {
		msg.Id = query.Id
		msg.Question = slices.Clone(query.Question)
		for i := range msg.Question {
			msg.Question[i].Qclass &^= unicastResponse
		}
		msg.Answer = legacyRRs(msg.Answer)
		msg.Extra = legacyRRs(msg.Extra)
	}
	return &reply{msg: msg, unicast: unicast}
}

// legacyRRs copies rrs with TTLs capped at legacyTTL and no cache-flush
// bits.
func legacyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		h := c.Header()
		h.Class &^= cacheFlush
		h.Ttl = min(h.Ttl, legacyTTL)
		out[i] = c
	}
	return out
}

// goodbye copies rrs with TTL 0 (RFC 6762 §10.1).
func goodbye(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		out[i] = c
	}
	return out
}

// Bounds on a browser's cache, so that a hostile LAN cannot grow it.
const (
	maxCached       = 2048 // records in all
	maxCachedPerSrc = 256  // records from one source address
	maxFollowUps    = 32   // names asked about again in one poll
)

// cached is a record a browser keeps.
type cached struct {
	rr      dns.RR
	key     string // rrKey
	name    string // lower case
	src     netip.Addr
	zone    string // the receiving interface, for link-local addresses
	seen    time.Time
	expires time.Time
}

// cache holds what a browser learnt about one service: PTR records of the
// service, SRV and TXT records of its instances, and address records of the
// hosts those SRV records name. It is not safe for concurrent use.
type cache struct {
	service string // "_type._udp.local.", lower case
	suffix  string // "." + service
	window  time.Duration
	byName  map[string]map[string]*cached // name → rrKey → record
	n       int
	perSrc  map[netip.Addr]int
	hosts   map[string]bool // hosts named by SRV records, refreshed by resolve
	dropped uint64          // records refused because a bound was reached
}

// newCache returns a cache for service ("_type._udp") that reports an
// instance while its PTR was received within window.
func newCache(service string, window time.Duration) *cache {
	s := strings.ToLower(service) + ".local."
	return &cache{service: s, suffix: "." + s, window: window, byName: make(map[string]map[string]*cached),
		perSrc: make(map[netip.Addr]int), hosts: make(map[string]bool)}
}

// add folds one received message into the cache. It keeps only responses
// (QR set, opcode and rcode 0) from port 5353 (RFC 6762 §6), and of their
// Answer and Additional sections only records of the service; address
// records only for hosts that an SRV record of the service names. A record
// with TTL 0 is a goodbye; a unique record with the cache-flush bit
// replaces older records of its name and type (RFC 6762 §10.2).
func (c *cache) add(msg *dns.Msg, src netip.AddrPort, zone string, now time.Time) {
	if !msg.Response || msg.Opcode != dns.OpcodeQuery || msg.Rcode != dns.RcodeSuccess || src.Port() != mdnsPort {
		return
	}
	rrs := append(slices.Clone(msg.Answer), msg.Extra...)
	for _, rr := range rrs {
		if srv, ok := rr.(*dns.SRV); ok && srv.Hdr.Ttl > 0 && c.ofService(srv.Hdr.Name) && len(c.hosts) < maxCached {
			c.hosts[strings.ToLower(srv.Target)] = true
		}
	}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class&^cacheFlush != dns.ClassINET {
			continue
		}
		name := strings.ToLower(h.Name)
		switch rr := rr.(type) {
		case *dns.PTR:
			if name != c.service || !c.ofService(rr.Ptr) {
				continue
			}
		case *dns.SRV, *dns.TXT:
			if !c.ofService(name) {
				continue
			}
		case *dns.A, *dns.AAAA:
			if !c.hosts[name] {
				continue
			}
		default:
			continue
		}
		c.put(rr, name, src.Addr(), zone, now)
	}
}

// ofService reports whether name is "<instance>.<service>.local." for a
// single-label instance.
func (c *cache) ofService(name string) bool {
	if len(name) <= len(c.suffix) || !strings.EqualFold(name[len(name)-len(c.suffix):], c.suffix) {
		return false
	}
	return !strings.Contains(strings.ReplaceAll(name[:len(name)-len(c.suffix)], `\.`, ""), ".")
}

// put stores one record, applying goodbyes, cache-flush and the bounds.
func (c *cache) put(rr dns.RR, name string, src netip.Addr, zone string, now time.Time) {
	h := rr.Header()
	key := rrKey(rr)
	same := c.byName[name]
	if h.Ttl == 0 { // goodbye: keep it a second, but no longer as fresh
		if e := same[key]; e != nil {
			e.expires = minTime(e.expires, now.Add(flushGrace))
			e.seen = time.Time{}
		}
		return
	}
	if h.Class&cacheFlush != 0 {
		for _, e := range same {
			if e.rr.Header().Rrtype == h.Rrtype && e.key != key && now.Sub(e.seen) > flushGrace && e.expires.After(now.Add(flushGrace)) {
				e.expires = now.Add(flushGrace)
			}
		}
	}
	expires := now.Add(time.Duration(min(h.Ttl, 4500)) * time.Second)
	if e := same[key]; e != nil {
		e.rr, e.seen, e.expires, e.zone = rr, now, expires, zone
		if e.src != src {
			c.release(e.src)
			e.src = src
			c.perSrc[src]++
		}
		return
	}
	if c.n >= maxCached || c.perSrc[src] >= maxCachedPerSrc {
		c.expire(now)
		if c.n >= maxCached || c.perSrc[src] >= maxCachedPerSrc {
			c.dropped++
			return
		}
	}
	if same == nil {
		same = make(map[string]*cached)
		c.byName[name] = same
	}
	same[key] = &cached{rr: rr, key: key, name: name, src: src, zone: zone, seen: now, expires: expires}
	c.n++
	c.perSrc[src]++
}

func (c *cache) release(src netip.Addr) {
	if c.perSrc[src]--; c.perSrc[src] <= 0 {
		delete(c.perSrc, src)
	}
}

// expire forgets expired records.
func (c *cache) expire(now time.Time) {
	for name, same := range c.byName {
		for k, e := range same {
			if !now.Before(e.expires) {
				delete(same, k)
				c.n--
				c.release(e.src)
			}
		}
		if len(same) == 0 {
			delete(c.byName, name)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// newest returns the record of name and type t seen last (the cache has
// just expired what is stale).
func (c *cache) newest(name string, t uint16) *cached {
	var best *cached
	for _, e := range c.byName[name] {
		if e.rr.Header().Rrtype == t && (best == nil || e.seen.After(best.seen) || (e.seen.Equal(best.seen) && e.key < best.key)) {
			best = e
		}
	}
	return best
}

// resolve returns the instances of the service whose PTR was received
// within the window, as entries (one per address), and the questions to
// ask about instances or hosts it lacks SRV, TXT or addresses of (by
// instance name, RFC 6763 §12: never a PTR on an instance), at most
// maxFollowUps names. v6 says whether to ask for AAAA records too.
func (c *cache) resolve(now time.Time, v6 bool) ([]*svcEntry, []dns.Question) {
	c.expire(now)
	var instances []string
	for _, e := range c.byName[c.service] {
		if ptr, ok := e.rr.(*dns.PTR); ok && !e.seen.IsZero() && now.Sub(e.seen) <= c.window {
			if n := strings.ToLower(ptr.Ptr); !slices.Contains(instances, n) {
				instances = append(instances, n)
			}
		}
	}
	slices.Sort(instances)
	var entries []*svcEntry
	var ask []dns.Question
	asked := 0
	follow := func(name string, types ...uint16) {
		if asked >= maxFollowUps {
			return
		}
		asked++
		for _, t := range types {
			ask = append(ask, dns.Question{Name: name, Qtype: t, Qclass: dns.ClassINET})
		}
	}
	hosts := make(map[string]bool)
	for _, inst := range instances {
		srv, txt := c.newest(inst, dns.TypeSRV), c.newest(inst, dns.TypeTXT)
		if srv == nil || txt == nil {
			follow(inst, dns.TypeSRV, dns.TypeTXT)
			continue
		}
		s := srv.rr.(*dns.SRV)
		host := strings.ToLower(s.Target)
		hosts[host] = true
		base := svcEntry{Name: inst, Host: s.Target, Port: int(s.Port), InfoFields: txt.rr.(*dns.TXT).Txt}
		n := 0
		for _, e := range c.byName[host] {
			en := base
			en.InfoFields = slices.Clone(base.InfoFields)
			switch a := e.rr.(type) {
			case *dns.A:
				en.AddrV4 = slices.Clone(a.A)
			case *dns.AAAA:
				en.AddrV6 = slices.Clone(a.AAAA)
				en.AddrV6IPAddr = &net.IPAddr{IP: en.AddrV6}
				if a.AAAA.IsLinkLocalUnicast() {
					en.AddrV6IPAddr.Zone = e.zone
				}
			default:
				continue
			}
			entries = append(entries, &en)
			n++
		}
		if n == 0 {
			if v6 {
				follow(s.Target, dns.TypeA, dns.TypeAAAA)
			} else {
				follow(s.Target, dns.TypeA)
			}
		}
	}
	// Hosts of SRV records still cached stay known, so that their
	// addresses are kept when they arrive apart from the SRV.
	for _, same := range c.byName {
		for _, e := range same {
			if srv, ok := e.rr.(*dns.SRV); ok {
				hosts[strings.ToLower(srv.Target)] = true
			}
		}
	}
	c.hosts = hosts
	return entries, ask
}

// queries packs a browse query (PTR for the service, QM) and the follow-up
// questions into messages of at most maxQueryPacket bytes, sent from port
// 5353 so that responders answer by multicast with whole packets.
func queries(service string, follow []dns.Question) [][]byte {
	qs := append([]dns.Question{{Name: service + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}}, follow...)
	var out [][]byte
	msg := &dns.Msg{Compress: true}
	flush := func() {
		if len(msg.Question) == 0 {
			return
		}
		if b, err := msg.Pack(); err == nil {
			out = append(out, b)
		}
		msg = &dns.Msg{Compress: true}
	}
	for _, q := range qs {
		msg.Question = append(msg.Question, q)
		if msg.Len() > maxQueryPacket && len(msg.Question) > 1 {
			msg.Question = msg.Question[:len(msg.Question)-1]
			flush()
			msg.Question = append(msg.Question, q)
		}
	}
	flush()
	return out
}
