package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// MinMDNSInterval is the shortest poll interval MDNS.Browse accepts: every
// poll multicasts a query on each interface.
const MinMDNSInterval = 250 * time.Millisecond

// freshWindow is how long after its last PTR answer an instance still
// counts as present in a poll (at least two polls): responders multicast a
// record at most once a second (RFC 6762 §6), however many browsers ask.
const freshWindow = 2 * time.Second

// MDNS is the Backend that speaks mDNS/DNS-SD (RFC 6762, RFC 6763) on the
// LAN with its own small responder and querier on github.com/miekg/dns and
// golang.org/x/net. Its zero value works: it uses every suitable interface
// and DefaultMissedPolls. Set the fields before the first call and do not
// change them afterwards; do not copy an MDNS after first use. Its methods
// are safe for concurrent use.
//
// Every socket binds UDP port 5353 with SO_REUSEADDR and SO_REUSEPORT,
// beside Avahi, Bonjour and other pumpnet processes, joins the mDNS group
// on its interface only (IPv4 224.0.0.251 if the interface has an IPv4
// address, IPv6 ff02::fb if it has an IPv6 one) and sends with IP TTL 255.
//
// Advertise runs one responder per interface and family. It announces the
// record (twice, a second apart; again after Update) and answers queries:
// a PTR query for the service gets the PTR in the Answer section and the
// SRV, TXT, A/AAAA and NSEC records in the Additional section; SRV, TXT,
// A and AAAA queries by name get those records; the unique records (all
// but the PTRs) carry the cache-flush bit; records it multicast on that
// interface less than a second ago are left out, and known answers with
// at least half their TTL are not repeated. Answers go by multicast,
// except to legacy unicast queries (from a port other than 5353: unicast
// to the querier with its ID and question, TTLs of at most 10 s, no
// cache-flush bits) and to queries whose every question has the QU bit
// (unicast). Stop multicasts a goodbye (every record with TTL 0). Every
// record has a TTL of 120 s. Names are unique by construction (the
// instance label, and "<instance>.local." as host name), so Advertise does
// not probe for conflicts.
//
// Browse runs one goroutine that polls every interval: it multicasts a
// query from port 5353 on each interface (QM: answers come by multicast,
// whole, to every mDNS socket of every host, so that one query serves all
// browsers) for the service's PTR, plus questions for the SRV and TXT
// records of instances it lacks them for and the A (and AAAA) records of
// their hosts; waits 3/4 of the interval; and reports every instance whose
// PTR arrived in the last 2 s (responders multicast a record at most once
// a second) with its SRV, TXT and every address. Receiver goroutines, one
// per socket, cache every answer of the service that arrives, for
// whichever query, in Answer or Additional sections, honour cache-flush
// bits and goodbyes, and keep at most 2048 records (256 per source
// address; Stats.Overflow counts the rest). Responses from a port other
// than 5353 are ignored (RFC 6762 §6). The tracker forgets a sighting
// missed in MissedPolls consecutive polls; a goodbye takes effect at the
// next poll, so a stopped advertisement is gone after MissedPolls polls.
// Since responders multicast a record at most once a second, a Browse that
// starts just after another querier's question may see the answers up to a
// second later.
// If an IPv6 socket cannot be opened or a send on it fails, that Browse
// uses IPv4 only on that interface from then on. Cancelling the context
// ends the wait at once; the channel is closed after the sockets are
// closed and every goroutine of the Browse has ended.
//
// Sockets are created on Browse's own goroutine and in Advertise's caller,
// so a test in network namespaces must run the whole process inside the
// namespace (see the package documentation).
type MDNS struct {
	// Interface is where to advertise and browse. Nil means every
	// interface that is up, running and multicast-capable, except loopback
	// and point-to-point links (VPNs), with at least one address; the list
	// is read at Advertise and at every Browse poll. Risk of nil: the
	// record (key fingerprint, port, display name) is multicast on every
	// such network, including a public Wi-Fi and virtual bridges (Docker,
	// VMs), and browsers may learn addresses of bridges they cannot reach.
	// Games should let the player choose, or pass the interface of the
	// default route.
	Interface *net.Interface
	// MissedPolls is how many consecutive polls may miss a record (or one
	// of its addresses) before Browse forgets it. 0 means
	// DefaultMissedPolls (3); negative is an error.
	MissedPolls int

	stats counters

	// Test seams; nil means the real thing.
	listen func(ifc *net.Interface, v6 bool) (packetConn, error)
	ifaces func(sel *net.Interface) ([]ifaceInfo, error)
}

// ifaceInfo is an interface with its usable addresses.
type ifaceInfo struct {
	iface  *net.Interface
	ips    []netip.Addr // ordered by orderAddrs, without zones
	v4, v6 bool
}

// Stats returns what m's browsers saw so far. Safe for concurrent use.
func (m *MDNS) Stats() Stats { return m.stats.stats() }

func (m *MDNS) interfaces() ([]ifaceInfo, error) {
	if m.ifaces != nil {
		return m.ifaces(m.Interface)
	}
	return listInterfaces(m.Interface)
}

func (m *MDNS) open(ifc *net.Interface, v6 bool) (packetConn, error) {
	if m.listen != nil {
		return m.listen(ifc, v6)
	}
	return listenMDNS(ifc, v6)
}

// eligible reports whether an interface with these flags is used when
// MDNS.Interface is nil.
func eligible(f net.Flags) bool {
	const need = net.FlagUp | net.FlagRunning | net.FlagMulticast
	return f&need == need && f&(net.FlagLoopback|net.FlagPointToPoint) == 0
}

// listInterfaces returns sel, or every eligible interface, with their
// addresses; interfaces without a usable address are left out. It returns
// ErrNoInterface when none is left.
func listInterfaces(sel *net.Interface) ([]ifaceInfo, error) {
	var list []net.Interface
	if sel != nil {
		list = []net.Interface{*sel}
	} else {
		all, err := net.Interfaces()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoInterface, err)
		}
		for _, ifc := range all {
			if eligible(ifc.Flags) {
				list = append(list, ifc)
			}
		}
	}
	var out []ifaceInfo
	for i := range list {
		addrs, err := list[i].Addrs()
		if err != nil {
			continue
		}
		if info := describe(&list[i], addrs); len(info.ips) > 0 {
			out = append(out, info)
		}
	}
	if len(out) == 0 {
		if sel != nil {
			return nil, fmt.Errorf("%w: %s has no usable address", ErrNoInterface, sel.Name)
		}
		return nil, ErrNoInterface
	}
	return out, nil
}

// describe collects an interface's usable unicast addresses.
func describe(ifc *net.Interface, addrs []net.Addr) ifaceInfo {
	info := ifaceInfo{iface: ifc}
	var as []netip.Addr
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if na, ok := netip.AddrFromSlice(ip); ok {
			as = appendAddr(as, na.Unmap())
		}
	}
	for _, a := range orderAddrs(as) {
		info.v4 = info.v4 || a.Is4()
		info.v6 = info.v6 || a.Is6()
		info.ips = append(info.ips, a)
	}
	return info
}

// orderAddrs orders addresses for a zone: IPv4 in reverse (the order of
// earlier versions, whose browsers kept the last A record: the interface's
// primary address, listed first by the OS, ends up last), then link-local
// IPv6, then other IPv6, zones dropped.
func orderAddrs(as []netip.Addr) []netip.Addr {
	var v4, ll, v6 []netip.Addr
	for _, a := range as {
		switch {
		case a.Is4():
			v4 = append(v4, a)
		case a.IsLinkLocalUnicast():
			ll = append(ll, a.WithZone(""))
		default:
			v6 = append(v6, a.WithZone(""))
		}
	}
	slices.Reverse(v4)
	return slices.Concat(v4, ll, v6)
}

// Advertise starts a responder for r on each interface and family (see
// MDNS). An empty r.Addrs advertises each interface's own addresses.
// Interfaces whose responder cannot start are skipped; Advertise fails
// only if none starts. It does not block beyond opening sockets and
// sending the first announcement. If ctx ends before every responder
// started, it stops those that did and returns an error matching
// ctx.Err().
func (m *MDNS) Advertise(ctx context.Context, service string, r Record) (Advertisement, error) {
	txt, err := prepare(service, r)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovery: advertise: %w", err)
	}
	infos, err := m.interfaces()
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, ErrNoInterface
	}
	ad := &mdnsAd{service: service}
	var first error
	for _, info := range infos {
		z := newZone(service, r, txt, info.ips)
		for _, v6 := range []bool{false, true} {
			if (!v6 && !info.v4) || (v6 && !info.v6) {
				continue
			}
			if err := ctx.Err(); err != nil {
				_ = ad.Stop()
				return nil, fmt.Errorf("discovery: advertise: %w", err)
			}
			c, err := m.open(info.iface, v6)
			if err != nil {
				if first == nil {
					first = fmt.Errorf("discovery: start mDNS responder on %s: %w", info.iface.Name, err)
				}
				continue
			}
			ad.resps = append(ad.resps, startResponder(c, info, v6, z))
		}
	}
	if len(ad.resps) == 0 {
		if first == nil {
			first = ErrNoInterface
		}
		return nil, first
	}
	return ad, nil
}

// mdnsAd is an MDNS advertisement: one responder per interface and family.
type mdnsAd struct {
	service string
	mu      sync.Mutex
	resps   []*responder
	stopped bool
}

// Update swaps every responder's zone and announces the new record. If r
// is invalid, the old record stays everywhere.
func (ad *mdnsAd) Update(r Record) error {
	txt, err := prepare(ad.service, r)
	if err != nil {
		return err
	}
	ad.mu.Lock()
	defer ad.mu.Unlock()
	if ad.stopped {
		return ErrStopped
	}
	for _, rs := range ad.resps {
		rs.update(newZone(ad.service, r, txt, rs.info.ips))
	}
	return nil
}

// Stop multicasts goodbyes, closes the sockets and waits for the
// responders' goroutines to end.
func (ad *mdnsAd) Stop() error {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	if ad.stopped {
		return nil
	}
	ad.stopped = true
	var first error
	for _, rs := range ad.resps {
		if err := rs.stop(); err != nil && first == nil {
			first = fmt.Errorf("discovery: stop mDNS responder: %w", err)
		}
	}
	return first
}

// responder answers for one zone on one socket (see MDNS).
type responder struct {
	conn  packetConn
	info  ifaceInfo
	group netip.AddrPort
	zone  atomic.Pointer[zoneData]
	kick  chan struct{} // capacity 1: announce (again)
	done  chan struct{}
	wg    sync.WaitGroup

	mu     sync.Mutex
	lastMC map[string]time.Time // rrKey → last multicast on this socket
}

func startResponder(c packetConn, info ifaceInfo, v6 bool, z *zoneData) *responder {
	rs := &responder{conn: c, info: info, group: mdnsGroup4, kick: make(chan struct{}, 1), done: make(chan struct{}), lastMC: make(map[string]time.Time)}
	if v6 {
		rs.group = mdnsGroup6
	}
	rs.zone.Store(z)
	rs.kick <- struct{}{}
	rs.wg.Add(2)
	go rs.serve()
	go rs.announce()
	return rs
}

// serve answers queries until the socket is closed.
func (rs *responder) serve() {
	defer rs.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, src, idx, err := rs.conn.ReadFrom(buf)
		if err != nil {
			if rs.closing(err) {
				return
			}
			continue
		}
		if idx != 0 && idx != rs.info.iface.Index {
			continue
		}
		var q dns.Msg
		if q.Unpack(buf[:n]) != nil {
			continue
		}
		z := rs.zone.Load()
		if rep := z.answerQuery(&q, src, rs.recent); rep != nil {
			dst := rs.group
			if rep.unicast {
				dst = src
			}
			rs.send(rep.msg, dst, !rep.unicast)
		}
	}
}

// closing reports whether a read error means the responder is stopping;
// it pauses briefly after other errors, so that a failing socket does not
// spin.
func (rs *responder) closing(err error) bool {
	select {
	case <-rs.done:
		return true
	default:
	}
	if errors.Is(err, net.ErrClosed) {
		return true
	}
	select {
	case <-rs.done:
		return true
	case <-time.After(10 * time.Millisecond):
		return false
	}
}

// announce multicasts the zone when kicked, and once more a second later
// (RFC 6762 §8.3), until stopped.
func (rs *responder) announce() {
	defer rs.wg.Done()
	again := time.NewTimer(time.Hour)
	again.Stop()
	defer again.Stop()
	for {
		select {
		case <-rs.done:
			return
		case <-rs.kick:
			again.Reset(time.Second)
		case <-again.C:
		}
		answers, extra := rs.zone.Load().all()
		rs.send(&dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Compress: true, Answer: answers, Extra: extra}, rs.group, true)
	}
}

// recent reports whether the record with rrKey k was multicast on this
// socket less than multicastGap ago.
func (rs *responder) recent(k string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	t, ok := rs.lastMC[k]
	return ok && time.Since(t) < multicastGap
}

// send packs and sends msg; a multicast is remembered per record.
func (rs *responder) send(msg *dns.Msg, dst netip.AddrPort, multicast bool) {
	b, err := msg.Pack()
	if err != nil || len(b) > maxPacket {
		return
	}
	if rs.conn.WriteTo(b, dst) != nil || !multicast {
		return
	}
	now := time.Now()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k, t := range rs.lastMC {
		if now.Sub(t) >= multicastGap {
			delete(rs.lastMC, k)
		}
	}
	for _, rr := range append(slices.Clone(msg.Answer), msg.Extra...) {
		rs.lastMC[rrKey(rr)] = now
	}
}

// update swaps the zone and announces it; records of an old instance name
// get a goodbye.
func (rs *responder) update(z *zoneData) {
	old := rs.zone.Swap(z)
	if old.instance != z.instance {
		rs.goodbye(old)
	}
	rs.mu.Lock()
	clear(rs.lastMC)
	rs.mu.Unlock()
	select {
	case rs.kick <- struct{}{}:
	default:
	}
}

// goodbye multicasts z's records with TTL 0.
func (rs *responder) goodbye(z *zoneData) {
	answers, _ := z.all()
	rs.send(&dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Compress: true, Answer: goodbye(answers)}, rs.group, false)
}

// stop says goodbye, closes the socket and waits for the goroutines.
func (rs *responder) stop() error {
	rs.goodbye(rs.zone.Load())
	close(rs.done)
	err := rs.conn.Close()
	rs.wg.Wait()
	return err
}

// Browse polls the LAN for records of service; see Backend.Browse and
// MDNS. The interval must be at least MinMDNSInterval (0 means
// DefaultInterval).
func (m *MDNS) Browse(ctx context.Context, service string, interval time.Duration) (<-chan []Record, error) {
	if err := checkService(service); err != nil {
		return nil, err
	}
	interval, err := browseInterval(interval, MinMDNSInterval)
	if err != nil {
		return nil, err
	}
	missed := m.MissedPolls
	switch {
	case missed == 0:
		missed = DefaultMissedPolls
	case missed < 0:
		return nil, fmt.Errorf("%w: MissedPolls %d", ErrInvalidInterval, missed)
	}
	q := &querier{
		m:       m,
		service: service,
		timeout: interval * 3 / 4,
		cache:   newCache(service, max(freshWindow, 2*interval)),
		socks:   make(map[sockKey]*browseSock),
		noV6:    make(map[string]bool),
	}
	return browse(ctx, interval, newTracker(service, missed), q.poll, &m.stats, q.close), nil
}

// sockKey names a browser's socket: an interface and a family.
type sockKey struct {
	iface string
	v6    bool
}

type browseSock struct {
	conn  packetConn
	index int
	group netip.AddrPort
}

// querier runs the queries of one Browse. Its poll and close run on that
// Browse's goroutine; its receivers write the cache under mu.
type querier struct {
	m       *MDNS
	service string
	timeout time.Duration
	socks   map[sockKey]*browseSock
	noV6    map[string]bool // interfaces where IPv6 failed
	wg      sync.WaitGroup  // receivers

	mu      sync.Mutex
	cache   *cache
	dropped uint64 // cache.dropped already counted in Stats
}

// poll opens sockets for new interfaces (closing those of interfaces that
// are gone), multicasts the queries, waits for answers and returns what the
// cache holds.
func (q *querier) poll(ctx context.Context) ([]*svcEntry, uint64) {
	var failed uint64
	infos, err := q.m.interfaces()
	if err != nil {
		failed++
	}
	want := make(map[sockKey]bool)
	v6 := false
	for _, info := range infos {
		if info.v4 {
			want[sockKey{info.iface.Name, false}] = true
		}
		if info.v6 && !q.noV6[info.iface.Name] {
			want[sockKey{info.iface.Name, true}] = true
		}
	}
	for k, s := range q.socks {
		if !want[k] {
			s.conn.Close()
			delete(q.socks, k)
		}
	}
	for _, info := range infos {
		for _, fam := range []bool{false, true} {
			k := sockKey{info.iface.Name, fam}
			if !want[k] || q.socks[k] != nil {
				continue
			}
			c, err := q.m.open(info.iface, fam)
			if err != nil {
				failed++
				if fam && info.v4 {
					q.noV6[info.iface.Name] = true
				}
				continue
			}
			s := &browseSock{conn: c, index: info.iface.Index, group: mdnsGroup4}
			if fam {
				s.group = mdnsGroup6
			}
			q.socks[k] = s
			q.wg.Add(1)
			go q.receive(s, info.iface.Name)
		}
	}
	for k := range q.socks {
		v6 = v6 || k.v6
	}
	q.mu.Lock()
	_, ask := q.cache.resolve(time.Now(), v6)
	q.mu.Unlock()
	packets := queries(q.service, ask)
	for k, s := range q.socks {
		for _, p := range packets {
			if err := s.conn.WriteTo(p, s.group); err != nil {
				failed++
				if k.v6 {
					q.noV6[k.iface] = true
					s.conn.Close()
					delete(q.socks, k)
				}
				break
			}
		}
	}
	wait := time.NewTimer(q.timeout)
	select {
	case <-ctx.Done():
	case <-wait.C:
	}
	wait.Stop()
	q.mu.Lock()
	entries, _ := q.cache.resolve(time.Now(), v6)
	dropped := q.cache.dropped - q.dropped
	q.dropped = q.cache.dropped
	q.mu.Unlock()
	q.m.stats.overflow.Add(dropped)
	return entries, failed
}

// receive caches the answers that reach one socket until it is closed.
func (q *querier) receive(s *browseSock, zone string) {
	defer q.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, src, idx, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if idx != 0 && idx != s.index {
			continue
		}
		var msg dns.Msg
		if msg.Unpack(buf[:n]) != nil {
			continue
		}
		q.mu.Lock()
		q.cache.add(&msg, src, zone, time.Now())
		q.mu.Unlock()
	}
}

// close closes every socket and waits for the receivers.
func (q *querier) close() {
	for k, s := range q.socks {
		s.conn.Close()
		delete(q.socks, k)
	}
	q.wg.Wait()
}
