package discovery

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
)

// MinMDNSInterval is the shortest poll interval MDNS.Browse accepts: every
// poll multicasts a query on each interface.
const MinMDNSInterval = 250 * time.Millisecond

// queryEntries is the buffer of each query's Entries channel. hashicorp/mdns
// drops entries it cannot send at once, and it passes on complete answers of
// every service that reach its sockets during the query, so the buffer is
// generous.
const queryEntries = 256

// silentLogger replaces hashicorp/mdns's default logger, which writes to
// stderr for every unparsable packet on the LAN.
var silentLogger = log.New(io.Discard, "", 0)

// MDNS is the Backend that uses mDNS/DNS-SD on the LAN through
// hashicorp/mdns. Its zero value works: it uses every suitable interface
// and DefaultMissedPolls. Set the fields before the first call and do not
// change them afterwards; do not copy an MDNS after first use. Its methods
// are safe for concurrent use.
//
// Advertise runs one hashicorp/mdns responder per interface (each binds UDP
// port 5353 with SO_REUSEADDR, beside any system responder). The responder
// answers from a zone that Update swaps atomically; hashicorp/mdns sends no
// announcements and no goodbyes, so browsers notice a stopped advertisement
// only when it has been missed in MissedPolls consecutive polls (and, much
// sooner, through the connection itself).
//
// Browse runs one goroutine that, every interval, queries each interface
// in parallel (mdns.QueryContext with a buffered Entries channel of 256, a
// timeout of 3/4 of the interval, IPv4 only if the interface has an IPv4
// address and IPv6 only if it has an IPv6 address), reads the entries only
// after the queries have returned (hashicorp/mdns keeps writing into
// entries it has already sent), keeps those named
// "<instance>.<service>.local.", parses their TXT, merges addresses per
// sighting (ID, instance, port) and forgets sightings and addresses missed
// in MissedPolls consecutive polls.
// If a query with IPv6 enabled fails (hashicorp/mdns then loses the IPv4
// answers too), that Browse queries the interface over IPv4 only from then
// on. hashicorp/mdns keeps only the last A and the last AAAA answer per
// instance, so a browser learns about one IPv4 and one IPv6 address per
// responding interface; Advertise orders addresses so that the most useful
// come last. Cancelling the context takes effect when the running query's
// timeout ends; the channel is closed after that.
//
// hashicorp/mdns starts goroutines of its own (up to five per query, two per
// responder) that end soon after it closes their sockets but that nothing
// waits for: leak checks around the real backend need a grace period.
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
	query     func(context.Context, *mdns.QueryParam) error
	newServer func(*mdns.Config) (responder, error)
	ifaces    func(sel *net.Interface) ([]ifaceInfo, error)
}

// responder is what Advertise keeps of an *mdns.Server.
type responder interface{ Shutdown() error }

// ifaceInfo is an interface with its usable addresses.
type ifaceInfo struct {
	iface  *net.Interface
	ips    []net.IP // ordered for hashicorp/mdns (see orderAddrs)
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

func (m *MDNS) startServer(c *mdns.Config) (responder, error) {
	if m.newServer != nil {
		return m.newServer(c)
	}
	return mdns.NewServer(c)
}

func (m *MDNS) runQuery(ctx context.Context, p *mdns.QueryParam) error {
	if m.query != nil {
		return m.query(ctx, p)
	}
	return mdns.QueryContext(ctx, p)
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
		info.ips = append(info.ips, ipOf(a))
	}
	return info
}

// orderAddrs orders addresses for a zone. hashicorp/mdns browsers keep the
// last A and the last AAAA answer, so the most useful of each family comes
// last: IPv4 in reverse (the interface's primary address, listed first by
// the OS, ends up last), then link-local IPv6, then other IPv6.
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

// zone answers for the current record; Update swaps it, Stop clears it.
type zone struct {
	svc atomic.Pointer[mdns.MDNSService]
}

// Records implements mdns.Zone.
func (z *zone) Records(q dns.Question) []dns.RR {
	if s := z.svc.Load(); s != nil {
		return s.Records(q)
	}
	return nil
}

// newService builds the zone content for r on one interface (zones of
// link-local addresses are dropped: DNS has none). The host name
// is "<instance>.local.", so that two advertisers on one machine and the
// system's own responder never share a host name.
func newService(service string, r Record, txt []string, ifaceIPs []net.IP) (*mdns.MDNSService, error) {
	ips := ifaceIPs
	if len(r.Addrs) > 0 {
		ips = nil
		for _, a := range orderAddrs(r.Addrs) {
			ips = append(ips, ipOf(a))
		}
	}
	s, err := mdns.NewMDNSService(r.Instance, service, "local.", r.Instance+".local.", int(r.Port), ips, txt)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	return s, nil
}

// Advertise starts a responder for r on each interface (see MDNS). An
// empty r.Addrs advertises each interface's own addresses. Interfaces
// whose responder cannot start are skipped; Advertise fails only if none
// starts. It does not block beyond opening sockets.
func (m *MDNS) Advertise(service string, r Record) (Advertisement, error) {
	txt, err := prepare(service, r)
	if err != nil {
		return nil, err
	}
	infos, err := m.interfaces()
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, ErrNoInterface
	}
	svcs := make([]*mdns.MDNSService, len(infos))
	for i, info := range infos {
		if svcs[i], err = newService(service, r, txt, info.ips); err != nil {
			return nil, err
		}
	}
	ad := &mdnsAd{service: service}
	var first error
	for i, info := range infos {
		z := &zone{}
		z.svc.Store(svcs[i])
		srv, err := m.startServer(&mdns.Config{Zone: z, Iface: info.iface, Logger: silentLogger})
		if err != nil {
			if first == nil {
				first = fmt.Errorf("discovery: start mDNS responder on %s: %w", info.iface.Name, err)
			}
			continue
		}
		ad.slots = append(ad.slots, adSlot{srv: srv, zone: z, ips: info.ips})
	}
	if len(ad.slots) == 0 {
		return nil, first
	}
	return ad, nil
}

// mdnsAd is an MDNS advertisement: one responder per interface.
type mdnsAd struct {
	service string
	mu      sync.Mutex
	slots   []adSlot
	stopped bool
}

type adSlot struct {
	srv  responder
	zone *zone
	ips  []net.IP // the interface's addresses when Advertise ran
}

// Update swaps every responder's zone. If r is invalid, the old record
// stays everywhere.
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
	svcs := make([]*mdns.MDNSService, len(ad.slots))
	for i, s := range ad.slots {
		if svcs[i], err = newService(ad.service, r, txt, s.ips); err != nil {
			return err
		}
	}
	for i, s := range ad.slots {
		s.zone.svc.Store(svcs[i])
	}
	return nil
}

// Stop clears the zones and shuts the responders down. hashicorp/mdns's
// Shutdown closes the sockets but does not wait for its two receive
// goroutines per responder, which end as soon as their read fails.
func (ad *mdnsAd) Stop() error {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	if ad.stopped {
		return nil
	}
	ad.stopped = true
	var first error
	for _, s := range ad.slots {
		s.zone.svc.Store(nil)
		if err := s.srv.Shutdown(); err != nil && first == nil {
			first = fmt.Errorf("discovery: stop mDNS responder: %w", err)
		}
	}
	return first
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
	q := &querier{m: m, sel: m.Interface, service: service, timeout: interval * 3 / 4, noV6: make(map[string]bool)}
	return browse(ctx, interval, newTracker(service, missed), q.poll, &m.stats), nil
}

// querier runs the queries of one Browse. It is used only by that
// Browse's goroutine.
type querier struct {
	m       *MDNS
	sel     *net.Interface
	service string
	timeout time.Duration
	noV6    map[string]bool // interfaces where a query with IPv6 failed
}

// poll queries every interface in parallel and returns after all queries
// have returned.
func (q *querier) poll(ctx context.Context) ([]*mdns.ServiceEntry, uint64) {
	infos, err := q.m.interfaces()
	if err != nil {
		return nil, 1
	}
	type result struct {
		entries chan *mdns.ServiceEntry
		v6      bool
		err     error
	}
	res := make([]result, len(infos))
	var wg sync.WaitGroup
	for i, info := range infos {
		r := &res[i]
		r.entries = make(chan *mdns.ServiceEntry, queryEntries)
		r.v6 = info.v6 && !q.noV6[info.iface.Name]
		p := &mdns.QueryParam{
			Service:     q.service,
			Domain:      "local",
			Timeout:     q.timeout,
			Interface:   info.iface,
			Entries:     r.entries,
			DisableIPv4: !info.v4,
			DisableIPv6: !r.v6,
			Logger:      silentLogger,
		}
		wg.Go(func() { r.err = q.m.runQuery(ctx, p) })
	}
	wg.Wait()
	var entries []*mdns.ServiceEntry
	var failed uint64
	for i, r := range res {
		if r.err != nil {
			failed++
			if r.v6 && infos[i].v4 {
				q.noV6[infos[i].iface.Name] = true
			}
		}
	drain:
		for {
			select {
			case e := <-r.entries:
				entries = append(entries, e)
			default:
				break drain
			}
		}
	}
	return entries, failed
}
