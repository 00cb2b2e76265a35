package netcode

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
)

// nat is a NAT between a client and a server on the in-memory network: the
// client talks to inside; the NAT forwards to the server from its current
// outside address and back. rebind moves it to the next outside address
// (as a NAT whose mapping expired, or a phone changing networks) and closes
// the old one. With race set, every client packet is first copied to the
// server from the attacker's address, as an on-path attacker that races
// packets would.
type nat struct {
	n        *fakenet.Network
	inside   *fakenet.Conn
	outside  []*fakenet.Conn
	cur      atomic.Int32
	server   netip.AddrPort
	client   atomic.Value // netip.AddrPort
	race     atomic.Bool
	attacker netip.AddrPort
	// toClientLost drops every server → client datagram (a one-way
	// outage) while set.
	toClientLost atomic.Bool
	wg           sync.WaitGroup
}

func newNAT(t *testing.T, n *fakenet.Network, inside, server netip.AddrPort, outside ...netip.AddrPort) *nat {
	t.Helper()
	in, err := n.Listen(inside)
	if err != nil {
		t.Fatal(err)
	}
	x := &nat{n: n, inside: in, server: server}
	for _, a := range outside {
		c, err := n.Listen(a)
		if err != nil {
			t.Fatal(err)
		}
		x.outside = append(x.outside, c)
	}
	x.wg.Add(1)
	go func() { // client → server
		defer x.wg.Done()
		buf := make([]byte, 2048)
		for {
			k, from, err := in.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			x.client.Store(from)
			if x.race.Load() {
				_ = n.Inject(x.attacker, server, buf[:k])
			}
			_, _ = x.outside[x.cur.Load()].WriteToUDPAddrPort(buf[:k], server)
		}
	}()
	for _, o := range x.outside {
		x.wg.Add(1)
		go func() { // server → client
			defer x.wg.Done()
			buf := make([]byte, 2048)
			for {
				k, _, err := o.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if to, ok := x.client.Load().(netip.AddrPort); ok && !x.toClientLost.Load() {
					_, _ = in.WriteToUDPAddrPort(buf[:k], to)
				}
			}
		}()
	}
	t.Cleanup(func() {
		in.Close()
		for _, o := range x.outside {
			o.Close()
		}
		x.wg.Wait()
	})
	return x
}

// rebind moves the NAT to its next outside address; the old one is gone.
func (x *nat) rebind() {
	old := x.cur.Add(1) - 1
	x.outside[old].Close()
}

var (
	natInside = netip.MustParseAddrPort("10.1.9.1:40000")
	natOut1   = netip.MustParseAddrPort("10.2.0.1:50001")
	natOut2   = netip.MustParseAddrPort("10.2.0.1:50002")
	evilAddr  = netip.MustParseAddrPort("10.6.6.6:666")
)

// natPair connects a client to a server through a NAT.
func natPair(t *testing.T) (x *nat, srv, cli *Conn) {
	t.Helper()
	n := fakenet.New()
	spc, err := n.Listen(srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	sep, err := ListenPacket(spc, nil)
	if err != nil {
		t.Fatal(err)
	}
	cpc, err := n.Listen(cliAddr)
	if err != nil {
		t.Fatal(err)
	}
	cep, err := NewEndpoint(cpc, nil)
	if err != nil {
		t.Fatal(err)
	}
	x = newNAT(t, n, natInside, srvAddr, natOut1, natOut2)
	t.Cleanup(func() { cep.Close(); sep.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := sep.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	cli, err = cep.Dial(ctx, natInside, DialOptions{Fingerprint: sep.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	return x, <-accepted, cli
}

// stream sends one reliable-ordered message every 10 ms from each side for
// d and checks that each side receives the other's, in order, exactly once;
// it returns when everything sent arrived.
func stream(t *testing.T, srv, cli *Conn, from uint64, d time.Duration) (next uint64) {
	t.Helper()
	n := uint64(d / (10 * time.Millisecond))
	var got [2]uint64
	got[0], got[1] = from, from
	conns := [2]*Conn{srv, cli}
	deadline := time.Now().Add(d + 15*time.Second)
	sent := from
	for got[0] < from+n || got[1] < from+n {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: server has %d of %d client messages, client %d of %d server messages",
				d+15*time.Second, got[0]-from, n, got[1]-from, n)
		}
		if sent < from+n {
			for _, c := range conns {
				if err := c.Send(0, seqMsg(sent, 40)); err != nil {
					t.Fatalf("send: %v", err)
				}
				c.Flush()
			}
			sent++
		}
		time.Sleep(10 * time.Millisecond)
		for i, c := range conns {
			for m, ok := c.Receive(); ok; m, ok = c.Receive() {
				if s := msgSeq(t, m.Data); s != got[i] {
					t.Fatalf("side %d got message %d, want %d", i, s, got[i])
				}
				got[i]++
			}
			if err := c.Err(); err != nil {
				t.Fatalf("side %d: connection ended: %v", i, err)
			}
		}
	}
	return from + n
}

// The client's NAT moves it to a new outside address mid-connection. The
// server sees authenticated packets from there, validates the address with
// a PATH_CHALLENGE, moves the connection to it, and both directions carry
// on without losing anything (before path validation existed, the server
// kept answering the dead address and the client heard nothing more).
func TestMigrationAfterNATRebinding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, srv, cli := natPair(t)
		next := stream(t, srv, cli, 0, time.Second)
		if got := srv.RemoteAddr(); got != natOut1 {
			t.Fatalf("server sees the client at %v, want %v", got, natOut1)
		}
		x.rebind()
		stream(t, srv, cli, next, 2*time.Second)
		if got := srv.RemoteAddr(); got != natOut2 {
			t.Errorf("after the rebinding the server sends to %v, want %v", got, natOut2)
		}
		st := srv.Stats()
		t.Logf("after the rebinding: server sent %d path challenges, changed path %d times; %d packets lost, %d resends in all",
			st.PathChallenges, st.PathChanges, st.LostPackets, st.Resends)
		if st.PathChanges != 1 {
			t.Errorf("PathChanges = %d, want 1", st.PathChanges)
		}
		if st.PathChallenges == 0 || st.PathChallenges > maxProbeChallenges {
			t.Errorf("PathChallenges = %d, want 1..%d", st.PathChallenges, maxProbeChallenges)
		}
		if cs := cli.Stats(); cs.PathChanges != 0 {
			t.Errorf("the client, whose server did not move, changed path %d times", cs.PathChanges)
		}
	})
}

// An on-path attacker copies every client packet to the server from its
// own address, ahead of the real one. The server challenges the attacker's
// address (a bounded number of times: maxProbeChallenges per round, a
// round per probeRest; the attacker cannot answer), stays
// on the real path, and the connection carries on; the real copies, late,
// are dropped as replays.
func TestMigrationRacedFromAnotherAddressDoesNotMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, srv, cli := natPair(t)
		evil, err := x.n.Listen(evilAddr)
		if err != nil {
			t.Fatal(err)
		}
		var heard atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 2048)
			for {
				if _, _, err := evil.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
				heard.Add(1)
			}
		}()
		next := stream(t, srv, cli, 0, 500*time.Millisecond)
		x.attacker = evilAddr
		x.race.Store(true)
		const raceFor = 3 * time.Second
		stream(t, srv, cli, next, raceFor)
		evil.Close()
		<-done
		st := srv.Stats()
		t.Logf("attacker's address got %d datagrams; server: %d path challenges, %d replays dropped",
			heard.Load(), st.PathChallenges, st.DropReplay)
		if got := srv.RemoteAddr(); got != natOut1 {
			t.Errorf("the server moved to %v", got)
		}
		if st.PathChanges != 0 {
			t.Errorf("PathChanges = %d, want 0", st.PathChanges)
		}
		if n, most := heard.Load(), int64(maxProbeChallenges*(1+raceFor/probeRest)); n == 0 || n > most {
			t.Errorf("the attacker's address got %d datagrams, want 1..%d challenges", n, most)
		}
		if st.DropReplay == 0 {
			t.Error("no real packet arrived late as a replay: the race did not happen")
		}
	})
}

// The client's NAT rebinds during a one-way outage: for a second nothing
// from the server reaches the client, while the client's packets, from its
// new address, reach the server. The server challenges the new address,
// and every challenge is lost. Once the outage is over the path is clean,
// so the server must validate the new address and the connection carry on:
// every message sent during and after the outage arrives within
// stallBound of the end of the outage. Before the fix, the server had spent
// its challenges for that address (maxProbeChallenges, within a few
// hundred milliseconds) and never challenged it again: it kept sending to
// the dead old address, the client heard nothing and timed out 10 s later
// ("no packet from peer for 10s"), although the network had recovered.
func TestMigrationAfterRebindingDuringAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, srv, cli := natPair(t)
		next := stream(t, srv, cli, 0, 500*time.Millisecond)
		x.toClientLost.Store(true)
		x.rebind()
		conns := [2]*Conn{srv, cli}
		var got [2]uint64
		got[0], got[1] = next, next
		receive := func() {
			for i, c := range conns {
				for m, ok := c.Receive(); ok; m, ok = c.Receive() {
					if s := msgSeq(t, m.Data); s != got[i] {
						t.Fatalf("side %d got message %d, want %d", i, s, got[i])
					}
					got[i]++
				}
				if err := c.Err(); err != nil {
					t.Fatalf("side %d: connection ended: %v (server challenges %d, path changes %d, server sends to %v)",
						i, err, srv.Stats().PathChallenges, srv.Stats().PathChanges, srv.RemoteAddr())
				}
			}
		}
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			for _, c := range conns {
				if err := c.Send(0, seqMsg(next, 40)); err != nil {
					t.Fatalf("send: %v", err)
				}
				c.Flush()
			}
			next++
			time.Sleep(10 * time.Millisecond)
			receive()
		}
		challenges := srv.Stats().PathChallenges
		if challenges == 0 {
			t.Fatal("the server sent no challenge during the outage: the case under test did not happen")
		}
		x.toClientLost.Store(false)
		clean := time.Now()
		for got[0] < next || got[1] < next {
			if el := time.Since(clean); el > stallBound {
				t.Fatalf("%v after the outage: server has %d of %d client messages, client %d of %d server messages; server sends to %v (the client is at %v), %d challenges (%d during the outage)",
					el, got[0], next, got[1], next, srv.RemoteAddr(), natOut2, srv.Stats().PathChallenges, challenges)
			}
			time.Sleep(10 * time.Millisecond)
			receive()
		}
		t.Logf("all %d messages each way arrived %v after the outage; server: %d challenges (%d during the outage), %d path changes",
			next, time.Since(clean), srv.Stats().PathChallenges, challenges, srv.Stats().PathChanges)
		if got := srv.RemoteAddr(); got != natOut2 {
			t.Errorf("the server sends to %v, want %v", got, natOut2)
		}
	})
}
