package discovery

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
)

// TestAdvertiseHonoursContext: Advertise with a ctx that is already done
// starts nothing and returns an error matching ctx.Err(), on both
// backends; MDNS whose ctx ends between two responders stops the one it
// started.
func TestAdvertiseHonoursContext(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	m := NewMemory()
	if ad, err := m.Advertise(done, testService, recA()); ad != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Memory.Advertise with a cancelled ctx: %v, %v", ad, err)
	}
	if n, _ := m.poll(context.Background()); len(n) != 0 {
		t.Fatalf("Memory holds %d entries after a cancelled Advertise", len(n))
	}
	synctest.Test(t, func(t *testing.T) {
		lan := &fakeLAN{}
		listen := lan.host(map[string]string{"veth0": "10.0.0.2", "veth1": "10.1.0.2"})
		var opened []packetConn
		ctx, cancel := context.WithCancel(t.Context())
		mdns := &MDNS{
			ifaces: fakeIfaces(describe(veth0, []net.Addr{ipnet("10.0.0.2/24")}), describe(veth1, []net.Addr{ipnet("10.1.0.2/24")})),
			listen: func(ifc *net.Interface, v6 bool) (packetConn, error) {
				c, err := listen(ifc, v6)
				if err == nil {
					opened = append(opened, c)
				}
				cancel() // ctx ends once the first responder's socket is open
				return c, err
			},
		}
		if ad, err := mdns.Advertise(done, testService, recA()); ad != nil || !errors.Is(err, context.Canceled) || len(opened) != 0 {
			t.Fatalf("MDNS.Advertise with a cancelled ctx: %v, %v, %d sockets opened", ad, err, len(opened))
		}
		ad, err := mdns.Advertise(ctx, testService, recA())
		if ad != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("MDNS.Advertise whose ctx ended during setup: %v, %v", ad, err)
		}
		if len(opened) != 1 {
			t.Fatalf("%d sockets opened, want 1 (the second interface after ctx ended)", len(opened))
		}
		synctest.Wait()
		fc := opened[0].(*fakeConn)
		select {
		case <-fc.closed:
		default:
			t.Fatal("the responder started before ctx ended still runs")
		}
	})
}
