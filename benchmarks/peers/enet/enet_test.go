package enet

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// TestReliableRoundTrip connects a client host to a server host on
// 127.0.0.1 and echoes a reliable and an unsequenced packet through the
// binding, checking bytes, channels, lengths and datagram counters.
func TestReliableRoundTrip(t *testing.T) {
	srv, err := NewHost(netip.MustParseAddrPort("127.0.0.1:0"), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Destroy()
	if srv.Port() == 0 {
		t.Fatal("server host has no port")
	}
	cl, err := NewHost(netip.AddrPort{}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Destroy()
	peer, err := cl.Connect(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), srv.Port()), 2)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	// pump services both hosts until want happened at the client.
	pump := func(what string, want func(Event) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			ev, err := srv.Service(1, buf)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type == EventReceive { // echo on the same channel, same flags
				flags := uint32(Reliable)
				if ev.Channel == 1 {
					flags = Unsequenced
				}
				if err := ev.Peer.Send(ev.Channel, buf[:ev.N], flags); err != nil {
					t.Fatal(err)
				}
				srv.Flush()
			}
			if ev, err = cl.Service(1, buf); err != nil {
				t.Fatal(err)
			}
			if ev.Type != EventNone && want(ev) {
				return
			}
		}
		t.Fatalf("no %s within 10 s", what)
	}
	pump("connect", func(ev Event) bool { return ev.Type == EventConnect && ev.Peer == peer })
	for _, c := range []struct {
		channel int
		flags   uint32
		size    int
	}{{0, Reliable, 64}, {0, Reliable, 3000}, {1, Unsequenced, 100}} {
		msg := bytes.Repeat([]byte{byte(c.size)}, c.size)
		msg[0] = byte(c.channel)
		if err := peer.Send(c.channel, msg, c.flags); err != nil {
			t.Fatal(err)
		}
		if peer.Queued() == 0 {
			t.Errorf("channel %d: nothing queued after Send", c.channel)
		}
		cl.Flush()
		pump("echo", func(ev Event) bool {
			if ev.Type != EventReceive {
				return false
			}
			if ev.Channel != c.channel || ev.N != c.size || !bytes.Equal(buf[:ev.N], msg) {
				t.Fatalf("echo on channel %d of %d bytes, want channel %d, %d bytes, same bytes", ev.Channel, ev.N, c.channel, c.size)
			}
			return true
		})
	}
	if cl.DatagramsOut() < 4 || srv.DatagramsIn() < 4 {
		t.Errorf("datagram counters: client sent %d, server received %d, want at least 4 each", cl.DatagramsOut(), srv.DatagramsIn())
	}
}

// TestLossTally checks that a LossTally sums counters across ENet's
// periodic resets (counts that fall start again from zero).
func TestLossTally(t *testing.T) {
	var tally LossTally
	for _, c := range []struct{ sent, lost uint32 }{{10, 1}, {25, 2}, {3, 0}, {8, 1}} {
		tally.add(c.sent, c.lost)
	}
	if tally.Sent != 25+8 || tally.Lost != 2+1 {
		t.Errorf("tally = %d sent, %d lost; want 33, 3", tally.Sent, tally.Lost)
	}
}
