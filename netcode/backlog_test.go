package netcode

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 12, defect 11: a full accept backlog used to close new connections
// with CodeServerBusy ("accept backlog full"). Now they wait: 6 clients
// connect to a server with AcceptBacklog 2 that does not Accept for 15 s
// (longer than the idle timeout); then it accepts all 6 and each carries
// messages both ways.
func TestFullAcceptBacklogWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{AcceptBacklog: 2}, nil)
		const n = 6
		type res struct {
			c   *Conn
			err error
		}
		dialed := make(chan res, n)
		for i := range n {
			pc, err := p.net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.1.5.%d:4000", i+1)))
			if err != nil {
				t.Fatal(err)
			}
			ep, err := NewEndpoint(pc, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ep.Close() })
			go func() {
				c, err := ep.Dial(context.Background(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()})
				dialed <- res{c, err}
			}()
		}
		clients := make([]*Conn, 0, n)
		for range n {
			r := <-dialed
			if r.err != nil {
				t.Fatalf("dial: %v", r.err)
			}
			clients = append(clients, r.c)
		}
		time.Sleep(15 * time.Second)
		for i, c := range clients {
			if err := c.Err(); err != nil {
				t.Fatalf("client %d ended while waiting for Accept: %v", i, err)
			}
		}
		st := p.srv.Stats()
		if st.HandshakesDone != n || st.HandshakesInFlight != n-2 {
			t.Fatalf("after 15 s without Accept: %d done, %d waiting in slots (want %d, %d): %+v", st.HandshakesDone, st.HandshakesInFlight, n, n-2, st)
		}
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			srv, err := p.srv.Accept(ctx)
			cancel()
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			var cli *Conn
			for _, c := range clients {
				if c.LocalAddr().String() == srv.RemoteAddr().String() {
					cli = c
				}
			}
			if cli == nil {
				t.Fatalf("accepted %v, not one of the clients", srv.RemoteAddr())
			}
			exchange(t, cli, srv, "after waiting")
			exchange(t, srv, cli, "and back")
		}
		synctest.Wait() // a slot is released by the goroutine that served the handshake
		if st := p.srv.Stats(); st.HandshakesInFlight != 0 {
			t.Fatalf("%d slots still held after every connection was accepted", st.HandshakesInFlight)
		}
	})
}

// dropSecondFlight drops a client's cookie-wrapped DTLS datagrams other
// than its ClientHello while blocked is set.
type dropSecondFlight struct {
	PacketConn
	blocked atomic.Bool
	dropped atomic.Int64
}

func (d *dropSecondFlight) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if d.blocked.Load() && len(b) > 0 && b[0] == typeCookieDTLS {
		if _, dtls, err := parseCookieDTLS(b); err == nil && !isClientHello(dtls) {
			d.dropped.Add(1)
			return len(b), nil
		}
	}
	return d.PacketConn.WriteToUDPAddrPort(b, to)
}

// A server that lost a client's handshake after answering it (here: the
// client's second flight was lost until the server's handshake timed out;
// eviction does the same) answers the client's next retransmission with
// HANDSHAKE_LOST, and the client starts over at once instead of
// retransmitting into the void until its own timeout.
func TestClientRestartsLostHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{HandshakeTimeout: 2 * time.Second}, nil)
		pc, err := p.net.Listen(netip.MustParseAddrPort("10.1.6.1:4000"))
		if err != nil {
			t.Fatal(err)
		}
		d := &dropSecondFlight{PacketConn: pc}
		d.blocked.Store(true)
		cli, err := NewEndpoint(d, &Config{HandshakeTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		go p.srv.Accept(t.Context())
		start := time.Now()
		type res struct {
			c   *Conn
			err error
		}
		done := make(chan res, 1)
		go func() {
			c, err := cli.Dial(context.Background(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()})
			done <- res{c, err}
		}()
		time.Sleep(2500 * time.Millisecond) // the server's handshake timed out
		if st := p.srv.Stats(); st.HandshakesFailed != 1 || st.HandshakesInFlight != 0 {
			t.Fatalf("the server should have given the handshake up: %+v", st)
		}
		d.blocked.Store(false)
		r := <-done
		if r.err != nil {
			t.Fatalf("dial after the server lost the handshake: %v (after %v)", r.err, time.Since(start))
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("dial took %v: the client did not start over when told", el)
		}
		if d.dropped.Load() == 0 {
			t.Fatal("no second flight was dropped: the test tested nothing")
		}
	})
}
