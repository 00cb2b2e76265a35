package netcode

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
)

// gateConn blocks every write to one address while its gate is shut, like
// a socket whose send buffer stays full.
type gateConn struct {
	PacketConn
	blockTo atomic.Pointer[netip.AddrPort]
	open    chan struct{} // closed: writes go through again
	entered chan struct{} // receives once a write is held
	once    sync.Once
}

func (g *gateConn) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if p := g.blockTo.Load(); p != nil && *p == to {
		g.once.Do(func() { close(g.entered) })
		<-g.open
	}
	return g.PacketConn.WriteToUDPAddrPort(b, to)
}

// gatedServer listens at srvAddr on n through a gateConn, whose writes
// block until release is called (once; calling it again is harmless).
func gatedServer(t *testing.T, n *fakenet.Network) (*Endpoint, *gateConn, func()) {
	t.Helper()
	spc, err := n.Listen(srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	g := &gateConn{PacketConn: spc, open: make(chan struct{}), entered: make(chan struct{})}
	srv, err := ListenPacket(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	var opened sync.Once
	return srv, g, func() { opened.Do(func() { close(g.open) }) }
}

// TestFlushNeverStallsOtherConnections: a connection whose flush is stuck
// in the socket (its writes block) must not delay inbound traffic for the
// other connections of the endpoint (issue 13 item 3). Before, the flush
// held the connection's lock across its writes, and the endpoint's only
// reader goroutine, handed a packet of that connection, waited on the lock:
// every connection of the endpoint went deaf.
func TestFlushNeverStallsOtherConnections(t *testing.T) {
	n := fakenet.New()
	srv, g, release := gatedServer(t, n)
	defer srv.Close()
	defer release() // before srv.Close (deferred calls run last-in first-out)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func(addr netip.AddrPort) (server, client *Conn) {
		t.Helper()
		pc, err := n.Listen(addr)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := NewEndpoint(pc, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ep.Close() })
		acc := make(chan *Conn, 1)
		go func() {
			c, _ := srv.Accept(ctx)
			acc <- c
		}()
		c, err := ep.Dial(ctx, srvAddr, DialOptions{Fingerprint: srv.Fingerprint()})
		if err != nil {
			t.Fatal(err)
		}
		s := <-acc
		if s == nil {
			t.Fatal("accept failed")
		}
		return s, c
	}
	addrA := netip.MustParseAddrPort("10.1.0.2:40000")
	addrB := netip.MustParseAddrPort("10.1.0.3:40000")
	srvA, cliA := dial(addrA)
	srvB, cliB := dial(addrB)

	// The server flushes a burst to A, and the socket holds the first write.
	g.blockTo.Store(&addrA)
	for range 50 {
		if err := srvA.Send(0, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	go srvA.Flush()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the flush never reached the socket")
	}

	// A talks to the server: its packet reaches the reader goroutine first.
	if err := cliA.Send(0, []byte("from A")); err != nil {
		t.Fatal(err)
	}
	cliA.Flush()
	time.Sleep(50 * time.Millisecond)

	// B's message must still be delivered.
	if err := cliB.Send(0, []byte("from B")); err != nil {
		t.Fatal(err)
	}
	cliB.Flush()
	deadline := time.After(5 * time.Second)
	for {
		if m, ok := srvB.Receive(); ok {
			if string(m.Data) != "from B" {
				t.Fatalf("B's server side received %q", m.Data)
			}
			break
		}
		select {
		case <-srvB.Wake():
		case <-deadline:
			t.Fatal("B's message was not delivered within 5 s while A's flush was stuck in the socket: the reader goroutine waits on A")
		}
	}
	// A's message is delivered too: A's connection is not stuck either,
	// only its writes are.
	deadline = time.After(5 * time.Second)
	for {
		if m, ok := srvA.Receive(); ok {
			if string(m.Data) != "from A" {
				t.Fatalf("A's server side received %q", m.Data)
			}
			break
		}
		select {
		case <-srvA.Wake():
		case <-deadline:
			t.Fatal("A's message was not delivered within 5 s while A's flush was stuck in the socket")
		}
	}

	// Once the socket drains, A gets its burst.
	release()
	got := 0
	deadline = time.After(10 * time.Second)
	for got < 50 {
		if _, ok := cliA.Receive(); ok {
			got++
			continue
		}
		select {
		case <-cliA.Wake():
		case <-deadline:
			t.Fatalf("A received %d of 50 messages after the socket drained", got)
		}
	}
}

// TestFullOutboundQueueDoesNotSpin: a connection that finds its endpoint's
// outbound queue full waits for room without spinning its timer (an ack
// it owes cannot leave, and a timer armed for its past deadline fired
// again at once: an overloaded 1,024-client server spent its CPU there),
// and sends what it held once the socket drains.
func TestFullOutboundQueueDoesNotSpin(t *testing.T) {
	old := maxOutPending
	maxOutPending = 4
	defer func() { maxOutPending = old }()
	n := fakenet.New()
	srv, g, release := gatedServer(t, n)
	defer srv.Close()
	defer release()
	cpc, err := n.Listen(cliAddr)
	if err != nil {
		t.Fatal(err)
	}
	cep, err := NewEndpoint(cpc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cep.Close()
	p := &fakePair{net: n, srv: srv, cli: cep, srvAddr: srvAddr}
	srvConn, cli := p.connect(t)

	g.blockTo.Store(&cliAddr)
	for range 20 {
		if err := srvConn.Send(0, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	go srvConn.Flush()
	<-g.entered
	// The client sends: the server owes acks it has no room to seal.
	for i := range 20 {
		if err := cli.Send(0, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		cli.Flush()
		time.Sleep(5 * time.Millisecond)
	}
	srvConn.mu.Lock()
	fires0, waiting := srvConn.stats.timerFires, srvConn.waitRoom
	srvConn.mu.Unlock()
	time.Sleep(500 * time.Millisecond)
	srvConn.mu.Lock()
	fires := srvConn.stats.timerFires - fires0
	srvConn.mu.Unlock()
	t.Logf("waiting for room: %v; timer fired %d times in 500 ms", waiting, fires)
	if !waiting {
		t.Fatal("the server connection never found the queue full: the test does not test")
	}
	if fires > 20 {
		t.Fatalf("the timer fired %d times in 500 ms while the connection waited for room", fires)
	}
	release()
	got := 0
	deadline := time.After(10 * time.Second)
	for got < 20 {
		if _, ok := cli.Receive(); ok {
			got++
			continue
		}
		select {
		case <-cli.Wake():
		case <-deadline:
			t.Fatalf("the client received %d of 20 messages after the socket drained", got)
		}
	}
	for got = 0; got < 20; {
		if _, ok := srvConn.Receive(); ok {
			got++
			continue
		}
		select {
		case <-srvConn.Wake():
		case <-deadline:
			t.Fatalf("the server received %d of 20 messages", got)
		}
	}
}
