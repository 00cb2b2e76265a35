package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/floodtest"
	"github.com/pumpnet/pumpnet/netcode"
)

// runServer pumps srv on its own goroutine (the only one that touches it)
// until the test ends, then closes it there.
func runServer(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			srv.PumpWait(ctx, 50*time.Millisecond)
		}
		srv.Close()
		srv.Pump()
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// clientHelloFor dials ep's server once through a recording socket and
// returns the ClientHello a real client sends.
func clientHelloFor(t *testing.T, srv *netcode.Endpoint) []byte {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &floodtest.Recorder{UDPConn: uc}
	ep, err := netcode.NewEndpoint(rec, EndpointConfig(netcode.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ep.Dial(ctx, srv.AddrPort(), netcode.DialOptions{Fingerprint: srv.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	hello, err := rec.Hello()
	if err != nil {
		t.Fatal(err)
	}
	return hello
}

// clientIdentity is one certificate for every test client: a real client
// makes its identity on its own machine, ahead of time, so 1,000 key
// generations on the server's two cores would measure the test, not the
// server.
var clientIdentity = sync.OnceValues(netcode.GenerateCertificate)

// hsTimeout is the test clients' handshake timeout (0: the default).
var hsTimeout time.Duration

// connectAndWait connects a client to target and pumps it on this
// goroutine until the server's "connected" greeting arrives (the server
// accepted it), returning how long that took.
func connectAndWait(target string, limit time.Duration) (time.Duration, error) {
	cert, err := clientIdentity()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cl, err := Connect(target, &ClientConfig{Net: netcode.Config{Certificate: &cert, HandshakeTimeout: hsTimeout}})
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	greeted := false
	var failure error
	cl.Handle("connected", func(Msg) { greeted = true })
	cl.Handle("error", func(err error) {
		if !errors.Is(err, ErrUnhandled) { // the server's broadcasts have no handler here
			failure = err
		}
	})
	cl.Handle("disconnected", func(d Disconnected) {
		if failure == nil {
			failure = fmt.Errorf("disconnected: %s", d.Reason)
		}
	})
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	tick := time.NewTicker(250 * time.Millisecond) // in case a wake-up is missed
	defer tick.Stop()
	for !greeted && failure == nil {
		select {
		case <-cl.Wake():
		case <-tick.C:
		case <-timeout.C:
			return time.Since(start), fmt.Errorf("no greeting after %v", limit)
		}
		cl.Pump()
	}
	return time.Since(start), failure
}

// Issue 12, defect 1, end to end: an engine server (engine.Listen,
// default configuration) under a flood of 1,000 half-open handshakes —
// completed cookie exchanges, then garbage or a real ClientHello and
// silence, repeated — from one IP or from 256; an engine client
// (engine.Connect) is greeted by the server within 2 s.
func TestHandshakeFloodEngineClientConnects(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 real sockets and real time: skipped with -short")
	}
	for _, tc := range []struct {
		ips  int
		kind floodtest.Kind
	}{
		{1, floodtest.Garbage},
		{1, floodtest.Hello},
		{256, floodtest.Garbage},
		{256, floodtest.Hello},
	} {
		t.Run(fmt.Sprintf("%v-from-%d-ips", tc.kind, tc.ips), func(t *testing.T) {
			srv, err := Listen("127.0.0.1:0", nil)
			if err != nil {
				t.Fatal(err)
			}
			ep := srv.Endpoint()
			target := srv.ConnectString()
			runServer(t, srv)
			hello := clientHelloFor(t, ep)
			fl := floodtest.Start(t, floodtest.Config{
				Target: ep.AddrPort(), IPs: floodtest.LoopbackIPs(t, tc.ips), Sockets: 1000,
				Kind: tc.kind, Hello: hello, Resend: 500 * time.Millisecond, Seed: uint64(tc.ips),
			})
			if got := fl.Ready(20 * time.Second); got < 1000 {
				t.Fatalf("only %d of 1,000 attackers completed the cookie exchange", got)
			}
			time.Sleep(200 * time.Millisecond)
			mid := ep.Stats()
			el, err := connectAndWait(target, 5*time.Second)
			st := ep.Stats()
			t.Logf("flood: %d datagrams, %d handshakes in flight when the client dialed; client greeted after %v (err %v); evicted %d, not-a-ClientHello drops %d, cap drops %d, per-IP drops %d",
				fl.Sent(), mid.HandshakesInFlight, el.Round(time.Millisecond), err, st.HandshakesEvicted,
				st.DropNotHello, st.DropHandshakeLimit, st.DropAddrLimit)
			if err != nil {
				t.Fatalf("client during the flood: %v after %v", err, el)
			}
			// The bound is 2 s; the race detector slows handshakes
			// several times over, so -race runs (CI's main pass) allow 5 s and CI
			// runs these tests once more without -race, at 2 s.
			limit := 2 * time.Second
			if raceEnabled {
				limit = 5 * time.Second
			}
			if el > limit {
				t.Errorf("client greeted after %v during the flood, want under %v", el, limit)
			}
		})
	}
}

// raiseFileLimit lifts the soft limit on open files toward n (one socket
// per client).
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	old := lim
	lim.Cur = min(n, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < n {
		t.Skipf("cannot raise the open-file limit to %d (max %d): %v", n, lim.Max, err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// Issue 12, defect 11: n clients connect at once to a server that, like
// the chat example, tells every player who is there each time one joins,
// and spends 3 ms on each join, so its Pump falls behind while handshakes
// complete and more than AcceptBacklog (64) connections wait for it. Every client is
// greeted (none is refused with "accept backlog full"), the slowest within
// limit.
func joinBurst(t *testing.T, n int, limit time.Duration, listNames bool) {
	raiseFileLimit(t, uint64(3*n+256))
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	ep := srv.Endpoint()
	target := srv.ConnectString()
	srv.OnConnect(func(p *Peer) {
		// The game's own work for a joining player (loading its state,
		// logging): the server's Pump falls behind the handshakes.
		time.Sleep(3 * time.Millisecond)
		chs := srv.Peers()
		if !listNames {
			srv.Send(Msg{"action": "players", "count": len(chs)})
			return
		}
		names := make([]string, 0, len(chs))
		for _, c := range chs {
			names = append(names, c.Addr().String())
		}
		srv.Send(Msg{"action": "players", "players": names})
	})
	runServer(t, srv)

	times := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			times[i], errs[i] = connectAndWait(target, 3*limit)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed < 5 {
				t.Errorf("client %d: %v after %v", i, err, times[i])
			}
			failed++
		}
	}
	slices.Sort(times)
	st := ep.Stats()
	t.Logf("%d clients at once: %d failed; connect times p50 %v, p90 %v, slowest %v; all done in %v; server: %d handshakes done, %d failed, %d evicted, cap drops %d, per-IP drops %d",
		n, failed, times[n/2].Round(time.Millisecond), times[n*9/10].Round(time.Millisecond),
		times[n-1].Round(time.Millisecond), wall.Round(time.Millisecond), st.HandshakesDone, st.HandshakesFailed,
		st.HandshakesEvicted, st.DropHandshakeLimit, st.DropAddrLimit)
	if failed > 0 {
		t.Fatalf("%d of %d clients were not connected", failed, n)
	}
	if times[n-1] > limit {
		t.Errorf("slowest of %d clients connected after %v, want within %v", n, times[n-1], limit)
	}
}

// TestJoinBurst200: 200 clients, the player list (200 addresses) sent to
// everyone on each join, the slowest within 5 s. Under the race detector,
// which slows every goroutine of the process (server and 200 clients) on
// the same two cores several times over, the server sends the count only
// and the bound is 20 s: every client must still connect.
func TestJoinBurst200(t *testing.T) {
	if testing.Short() {
		t.Skip("200 real clients: skipped with -short")
	}
	if raceEnabled {
		joinBurst(t, 200, 20*time.Second, false)
		return
	}
	joinBurst(t, 200, 5*time.Second, true)
}

// TestJoinBurst1000: 1,000 clients, the player count sent to everyone on
// each join, the slowest within 30 s (3 s of it are the server's 3 ms per
// join). Under the race detector, the 1,000 clients and the server on two
// cores take longer than the clients' default 10 s handshake timeout, so
// the clients there wait up to 60 s and the bound is 45 s.
func TestJoinBurst1000(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 real clients: skipped with -short")
	}
	if raceEnabled {
		hsTimeout = 60 * time.Second
		t.Cleanup(func() { hsTimeout = 0 })
		joinBurst(t, 1000, 45*time.Second, false)
		return
	}
	joinBurst(t, 1000, 30*time.Second, false)
}
