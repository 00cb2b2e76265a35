package netcode

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// wrappedUDP hides the *net.UDPConn from the endpoint, which then takes
// the fallback path: one datagram per read and per write.
type wrappedUDP struct{ *net.UDPConn }

// broadcast connects n clients to a server on pc (on loopback), sends one
// message to each with one FlushAll, and returns the server's write calls
// and datagrams written for it, once every client received its message.
func broadcast(t *testing.T, pc PacketConn, n int) (calls, datagrams uint64) {
	t.Helper()
	srv, err := ListenPacket(pc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	server := make([]*Conn, n)
	clients := make([]*Conn, n)
	for i := range n {
		acc := make(chan *Conn, 1)
		go func() {
			c, _ := srv.Accept(ctx)
			acc <- c
		}()
		c, err := Dial(ctx, srv.AddrPort().String(), nil, DialOptions{Fingerprint: srv.Fingerprint()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
		if server[i] = <-acc; server[i] == nil {
			t.Fatal("accept failed")
		}
	}
	// Let the handshakes' last packets and acknowledgements settle.
	time.Sleep(100 * time.Millisecond)
	for i, c := range server {
		if err := c.Send(0, fmt.Appendf(nil, "state for %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	before := srv.Stats()
	srv.FlushAll()
	after := srv.Stats()
	for i, c := range clients {
		deadline := time.After(10 * time.Second)
		for {
			if m, ok := c.Receive(); ok {
				if want := fmt.Sprintf("state for %d", i); string(m.Data) != want {
					t.Fatalf("client %d received %q, want %q", i, m.Data, want)
				}
				break
			}
			select {
			case <-c.Wake():
			case <-deadline:
				t.Fatalf("client %d received nothing", i)
			}
		}
	}
	return after.WriteCalls - before.WriteCalls, after.DatagramsOut - before.DatagramsOut
}

func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return uc
}

// TestBroadcastIsAFewSyscalls: on Linux, a server's flush to 64 clients
// leaves in sendmmsg batches, not one sendto per client (issue 13 item 2).
func TestBroadcastIsAFewSyscalls(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("batched socket calls are Linux only")
	}
	const n = 64
	forEachLoopback(t, func(t *testing.T, ip netip.Addr) {
		calls, datagrams := broadcast(t, listenUDP(t, ip), n)
		t.Logf("%d datagrams in %d write calls", datagrams, calls)
		if datagrams < n {
			t.Fatalf("FlushAll wrote %d datagrams, want at least %d", datagrams, n)
		}
		// One sendmmsg takes 64; other goroutines (timers, the writer)
		// may write a few packets of their own meanwhile: at least 8
		// datagrams a call on average (one sendto each before).
		if calls*8 > datagrams {
			t.Fatalf("FlushAll made %d write calls for %d datagrams, want at most one per 8", calls, datagrams)
		}
	})
}

// TestBroadcastFallback: a PacketConn that is not a *net.UDPConn gets the
// fallback (one datagram per call), which works as well.
func TestBroadcastFallback(t *testing.T) {
	const n = 16
	forEachLoopback(t, func(t *testing.T, ip netip.Addr) {
		calls, datagrams := broadcast(t, wrappedUDP{listenUDP(t, ip)}, n)
		if datagrams < n || calls != datagrams {
			t.Fatalf("fallback: %d datagrams in %d calls, want at least %d, one call each", datagrams, calls, n)
		}
	})
}

// TestBatchedReads: datagrams waiting in the socket are read up to 32 per
// call on Linux, one per call by the fallback.
func TestBatchedReads(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wrap    func(*net.UDPConn) PacketConn
		batched bool
	}{
		{"udp", func(uc *net.UDPConn) PacketConn { return uc }, runtime.GOOS == "linux"},
		{"fallback", func(uc *net.UDPConn) PacketConn { return wrappedUDP{uc} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachLoopback(t, func(t *testing.T, ip netip.Addr) {
				uc := listenUDP(t, ip)
				tx, err := net.DialUDP("udp", nil, uc.LocalAddr().(*net.UDPAddr))
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Close()
				// Stray datagrams, queued before the endpoint reads: counted
				// and dropped (DropUnknown).
				const burst = 96
				garbage := make([]byte, 100)
				for range burst {
					if _, err := tx.Write(garbage); err != nil {
						t.Fatal(err)
					}
				}
				ep, err := ListenPacket(tc.wrap(uc), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer ep.Close()
				deadline := time.Now().Add(10 * time.Second)
				var s EndpointStats
				for s = ep.Stats(); s.DatagramsIn < burst; s = ep.Stats() {
					if time.Now().After(deadline) {
						t.Fatalf("only %d of %d datagrams read", s.DatagramsIn, burst)
					}
					time.Sleep(10 * time.Millisecond)
				}
				t.Logf("%d datagrams in %d read calls", s.DatagramsIn, s.ReadCalls)
				if s.DropUnknown != burst {
					t.Fatalf("%d of %d garbage datagrams counted as DropUnknown", s.DropUnknown, burst)
				}
				if tc.batched && s.ReadCalls > burst/readBatchLenForTest+1 {
					t.Fatalf("batched: %d read calls for %d datagrams", s.ReadCalls, s.DatagramsIn)
				}
				if !tc.batched && s.ReadCalls < s.DatagramsIn {
					t.Fatalf("fallback: %d read calls for %d datagrams, want one each", s.ReadCalls, s.DatagramsIn)
				}
			})
		})
	}
}

// TestLargeDatagramsGrowReadBuffers: an endpoint reads into small buffers
// (readSlotLen) until a peer with a larger datagram budget sends a longer
// datagram; that one is lost (truncated, counted in DropUnknown), the
// buffers grow, and the resend arrives. Batched reads and the fallback
// alike (issue 13 item 7).
func TestLargeDatagramsGrowReadBuffers(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*net.UDPConn) PacketConn
	}{
		{"udp", func(uc *net.UDPConn) PacketConn { return uc }},
		{"fallback", func(uc *net.UDPConn) PacketConn { return wrappedUDP{uc} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachLoopback(t, func(t *testing.T, ip netip.Addr) {
				srv, err := ListenPacket(tc.wrap(listenUDP(t, ip)), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				acc := make(chan *Conn, 1)
				go func() {
					c, _ := srv.Accept(ctx)
					acc <- c
				}()
				cl, err := Dial(ctx, srv.AddrPort().String(), &Config{MaxDatagramSize: 9000}, DialOptions{Fingerprint: srv.Fingerprint()})
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				sc := <-acc
				if sc == nil {
					t.Fatal("accept failed")
				}
				msg := make([]byte, 8000) // one datagram of the client's budget
				for i := range msg {
					msg[i] = byte(i)
				}
				if err := cl.Send(0, msg); err != nil {
					t.Fatal(err)
				}
				cl.Flush()
				for {
					if m, ok := sc.Receive(); ok {
						if !bytes.Equal(m.Data, msg) {
							t.Fatalf("received %d bytes, not the %d sent", len(m.Data), len(msg))
						}
						break
					}
					select {
					case <-sc.Wake():
					case <-ctx.Done():
						t.Fatal("the large message never arrived")
					}
				}
				// The first long datagram may be a handshake packet (the
				// client pads to its budget): count from the start.
				if d := srv.Stats().DropUnknown; d < 1 {
					t.Fatalf("no truncated datagram dropped (%d): the read buffers were not small", d)
				}
			})
		})
	}
}
