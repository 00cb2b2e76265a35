package rendezvous

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// loopbackPeers lets the test relays reach peers on 127.0.0.0/8.
func loopbackPeers(a netip.Addr) bool { return a.IsLoopback() }

// turnServer is a Server with ServeTURN running on 127.0.0.1 and its HTTP
// API on an httptest server.
type turnServer struct {
	s    *Server
	url  string
	addr string // the TURN socket's address
}

// startTURNServer runs a Server whose embedded TURN listens on 127.0.0.1;
// edit adjusts the Config once the TURN address is known.
func startTURNServer(t *testing.T, clock *fakeClock, edit func(*Config)) *turnServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TURN: TURNConfig{Public: pc.LocalAddr().String(), AllowPeer: loopbackPeers}}
	if edit != nil {
		edit(&cfg)
	}
	s, hs := newTestServer(t, cfg)
	if clock != nil {
		s.now = clock.now
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTURN(pc) }()
	t.Cleanup(func() {
		pc.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeTURN: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("ServeTURN did not return 10 s after its socket closed")
		}
		if n := s.Stats().TURNAllocations; n != 0 {
			t.Errorf("%d TURN allocations counted after ServeTURN returned", n)
		}
	})
	return &turnServer{s: s, url: hs.URL, addr: pc.LocalAddr().String()}
}

// turnOf returns the turn: entry of a member's ICE servers.
func turnOf(t *testing.T, list []ICEServer, prefix string) ICEServer {
	t.Helper()
	for _, s := range list {
		for _, u := range s.URLs {
			if strings.HasPrefix(u, prefix) {
				return s
			}
		}
	}
	t.Fatalf("no %s… server in %+v", prefix, list)
	return ICEServer{}
}

var quietLogs = func() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelDisabled
	return f
}()

// turnClient is a pion/turn client on a socket of localIP.
func turnClient(t *testing.T, localIP, server string, cred ICEServer) *turn.Client {
	t.Helper()
	conn := udpFrom(t, localIP)
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server,
		Username: cred.Username, Password: cred.Credential,
		Conn: conn, LoggerFactory: quietLogs, RTO: 100 * time.Millisecond,
		PermissionRefreshInterval: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// allocate makes one allocation from a new socket on localIP.
func allocate(t *testing.T, localIP, server string, cred ICEServer) (net.PacketConn, error) {
	t.Helper()
	c := turnClient(t, localIP, server, cred)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	relay, err := c.AllocateWithContext(ctx)
	if err == nil {
		t.Cleanup(func() { relay.Close() })
	}
	return relay, err
}

// relays reports whether a datagram sent through relay reaches a peer
// socket and the peer's answer comes back through the relay.
func relays(t *testing.T, relay net.PacketConn, peer *net.UDPConn) bool {
	t.Helper()
	msg := fmt.Appendf(nil, "ping %d", time.Now().UnixNano())
	buf := make([]byte, 1500)
	for range 5 {
		if _, err := relay.WriteTo(msg, peer.LocalAddr()); err != nil {
			t.Logf("relay write: %v", err)
			return false
		}
		peer.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err := peer.ReadFrom(buf)
		if err != nil || string(buf[:n]) != string(msg) {
			continue
		}
		if _, err := peer.WriteTo([]byte("pong"), from); err != nil {
			t.Fatal(err)
		}
		relay.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err = relay.ReadFrom(buf)
		if err == nil && string(buf[:n]) == "pong" {
			return true
		}
	}
	return false
}

// member creates or joins a room from localIP and returns its Room.
func (ts *turnServer) member(t *testing.T, localIP, code string) *Room {
	t.Helper()
	c := newClient(t, ts.url, httpFrom(localIP))
	var r *Room
	var err error
	if code == "" {
		r, err = c.Create(ctxT(t), "game", false, Record{Seats: 1})
	} else {
		r, err = c.Join(ctxT(t), code, Record{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTURNCredentialsExpire: credentials from a join answer allocate on
// the embedded TURN; once Config.CredentialTTL has passed (an injected
// clock) the same credentials make no new allocation, while the
// allocation they made goes on being refreshed and relaying; a poll
// brings fresh credentials that allocate again.
func TestTURNCredentialsExpire(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	ts := startTURNServer(t, clock, func(c *Config) {
		c.TURN.Lifetime = 2 * time.Second // the client refreshes every second
		c.PollTimeout = 200 * time.Millisecond
		c.MemberTimeout = time.Hour // the clock jumps 10 minutes
	})
	room := ts.member(t, "127.77.1.1", "")
	cred := turnOf(t, room.ICEServers(), "turn:")
	if want := "turn:" + ts.addr + "?transport=udp"; cred.URLs[0] != want {
		t.Fatalf("TURN URL %q, want %q", cred.URLs[0], want)
	}
	relay, err := allocate(t, "127.77.1.1", ts.addr, cred)
	if err != nil {
		t.Fatalf("allocation with fresh credentials: %v", err)
	}
	peer := udpFrom(t, "127.77.1.9")
	if !relays(t, relay, peer) {
		t.Fatal("the fresh allocation does not relay")
	}

	clock.add(10*time.Minute + 2*time.Second) // past the default TTL
	if _, err := allocate(t, "127.77.1.1", ts.addr, cred); err == nil {
		t.Fatal("an expired credential made a new allocation")
	} else {
		t.Logf("expired credential refused: %v", err)
	}
	// Three lifetimes later the first allocation is still there: its
	// refreshes were accepted with the expired credential.
	time.Sleep(3 * 2 * time.Second)
	if !relays(t, relay, peer) {
		t.Fatal("the allocation made in time stopped relaying after its credential expired")
	}
	if n := ts.s.Stats().TURNAllocations; n != 1 {
		t.Fatalf("%d allocations, want 1", n)
	}

	// A poll brings fresh credentials.
	if _, err := room.Poll(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	fresh := turnOf(t, room.ICEServers(), "turn:")
	if fresh.Username == cred.Username {
		t.Fatal("the poll brought no fresh credentials")
	}
	if _, err := allocate(t, "127.77.1.1", ts.addr, fresh); err != nil {
		t.Fatalf("allocation with the polled credentials: %v", err)
	}
}

// TestTURNForgedCredentials: credentials not made by the server, or
// altered, or for another realm, allocate nothing.
func TestTURNForgedCredentials(t *testing.T) {
	ts := startTURNServer(t, nil, nil)
	room := ts.member(t, "127.77.2.1", "")
	good := turnOf(t, room.ICEServers(), "turn:")
	exp := time.Now().Add(time.Hour)
	otherSecret := func() ICEServer {
		u, c := turnCredential("not the secret", room.ID, exp)
		return ICEServer{Username: u, Credential: c}
	}()
	longer := func() ICEServer { // a later expiry with the old password
		_, id, _ := parseTURNUsername(good.Username)
		return ICEServer{Username: fmt.Sprintf("%d:%s", exp.Add(24*time.Hour).Unix(), id), Credential: good.Credential}
	}()
	for name, cred := range map[string]ICEServer{
		"another secret":      otherSecret,
		"a later expiry":      longer,
		"a wrong password":    {Username: good.Username, Credential: "AAAA" + good.Credential[4:]},
		"a username of no ID": {Username: fmt.Sprintf("%d:someone", exp.Unix()), Credential: turnPassword(ts.s.cfg.TURN.Secret, fmt.Sprintf("%d:someone", exp.Unix()))},
		"no credentials":      {},
	} {
		if _, err := allocate(t, "127.77.2.1", ts.addr, cred); err == nil {
			t.Errorf("%s: allocated", name)
		}
	}
	if _, err := allocate(t, "127.77.2.1", ts.addr, good); err != nil {
		t.Fatalf("the member's own credentials: %v", err)
	}
}

// TestTURNAllocationBounds: one member floods the relay with allocations
// from many sockets; it gets MaxAllocationsPerMember, another member at
// the same source gets what is left of MaxAllocationsPerIP, members at
// other sources still allocate until MaxAllocations, and every relay
// address is RelayIP with a port in MinPort..MaxPort.
func TestTURNAllocationBounds(t *testing.T) {
	const perMember, perIP, total = 3, 5, 8
	ts := startTURNServer(t, nil, func(c *Config) {
		c.TURN.MaxAllocationsPerMember = perMember
		c.TURN.MaxAllocationsPerIP = perIP
		c.TURN.MaxAllocations = total
		c.TURN.MinPort, c.TURN.MaxPort = 41000, 41063
	})
	flood := ts.member(t, "127.77.3.1", "")
	count := func(ip string, r *Room, tries int) int {
		cred := turnOf(t, r.ICEServers(), "turn:")
		n := 0
		for range tries {
			relay, err := allocate(t, ip, ts.addr, cred)
			if err != nil {
				continue
			}
			n++
			a := relay.LocalAddr().(*net.UDPAddr)
			if !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port < 41000 || a.Port > 41063 {
				t.Errorf("relay address %v, want 127.0.0.1:41000..41063", a)
			}
		}
		return n
	}
	if n := count("127.77.3.1", flood, 12); n != perMember {
		t.Fatalf("flooding member got %d allocations of 12 tried, want %d", n, perMember)
	}
	sameIP := ts.member(t, "127.77.3.1", flood.Code)
	if n := count("127.77.3.1", sameIP, 4); n != perIP-perMember {
		t.Fatalf("a second member at the flooding source got %d allocations, want %d", n, perIP-perMember)
	}
	other := ts.member(t, "127.77.3.2", flood.Code)
	if n := count("127.77.3.2", other, 2); n != 2 {
		t.Fatalf("a member at another source got %d allocations of 2 during the flood", n)
	}
	third := ts.member(t, "127.77.3.3", flood.Code)
	if n := count("127.77.3.3", third, 3); n != total-perIP-2 {
		t.Fatalf("a member at a third source got %d allocations, want the %d left of %d", n, total-perIP-2, total)
	}
	if n := ts.s.Stats().TURNAllocations; n != total {
		t.Fatalf("Stats.TURNAllocations %d, want %d", n, total)
	}
}

// TestTURNRequestFlood: STUN requests from a flooding source are answered
// at Config.RequestRate; another source is answered meanwhile.
func TestTURNRequestFlood(t *testing.T) {
	ts := startTURNServer(t, nil, func(c *Config) { c.RequestRate, c.RequestBurst = 1, 5 })
	addr, err := net.ResolveUDPAddr("udp4", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	flood := udpFrom(t, "127.77.4.1")
	answered := 0
	start := time.Now()
	for range 30 {
		if _, ok := bind(t, flood, addr, 50*time.Millisecond); ok {
			answered++
		}
	}
	if bound := 5 + int(time.Since(start).Seconds()) + 1; answered < 1 || answered > bound {
		t.Fatalf("flooding source answered %d of 30 in %v, want 1..%d", answered, time.Since(start), bound)
	}
	if _, ok := bind(t, udpFrom(t, "127.77.4.2"), addr, 5*time.Second); !ok {
		t.Fatal("another source got no answer during the flood")
	}
}

func TestIsSTUNRequest(t *testing.T) {
	for _, c := range []struct {
		msg  []byte
		want bool
	}{
		{stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw, true},
		{stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest)).Raw, true},
		{stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodRefresh, stun.ClassRequest)).Raw, true},
		{stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication)).Raw, false},
		{stun.MustBuild(stun.TransactionID, stun.BindingSuccess).Raw, false},
		{stun.MustBuild(stun.TransactionID, stun.BindingError).Raw, false},
		{append([]byte{0x40, 0x00, 0x00, 0x10}, make([]byte, 16)...), false}, // ChannelData
		{[]byte{0, 1, 0}, false},
	} {
		if got := isSTUNRequest(c.msg); got != c.want {
			t.Errorf("isSTUNRequest(% x…) = %v, want %v", c.msg[:min(4, len(c.msg))], got, c.want)
		}
	}
}

// Environment of TestTURNClientsHelper (re-executed by
// TestTURNMemoryPerAllocation, so the clients' memory is not counted).
const (
	turnHelperEnv = "PUMPNET_RDV_TURN_HELPER" // server address
	turnUserEnv   = "PUMPNET_RDV_TURN_USER"
	turnPassEnv   = "PUMPNET_RDV_TURN_PASS"
	turnCountEnv  = "PUMPNET_RDV_TURN_COUNT"
)

// TestTURNMemoryPerAllocation measures what one allocation costs the
// embedded TURN: heap and goroutine stacks, with the clients in another
// process.
func TestTURNMemoryPerAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a helper process")
	}
	const n = 200
	ts := startTURNServer(t, nil, func(c *Config) {
		c.TURN.MaxAllocationsPerMember, c.TURN.MaxAllocationsPerIP = n, n
		c.RequestRate, c.RequestBurst = 1e4, 1e4
	})
	cred := turnOf(t, ts.member(t, "127.77.6.1", "").ICEServers(), "turn:")
	usage := func() (uint64, int) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc + ms.StackInuse, runtime.NumGoroutine()
	}
	before, g0 := usage()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestTURNClientsHelper$")
	cmd.Env = append(os.Environ(), turnHelperEnv+"="+ts.addr, turnUserEnv+"="+cred.Username,
		turnPassEnv+"="+cred.Credential, fmt.Sprintf("%s=%d", turnCountEnv, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	for deadline := time.Now().Add(60 * time.Second); ts.s.Stats().TURNAllocations < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d allocations after 60 s; helper: %s", ts.s.Stats().TURNAllocations, n, out.String())
		}
	}
	after, g1 := usage()
	per := float64(after-before) / n
	t.Logf("%d allocations: %.0f bytes of heap and stack each, %.1f goroutines each (and a UDP socket: kernel buffers hold only what waits)",
		n, per, float64(g1-g0)/n)
	if per > 32<<10 {
		t.Fatalf("%.0f bytes per allocation, stated bound 32 KiB", per)
	}
}

// TestTURNClientsHelper makes allocations for TestTURNMemoryPerAllocation
// and holds them until stdin closes; otherwise it does nothing.
func TestTURNClientsHelper(t *testing.T) {
	server := os.Getenv(turnHelperEnv)
	if server == "" {
		t.Skip("helper process of TestTURNMemoryPerAllocation")
	}
	n, _ := strconv.Atoi(os.Getenv(turnCountEnv))
	cred := ICEServer{Username: os.Getenv(turnUserEnv), Credential: os.Getenv(turnPassEnv)}
	for i := range n {
		if _, err := allocate(t, "127.77.6.1", server, cred); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
	}
	io.Copy(io.Discard, os.Stdin)
}

// TestTURNRelayRoundTrip measures what the embedded relay's own work adds
// to a round trip: UDP pings to an echoing peer on 127.0.0.1, directly and
// through an allocation (ChannelData both ways), 500 each; every relayed
// ping must come back.
func TestTURNRelayRoundTrip(t *testing.T) {
	ts := startTURNServer(t, nil, nil)
	relay, err := allocate(t, "127.77.7.1", ts.addr, turnOf(t, ts.member(t, "127.77.7.1", "").ICEServers(), "turn:"))
	if err != nil {
		t.Fatal(err)
	}
	peer := udpFrom(t, "127.77.7.9")
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			peer.WriteTo(buf[:n], from)
		}
	}()
	median := func(c net.PacketConn) time.Duration {
		var rtts []time.Duration
		buf := make([]byte, 1500)
		for i := range 520 {
			msg := fmt.Appendf(nil, "ping %d", i)
			start := time.Now()
			if _, err := c.WriteTo(msg, peer.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			for {
				n, _, err := c.ReadFrom(buf)
				if err != nil {
					t.Fatalf("round trip %d through %v: %v", i, c.LocalAddr(), err)
				}
				if string(buf[:n]) == string(msg) {
					break
				}
			}
			if i >= 20 { // the first ones set up permissions and channels
				rtts = append(rtts, time.Since(start))
			}
		}
		slices.Sort(rtts)
		return rtts[len(rtts)/2]
	}
	direct := median(udpFrom(t, "127.77.7.2"))
	relayed := median(relay)
	t.Logf("median UDP round trip on 127.0.0.1: direct %v, through the embedded TURN %v (+%v)", direct, relayed, relayed-direct)
}
