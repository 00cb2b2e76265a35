package discovery

// These tests drive the MDNS backend over an in-memory LAN (fakelan_test.go)
// and never open a socket: the real backend multicasts, and multicast is
// allowed only inside network namespaces a test creates (netns_test.go).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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

// hostOn returns an MDNS on lan for a host with address a on veth0 (IPv4
// only).
func hostOn(lan *fakeLAN, a string) *MDNS {
	info := describe(veth0, []net.Addr{ipnet(a + "/24")})
	return &MDNS{Interface: veth0, listen: lan.host(map[string]string{"veth0": a}), ifaces: fakeIfaces(info)}
}

// browseUntilReturn starts m.Browse; the caller defers stop, which cancels
// and waits for the channel to close.
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

func instances(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Instance)
	}
	slices.Sort(out)
	return out
}

// TestMDNSAdvertiseBrowseOnLAN: two hosts advertise and browse; each sees
// both records with the advertised fields and addresses; after one stops
// (goodbye), the other forgets it after MissedPolls polls.
func TestMDNSAdvertiseBrowseOnLAN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		h1, h2 := hostOn(lan, "10.0.0.1"), hostOn(lan, "10.0.0.2")
		a, b := recA(), recB()
		a.Addrs, b.Addrs = nil, nil
		a.Name = `Zoë "the" \ 100%=`
		ch, stop := browseUntilReturn(t, h1, time.Second)
		defer stop()
		synctest.Wait() // listening: the announcements reach the browser
		adA, err := h1.Advertise(context.Background(), testService, a)
		if err != nil {
			t.Fatal(err)
		}
		defer adA.Stop()
		adB, err := h2.Advertise(context.Background(), testService, b)
		if err != nil {
			t.Fatal(err)
		}
		defer adB.Stop()
		time.Sleep(750 * time.Millisecond)
		snap := next(t, ch)
		wantA, wantB := a, b
		wantA.Addrs, wantB.Addrs = addrs("10.0.0.1"), addrs("10.0.0.2")
		if !equalRecords(snap, []Record{wantA, wantB}) {
			t.Fatalf("first poll: %+v\nwant %+v and %+v", snap, wantA, wantB)
		}
		b.Seats = 0
		if err := adB.Update(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if snap := next(t, ch); len(snap) != 2 || snap[1].Seats != 0 {
			t.Fatalf("after Update: %+v", snap)
		}
		if err := adB.Stop(); err != nil {
			t.Fatal(err)
		}
		// Goodbye: missed from the next poll on, gone after 3 polls.
		time.Sleep(3*time.Second - time.Nanosecond)
		none(t, ch)
		time.Sleep(time.Nanosecond)
		if snap := next(t, ch); !slices.Equal(instances(snap), []string{"aaaa"}) {
			t.Fatalf("after B's goodbye: %v", instances(snap))
		}
		if st := h1.Stats(); st.QueryErrors != 0 || st.Invalid != 0 || st.Overflow != 0 || st.Polls != 5 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestMDNSBrowseQueriesFrom5353 checks the queries on the wire: multicast
// to the group from the browser's port-5353 socket, one PTR question for
// the service without the QU bit, and never a PTR on an instance name.
func TestMDNSBrowseQueriesFrom5353(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		m := hostOn(lan, "10.0.0.1")
		ch, stop := browseUntilReturn(t, m, 500*time.Millisecond)
		defer stop()
		time.Sleep(1900 * time.Millisecond)
		next(t, ch)
		var qs int
		for _, p := range lan.packets() {
			if p.msg.Response {
				continue
			}
			qs++
			if p.from.Port() != mdnsPort || p.dst != mdnsGroup4 {
				t.Errorf("query from %v to %v, want from port 5353 to %v", p.from, p.dst, mdnsGroup4)
			}
			if p.msg.Id != 0 || p.msg.RecursionDesired {
				t.Errorf("query ID %d RD %v", p.msg.Id, p.msg.RecursionDesired)
			}
			if len(p.msg.Question) != 1 || p.msg.Question[0] != (dns.Question{Name: testService + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}) {
				t.Errorf("questions %v", p.msg.Question)
			}
		}
		if qs != 4 {
			t.Errorf("%d queries in 2 s at 500 ms, want 4", qs)
		}
	})
}

// avahiLike answers like Avahi on the fake LAN: a PTR answer without
// additional records (as when they do not fit), SRV, TXT and A only when
// asked by name, no answer to a PTR question on an instance name, each
// record multicast at most once a second, and legacy unicast answers cut
// at 512 bytes.
type avahiLike struct {
	conn    *fakeConn
	zones   []*zoneData
	mu      sync.Mutex
	last    map[string]time.Time
	asked   []dns.Question // every question it received
	stopped chan struct{}
}

func startAvahiLike(t *testing.T, lan *fakeLAN, addr string, n int) *avahiLike {
	lan.mu.Lock()
	c := lan.attach("veth0", 7, false, netip.AddrPortFrom(netip.MustParseAddr(addr), mdnsPort))
	lan.mu.Unlock()
	av := &avahiLike{conn: c, last: make(map[string]time.Time), stopped: make(chan struct{})}
	for i := range n {
		r := Record{Instance: fmt.Sprintf("av%d", i), Port: uint16(4000 + i), ID: fmt.Sprintf("%064x", 0xa000+i), Version: 1, Seats: 3, Name: "avahi service " + fmt.Sprint(i)}
		txt, err := r.TXT()
		if err != nil {
			t.Fatal(err)
		}
		z := newZone(testService, r, txt, addrs(addr))
		z.host = "avahi.local." // one host for all, as Avahi has
		z.srv.(*dns.SRV).Target = z.host
		for _, a := range z.addrs {
			a.Header().Name = z.host
		}
		av.zones = append(av.zones, z)
	}
	go av.serve()
	return av
}

func (av *avahiLike) stop() {
	av.conn.Close()
	<-av.stopped
}

func (av *avahiLike) questions() []dns.Question {
	av.mu.Lock()
	defer av.mu.Unlock()
	return slices.Clone(av.asked)
}

func (av *avahiLike) serve() {
	defer close(av.stopped)
	buf := make([]byte, maxPacket)
	for {
		n, src, _, err := av.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var q dns.Msg
		if q.Unpack(buf[:n]) != nil || q.Response {
			continue
		}
		av.mu.Lock()
		av.asked = append(av.asked, q.Question...)
		var answers []dns.RR
		for _, qq := range q.Question {
			for _, z := range av.zones {
				switch {
				case strings.EqualFold(qq.Name, z.service) && qq.Qtype == dns.TypePTR:
					answers = append(answers, z.ptr)
				case strings.EqualFold(qq.Name, z.instance) && qq.Qtype == dns.TypeSRV:
					answers = append(answers, z.srv)
				case strings.EqualFold(qq.Name, z.instance) && qq.Qtype == dns.TypeTXT:
					answers = append(answers, z.txt)
				case strings.EqualFold(qq.Name, z.host) && qq.Qtype == dns.TypeA && !slices.ContainsFunc(answers, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeA }):
					answers = append(answers, z.addrs...)
				}
			}
		}
		legacy := src.Port() != mdnsPort
		var keep []dns.RR
		for _, rr := range answers {
			k := rrKey(rr)
			if !legacy && time.Since(av.last[k]) < time.Second {
				continue
			}
			if !legacy {
				av.last[k] = time.Now()
			}
			keep = append(keep, rr)
		}
		av.mu.Unlock()
		if len(keep) == 0 {
			continue
		}
		msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Compress: true, Answer: keep}
		dst := mdnsGroup4
		if legacy {
			msg.Id, msg.Question, msg.Answer = q.Id, q.Question, legacyRRs(keep)
			for msg.Len() > 512 {
				msg.Answer = msg.Answer[:len(msg.Answer)-1]
			}
			dst = src
		}
		b, _ := msg.Pack()
		av.conn.WriteTo(b, dst)
	}
}

// TestMDNSBrowseBesideAvahi: ten services of an Avahi-like responder and a
// pumpnet peer; a browser polling at the lobby's 500 ms with the default
// missed polls has all eleven after its third poll (PTR, then SRV and TXT,
// then A) and keeps them in every snapshot for 60 s. It resolves instances by asking SRV and TXT by
// instance name and A by host name, never PTR on an instance.
func TestMDNSBrowseBesideAvahi(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		av := startAvahiLike(t, lan, "10.0.0.9", 10)
		defer av.stop()
		peer := hostOn(lan, "10.0.0.2")
		ad, err := peer.Advertise(context.Background(), testService, Record{Instance: "peer", Port: 5000, ID: idC, Version: 1, Seats: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer ad.Stop()
		m := hostOn(lan, "10.0.0.1")
		ch, stop := browseUntilReturn(t, m, 500*time.Millisecond)
		defer stop()
		var want []string
		for i := range 10 {
			want = append(want, fmt.Sprintf("av%d", i))
		}
		want = append(want, "peer")
		slices.Sort(want)
		time.Sleep(1375 * time.Millisecond) // three polls
		if got := instances(next(t, ch)); !slices.Equal(got, want) {
			t.Fatalf("after three polls: %v, want %v", got, want)
		}
		time.Sleep(60*time.Second - time.Millisecond)
		select {
		case snap := <-ch:
			t.Fatalf("the set changed during 60 s: %v", instances(snap))
		default:
		}
		if st := m.Stats(); st.Polls != 122 || st.Invalid != 0 || st.QueryErrors != 0 {
			t.Fatalf("stats %+v", st)
		}
		var srv, txt, a int
		for _, q := range av.questions() {
			switch {
			case q.Qtype == dns.TypePTR && !strings.EqualFold(q.Name, testService+".local."):
				t.Errorf("asked PTR on %s", q.Name)
			case q.Qtype == dns.TypeSRV:
				srv++
			case q.Qtype == dns.TypeTXT:
				txt++
			case q.Qtype == dns.TypeA:
				a++
			}
		}
		if srv < 10 || txt < 10 || a < 1 {
			t.Errorf("asked SRV %d, TXT %d, A %d times; want each instance's SRV and TXT and the host's A", srv, txt, a)
		}
	})
}

// TestMDNSBrowseForgetsSilentResponder: a responder that vanishes without
// goodbye is forgotten once its last PTR answer is older than the 2 s
// window and then MissedPolls polls have missed it.
func TestMDNSBrowseForgetsSilentResponder(t *testing.T) {
	for _, tc := range []struct{ missed, gonePoll int }{{1, 5}, {0, 7}, {4, 8}} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
			lan := &fakeLAN{}
			av := startAvahiLike(t, lan, "10.0.0.9", 1)
			m := hostOn(lan, "10.0.0.1")
			m.MissedPolls = tc.missed
			ch, stop := browseUntilReturn(t, m, time.Second)
			defer stop()
			// Poll n runs from n-1 s to n-1+0.75 s: poll 1 asks PTR, poll 2
			// SRV and TXT, poll 3 A; the PTR is answered at 0, 1 and 2 s.
			at(2800 * time.Millisecond)
			if got := instances(next(t, ch)); !slices.Equal(got, []string{"av0"}) {
				t.Fatalf("after poll 3: %v", got)
			}
			av.stop()
			// Fresh until 4 s (poll 4); missed from poll 5 on.
			at(time.Duration(tc.gonePoll-1)*time.Second + 750*time.Millisecond - time.Nanosecond)
			none(t, ch)
			at(time.Duration(tc.gonePoll-1)*time.Second + 750*time.Millisecond + time.Nanosecond)
			if snap := next(t, ch); len(snap) != 0 {
				t.Fatalf("MissedPolls %d: still there after poll %d: %v", tc.missed, tc.gonePoll, instances(snap))
			}
		})
	}
}

// TestMDNSBrowseFiltersAndCounts: answers of other services are not even
// cached; an instance with a hostile TXT is counted invalid.
func TestMDNSBrowseFiltersAndCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		m := hostOn(lan, "10.0.0.1")
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		synctest.Wait() // the browser's socket is open
		a := recA()
		a.Addrs = nil
		adA, err := hostOn(lan, "10.0.0.2").Advertise(context.Background(), testService, a)
		if err != nil {
			t.Fatal(err)
		}
		defer adA.Stop()
		other, err := hostOn(lan, "10.0.0.3").Advertise(context.Background(), "_chat._udp", recB())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Stop()
		txt, _ := recB().TXT()
		z := newZone(testService, Record{Instance: "cccc", Port: 9}, append(txt, "id="+idC), addrs("10.0.0.4"))
		answers, extra := z.all()
		hostile := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: answers, Extra: extra}
		lan.inject(t, "veth0", hostile, netip.MustParseAddrPort("10.0.0.4:5353"), mdnsGroup4)
		time.Sleep(750 * time.Millisecond)
		want := a
		want.Addrs = addrs("10.0.0.2")
		if snap := next(t, ch); !equalRecords(snap, []Record{want}) {
			t.Fatalf("snapshot %+v, want %+v", snap, want)
		}
		if st := m.Stats(); st != (Stats{Polls: 1, Entries: 2, Invalid: 1}) {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestMDNSBrowseIgnoresLegacyPortResponses: responses from a port other
// than 5353 are not mDNS responses (RFC 6762 §6).
func TestMDNSBrowseIgnoresLegacyPortResponses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		m := hostOn(lan, "10.0.0.1")
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		synctest.Wait()
		r := recB()
		txt, _ := r.TXT()
		answers, extra := newZone(testService, r, txt, nil).all()
		lan.inject(t, "veth0", &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: answers, Extra: extra}, netip.MustParseAddrPort("10.0.0.4:40000"), mdnsGroup4)
		time.Sleep(750 * time.Millisecond)
		if snap := next(t, ch); len(snap) != 0 {
			t.Fatalf("took a response from port 40000: %v", instances(snap))
		}
	})
}

// TestMDNSBrowseQueriesEveryInterface: one socket per interface, queries
// on both, addresses merged.
func TestMDNSBrowseQueriesEveryInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		m := &MDNS{listen: lan.host(map[string]string{"veth0": "10.99.0.1", "veth1": "192.168.7.1"}), ifaces: fakeIfaces(v4Only, second)}
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		synctest.Wait()
		adv := &MDNS{listen: lan.host(map[string]string{"veth0": "10.99.0.2", "veth1": "192.168.7.20"}),
			ifaces: fakeIfaces(describe(veth0, []net.Addr{ipnet("10.99.0.2/24")}), describe(veth1, []net.Addr{ipnet("192.168.7.20/24")}))}
		a := recA()
		a.Addrs = nil
		ad, err := adv.Advertise(context.Background(), testService, a)
		if err != nil {
			t.Fatal(err)
		}
		defer ad.Stop()
		time.Sleep(750 * time.Millisecond)
		snap := next(t, ch)
		if len(snap) != 1 || !slices.Equal(snap[0].Addrs, addrs("10.99.0.2", "192.168.7.20")) {
			t.Fatalf("snapshot %+v, want one record with both interfaces' addresses", snap)
		}
		links := map[string]bool{}
		for _, p := range lan.packets() {
			if !p.msg.Response {
				links[p.link] = true
			}
		}
		if len(links) != 2 {
			t.Fatalf("queries on %v, want both links", links)
		}
	})
}

// TestMDNSBrowseFallsBackToIPv4: if the IPv6 socket cannot be opened, the
// browser goes on over IPv4 and does not try IPv6 on that interface again.
func TestMDNSBrowseFallsBackToIPv4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{fail: map[string]bool{"veth0/v6": true}}
		m := &MDNS{Interface: veth0, listen: lan.host(map[string]string{"veth0": "10.99.0.1", "veth0/6": "fe80::1"}), ifaces: fakeIfaces(dualStack)}
		ch, stop := browseUntilReturn(t, m, time.Second)
		defer stop()
		synctest.Wait()
		a := recA()
		a.Addrs = nil
		ad, err := hostOn(lan, "10.99.0.2").Advertise(context.Background(), testService, a)
		if err != nil {
			t.Fatal(err)
		}
		defer ad.Stop()
		time.Sleep(750 * time.Millisecond)
		if got := instances(next(t, ch)); !slices.Equal(got, []string{"aaaa"}) {
			t.Fatalf("poll 1: %v, want A over IPv4", got)
		}
		time.Sleep(6100 * time.Millisecond)
		if st := m.Stats(); st.QueryErrors != 1 || st.Polls != 7 {
			t.Fatalf("stats %+v: want 1 query error in 7 polls", st)
		}
	})
}

// TestMDNSBrowseCancelEndsEverything: cancelling ends the wait at once;
// the channel closes after the sockets are closed and the receivers ended.
func TestMDNSBrowseCancelEndsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		m := hostOn(lan, "10.0.0.1")
		ctx, cancel := context.WithCancel(t.Context())
		ch, err := m.Browse(ctx, testService, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		synctest.Wait()
		if _, ok := <-ch; ok {
			t.Fatal("snapshot after cancel")
		}
		lan.mu.Lock()
		open := len(lan.conns)
		lan.mu.Unlock()
		if open != 0 {
			t.Fatalf("%d sockets open after the channel closed", open)
		}
		if m.Stats().Polls != 0 {
			t.Fatal("a canceled poll was counted")
		}
	})
}

func TestMDNSBrowseNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	lan := &fakeLAN{}
	m := hostOn(lan, "10.0.0.1")
	ad, err := m.Advertise(context.Background(), testService, recA())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.Browse(ctx, testService, MinMDNSInterval)
	if err != nil {
		t.Fatal(err)
	}
	if snap := <-ch; len(snap) > 1 {
		t.Fatalf("snapshot %v", ids(snap))
	}
	cancel()
	for range ch {
	}
	if err := ad.Stop(); err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, before)
}

func TestMDNSBrowseValidates(t *testing.T) {
	m := hostOn(&fakeLAN{}, "10.0.0.1")
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

// TestMDNSAdvertiseAnnouncesAndSaysGoodbye: Advertise multicasts the
// records twice, a second apart, with IP TTL 255 sockets (the real socket
// sets it; here: to the group); Update announces again; Stop multicasts
// every record with TTL 0.
func TestMDNSAdvertiseAnnouncesAndSaysGoodbye(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		sn := lan.sniff("veth0", false, "10.0.0.50")
		ad, err := hostOn(lan, "10.0.0.1").Advertise(context.Background(), testService, recA())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		r := recA()
		r.Seats = 1
		if err := ad.Update(r); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := ad.Stop(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			msg, _ := sn.read()
			if msg == nil {
				break
			}
			kind := "announce"
			for _, rr := range msg.Answer {
				if rr.Header().Ttl == 0 {
					kind = "goodbye"
				}
			}
			got = append(got, fmt.Sprintf("%s %d", kind, len(msg.Answer)))
		}
		// PTR, SRV, TXT and the two addresses of recA.
		if want := []string{"announce 5", "announce 5", "announce 5", "goodbye 5"}; !slices.Equal(got, want) {
			t.Fatalf("multicasts %v, want %v", got, want)
		}
		if err := ad.Update(r); !errors.Is(err, ErrStopped) {
			t.Fatalf("Update after Stop = %v", err)
		}
		if err := ad.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMDNSResponderOnTheWire sends queries to a responder on the fake LAN
// and checks where the answers go and what they hold.
func TestMDNSResponderOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		ad, err := hostOn(lan, "10.0.0.1").Advertise(context.Background(), testService, recA())
		if err != nil {
			t.Fatal(err)
		}
		defer ad.Stop()
		time.Sleep(2 * time.Second) // announcements over
		sn := lan.sniff("veth0", false, "10.0.0.50")
		legacyEnd := lan.sniff("veth0", false, "10.0.0.60")
		legacyEnd.addr = netip.MustParseAddrPort("10.0.0.60:40000")
		ptrQ := func(id uint16, class uint16) *dns.Msg {
			return &dns.Msg{MsgHdr: dns.MsgHdr{Id: id}, Question: []dns.Question{{Name: testService + ".local.", Qtype: dns.TypePTR, Qclass: class}}}
		}

		// QM from 5353: multicast.
		lan.inject(t, "veth0", ptrQ(0, dns.ClassINET), netip.MustParseAddrPort("10.0.0.50:5353"), mdnsGroup4)
		synctest.Wait()
		msg, _ := sn.read()
		if msg == nil || len(msg.Answer) != 1 || len(msg.Extra) != 6 {
			t.Fatalf("multicast answer %v", msg)
		}
		last := lan.packets()[len(lan.packets())-1]
		if last.dst != mdnsGroup4 {
			t.Fatalf("answer to a QM query sent to %v", last.dst)
		}
		// The same query again within a second: nothing new to multicast.
		lan.inject(t, "veth0", ptrQ(0, dns.ClassINET), netip.MustParseAddrPort("10.0.0.50:5353"), mdnsGroup4)
		synctest.Wait()
		if msg, _ := sn.read(); msg != nil {
			t.Fatalf("answered again within a second: %v", msg)
		}
		time.Sleep(time.Second)
		// QU from 5353: unicast to the querier.
		lan.inject(t, "veth0", ptrQ(0, dns.ClassINET|unicastResponse), netip.MustParseAddrPort("10.0.0.50:5353"), mdnsGroup4)
		synctest.Wait()
		if last := lan.packets()[len(lan.packets())-1]; last.dst != netip.MustParseAddrPort("10.0.0.50:5353") || !last.msg.Response {
			t.Fatalf("answer to a QU query sent to %v", last.dst)
		}
		if msg, _ := sn.read(); msg == nil || len(msg.Answer) != 1 {
			t.Fatalf("QU answer %v", msg)
		}
		drain(sn)
		drain(legacyEnd)
		// Legacy unicast from port 40000: unicast there, ID and question
		// echoed, TTL ≤ 10, no cache-flush.
		lan.inject(t, "veth0", ptrQ(0x1234, dns.ClassINET), netip.MustParseAddrPort("10.0.0.60:40000"), mdnsGroup4)
		synctest.Wait()
		msg, _ = legacyEnd.read()
		if msg == nil || msg.Id != 0x1234 || len(msg.Question) != 1 || len(msg.Answer) != 1 {
			t.Fatalf("legacy answer %v", msg)
		}
		if last := lan.packets()[len(lan.packets())-1]; last.dst != netip.MustParseAddrPort("10.0.0.60:40000") {
			t.Fatalf("legacy answer sent to %v", last.dst)
		}
		for _, rr := range append(msg.Answer, msg.Extra...) {
			if h := rr.Header(); h.Ttl > 10 || h.Class&cacheFlush != 0 {
				t.Errorf("legacy answer record %v", rr)
			}
		}
		// Known answer with full TTL: suppressed.
		time.Sleep(time.Second)
		drain(sn)
		z := newZone(testService, recA(), nil, nil)
		ka := ptrQ(0, dns.ClassINET)
		ka.Answer = []dns.RR{z.ptr}
		lan.inject(t, "veth0", ka, netip.MustParseAddrPort("10.0.0.50:5353"), mdnsGroup4)
		synctest.Wait()
		if msg, _ := sn.read(); msg != nil {
			t.Fatalf("answered a known answer: %v", msg)
		}
	})
}

func drain(c *fakeConn) {
	for m, _ := c.read(); m != nil; m, _ = c.read() {
	}
}

func TestMDNSAdvertiseExplicitAddrs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		m := &MDNS{listen: lan.host(map[string]string{"veth0": "10.99.0.1", "veth1": "192.168.7.1"}), ifaces: fakeIfaces(v4Only, second)}
		sn0, sn1 := lan.sniff("veth0", false, "10.99.0.50"), lan.sniff("veth1", false, "192.168.7.50")
		r := recA()
		r.Addrs = addrs("2001:db8::5", "10.0.0.5", "fe80::5%veth0")
		ad, err := m.Advertise(context.Background(), testService, r)
		if err != nil {
			t.Fatal(err)
		}
		defer ad.Stop()
		synctest.Wait()
		for _, sn := range []*fakeConn{sn0, sn1} {
			msg, _ := sn.read()
			if msg == nil {
				t.Fatal("no announcement")
			}
			var got []string
			for _, rr := range msg.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					got = append(got, rr.A.String())
				case *dns.AAAA:
					got = append(got, rr.AAAA.String())
				}
			}
			if want := []string{"10.0.0.5", "fe80::5", "2001:db8::5"}; !slices.Equal(got, want) {
				t.Errorf("announced addresses %v, want %v", got, want)
			}
		}
	})
}

func TestMDNSAdvertiseSkipsFailingInterfaces(t *testing.T) {
	lan := &fakeLAN{fail: map[string]bool{"veth0/v4": true}}
	m := &MDNS{listen: lan.host(map[string]string{"veth0": "10.99.0.1", "veth1": "192.168.7.1"}), ifaces: fakeIfaces(v4Only, second)}
	ad, err := m.Advertise(context.Background(), testService, recA())
	if err != nil {
		t.Fatal(err)
	}
	lan.mu.Lock()
	n, link := len(lan.conns), lan.conns[0].link
	lan.mu.Unlock()
	if n != 1 || link != "veth1" {
		t.Fatalf("%d responders on %s; want veth1 only", n, link)
	}
	ad.Stop()
	lan = &fakeLAN{fail: map[string]bool{"veth0/v4": true, "veth1/v4": true}}
	m = &MDNS{listen: lan.host(map[string]string{"veth0": "10.99.0.1", "veth1": "192.168.7.1"}), ifaces: fakeIfaces(v4Only, second)}
	if _, err := m.Advertise(context.Background(), testService, recA()); err == nil || !strings.Contains(err.Error(), "veth0") || !strings.HasPrefix(err.Error(), "discovery: ") {
		t.Fatalf("Advertise with every responder failing = %v", err)
	}
	m = &MDNS{listen: lan.host(nil), ifaces: fakeIfaces()}
	if _, err := m.Advertise(context.Background(), testService, recA()); !errors.Is(err, ErrNoInterface) {
		t.Fatalf("no interfaces: %v", err)
	}
	m = &MDNS{listen: lan.host(nil), ifaces: fakeIfaces(v4Only)}
	r := recA()
	r.Instance = "a.b"
	if _, err := m.Advertise(context.Background(), testService, r); !errors.Is(err, ErrInvalidRecord) {
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
		if err != nil || len(infos) != 1 || !slices.Contains(infos[0].ips, netip.MustParseAddr("127.0.0.1")) {
			t.Errorf("explicit lo: %+v, %v", infos, err)
		}
	}
	if _, err := listInterfaces(&net.Interface{Index: 1 << 30, Name: "gone"}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("missing interface: %v", err)
	}
}
