package lobby

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

func TestHostedAdvertiseAndBrowse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := discovery.NewMemory()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		list, err := browseServers(ctx, "arena", BrowseOptions{PollInterval: 100 * time.Millisecond}, mem)
		if err != nil {
			t.Fatal(err)
		}
		fp, _ := netcode.ParseFingerprint(strings.Repeat("ab", 32))
		ad, err := advertiseServer(netip.MustParseAddrPort("10.6.0.1:31425"), fp,
			HostedConfig{Name: "Ann's arena", ServiceType: "arena", Seats: 4}, mem)
		if err != nil {
			t.Fatal(err)
		}
		next := func() []ServerInfo {
			select {
			case l := <-list:
				return l
			case <-time.After(2 * time.Second):
				t.Fatal("no list within 2 s")
				return nil
			}
		}
		got := next()
		for len(got) == 0 {
			got = next()
		}
		if len(got) != 1 || got[0].Name != "Ann's arena" || got[0].Seats != 4 || got[0].Fingerprint != fp ||
			got[0].Addr != netip.MustParseAddrPort("10.6.0.1:31425") {
			t.Fatalf("browse found %+v", got)
		}
		if got[0].ConnectString() != "dtls://10.6.0.1:31425#"+fp.String() {
			t.Fatalf("connect string %s", got[0].ConnectString())
		}
		ad.Update(3, 1)
		for got = next(); got[0].Players != 3; got = next() {
		}
		if got[0].Seats != 1 {
			t.Fatalf("update not seen: %+v", got)
		}
		ad.Close()
		for len(got) != 0 {
			got = next()
		}
	})
}

func TestServerListIgnoresSessionsAndBadRecords(t *testing.T) {
	good := discovery.Record{ID: strings.Repeat("ab", 32),
		Version: HostedProtocolVersion, Port: 1, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, Name: "s"}
	session := good
	session.Version = ProtocolVersion
	noAddr := good
	noAddr.Addrs = nil
	badID := good
	badID.ID = "zz"
	if l := serverList([]discovery.Record{good, session, noAddr, badID}); len(l) != 1 {
		t.Fatalf("server list %+v, want only the hosted server with an address", l)
	}
}

// Discovery reports every sighting of a fingerprint; the server list shows
// one entry per fingerprint, from its first usable sighting by instance
// label and port, whatever order the records come in.
func TestServerListOneEntryPerFingerprint(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	rec := func(instance string, port uint16, addr string, seats int) discovery.Record {
		return discovery.Record{Instance: instance, ID: fp, Version: HostedProtocolVersion, Port: port,
			Addrs: []netip.Addr{netip.MustParseAddr(addr)}, Seats: seats, Name: "s"}
	}
	other := rec("x", 9, "10.0.0.9", 1)
	other.ID, other.Name = strings.Repeat("cd", 32), "t"
	recs := []discovery.Record{
		rec("b", 1, "10.0.0.2", 2),
		rec("a", 2, "10.0.0.3", 3),
		rec("a", 1, "255.255.255.255", 4), // sorts first, unusable
		rec("a", 0, "10.0.0.5", 5),        // port 0: unusable
		rec("a", 3, "10.0.0.6", -1),       // negative seats: unusable
		other,
	}
	for i := range 2 {
		l := serverList(recs)
		if len(l) != 2 || l[0].Name != "s" || l[0].Addr != netip.MustParseAddrPort("10.0.0.3:2") || l[0].Seats != 3 ||
			l[1].Name != "t" {
			t.Fatalf("order %d: server list %+v, want the sighting a:2 of the first server and the other server", i, l)
		}
		slices.Reverse(recs)
	}
}
