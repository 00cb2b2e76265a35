package lobby

import (
	"context"
	"net/netip"
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
