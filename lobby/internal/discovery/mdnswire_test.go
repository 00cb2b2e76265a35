package discovery

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestCacheBounds: a host flooding PTR answers with fresh instances fills
// its 256-record share and no more; many hosts fill the cache to 2048; the
// rest is counted, and a well-behaved host still gets its records in.
func TestCacheBounds(t *testing.T) {
	c := newCache(testService, freshWindow)
	now := time.Unix(1000, 0)
	flood := func(src string, n int) {
		for i := range n {
			ptr := &dns.PTR{Hdr: dns.RR_Header{Name: testService + ".local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 120}, Ptr: fmt.Sprintf("x%d-%d.%s.local.", netip.MustParseAddr(src).As4()[3]+netip.MustParseAddr(src).As4()[2], i, testService)}
			c.add(&dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: []dns.RR{ptr}}, netip.MustParseAddrPort(src+":5353"), "veth0", now)
		}
	}
	flood("10.0.0.66", 5000)
	if c.n != maxCachedPerSrc || c.dropped != 5000-maxCachedPerSrc {
		t.Fatalf("one host: %d cached, %d dropped", c.n, c.dropped)
	}
	for i := range 20 {
		flood(fmt.Sprintf("10.0.1.%d", i), 300)
	}
	if c.n != maxCached {
		t.Fatalf("many hosts: %d cached, want %d", c.n, maxCached)
	}
	entries, ask := c.resolve(now, false)
	if len(entries) != 0 || len(ask) != 2*maxFollowUps {
		t.Fatalf("resolve: %d entries, %d questions; want 0 and %d", len(entries), len(ask), 2*maxFollowUps)
	}
	// Two hours later everything has expired and room is made again.
	later := now.Add(2 * time.Hour)
	c.expire(later)
	if c.n != 0 || len(c.perSrc) != 0 || len(c.byName) != 0 {
		t.Fatalf("after expiry: %d records, %d sources, %d names", c.n, len(c.perSrc), len(c.byName))
	}
}

// TestCacheFlushAndGoodbye: a unique record with the cache-flush bit
// replaces older records of its name and type a second later; a goodbye
// makes the instance stale at once.
func TestCacheFlushAndGoodbye(t *testing.T) {
	c := newCache(testService, freshWindow)
	now := time.Unix(1000, 0)
	r := recA()
	txt, _ := r.TXT()
	z := newZone(testService, r, txt, nil)
	answers, extra := z.all()
	src := netip.MustParseAddrPort("10.0.0.1:5353")
	c.add(&dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: answers, Extra: extra}, src, "veth0", now)
	if es, _ := c.resolve(now, true); len(es) != 2 {
		t.Fatalf("%d entries, want one per address", len(es))
	}
	r.Addrs = addrs("10.0.0.7")
	z2 := newZone(testService, r, txt, nil)
	answers2, _ := z2.all()
	now = now.Add(5 * time.Second)
	c.add(&dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: answers2}, src, "veth0", now)
	now = now.Add(1100 * time.Millisecond)
	es, _ := c.resolve(now, true)
	var v4 []string
	for _, e := range es {
		if e.AddrV4 != nil {
			v4 = append(v4, e.AddrV4.String())
		}
	}
	// The AAAA stays: cache-flush works per name and type.
	if len(es) != 2 || len(v4) != 1 || v4[0] != "10.0.0.7" {
		t.Fatalf("after a cache-flush A: %d entries, IPv4 %v", len(es), v4)
	}
	c.add(&dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: goodbye(answers2)}, src, "veth0", now)
	if es, _ := c.resolve(now, true); len(es) != 0 {
		t.Fatalf("after goodbye: %+v", es)
	}
}

// FuzzMDNSPacket feeds arbitrary bytes, as they would arrive on port
// 5353, to a browser's cache and to a responder: nothing panics, the cache
// stays within its bounds, and every reply packs into one mDNS packet.
func FuzzMDNSPacket(f *testing.F) {
	r := recA()
	txt, _ := r.TXT()
	z := newZone(testService, r, txt, nil)
	answers, extra := z.all()
	for _, m := range []*dns.Msg{
		{MsgHdr: dns.MsgHdr{Response: true}, Answer: answers, Extra: extra},
		{MsgHdr: dns.MsgHdr{Response: true}, Answer: goodbye(answers)},
		{Question: []dns.Question{{Name: testService + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET | unicastResponse}}, Answer: []dns.RR{z.ptr}},
		{Question: []dns.Question{{Name: z.instance, Qtype: dns.TypeANY, Qclass: dns.ClassINET}, {Name: z.host, Qtype: dns.TypeAAAA, Qclass: dns.ClassINET}}},
	} {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(5353))
		f.Add(b, uint16(40000))
	}
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		if len(b) > maxPacket {
			return
		}
		var msg dns.Msg
		if msg.Unpack(b) != nil {
			return
		}
		src := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), port)
		now := time.Unix(1000, 0)
		c := newCache(testService, freshWindow)
		for i := range 3 {
			c.add(&msg, src, "veth0", now.Add(time.Duration(i)*time.Second))
		}
		if c.n > maxCachedPerSrc || len(c.hosts) > maxCached+len(msg.Answer)+len(msg.Extra) {
			t.Fatalf("cache holds %d records, %d hosts", c.n, len(c.hosts))
		}
		es, ask := c.resolve(now.Add(3*time.Second), true)
		if len(ask) > 2*maxFollowUps || len(es) > c.n {
			t.Fatalf("%d entries, %d questions", len(es), len(ask))
		}
		for _, e := range es {
			entryRecord(e, "."+testService+".local.")
		}
		for _, p := range queries(testService, ask) {
			if len(p) > maxPacket {
				t.Fatalf("query of %d bytes", len(p))
			}
		}
		rep := z.answerQuery(&msg, src, func(string) bool { return false })
		if rep == nil {
			return
		}
		out, err := rep.msg.Pack()
		if err != nil || len(out) > maxPacket {
			t.Fatalf("reply: %d bytes, %v", len(out), err)
		}
		if port != mdnsPort && (!rep.unicast || rep.msg.Id != msg.Id) {
			t.Fatalf("legacy query answered unicast=%v id=%d", rep.unicast, rep.msg.Id)
		}
	})
}
