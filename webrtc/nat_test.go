//go:build linux

package webrtc

// ConnectPeer across NATs: every test here builds home networks behind NAT
// routers out of network namespaces (internal/natrig), runs a STUN/TURN
// server (pion/turn) and a small signaling mailbox on the rig's public
// host, and one peer per home (this test binary, re-executed in a helper
// role). No packet reaches the machine's real interfaces; without root,
// iproute2 or nftables the tests skip and say why.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/pumpnet/pumpnet/internal/natrig"
	"github.com/pumpnet/pumpnet/internal/netnstest"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/rendezvous"
)

// Environment of a re-executed test binary (TestNATHelperProcess).
const (
	natRoleEnv    = "PUMPNET_WEBRTC_NAT_ROLE"    // public, or peer
	natPublicEnv  = "PUMPNET_WEBRTC_NAT_PUBLIC"  // public: its address; peer: the public host's
	natNameEnv    = "PUMPNET_WEBRTC_NAT_NAME"    // peer: its mailbox
	natPeerEnv    = "PUMPNET_WEBRTC_NAT_PEER"    // peer: the other peer's mailbox
	natOfferEnv   = "PUMPNET_WEBRTC_NAT_OFFER"   // peer: "1" if it makes the offer
	natKeyEnv     = "PUMPNET_WEBRTC_NAT_KEY"     // peer: its key file
	natPeerFPEnv  = "PUMPNET_WEBRTC_NAT_PEER_FP" // peer: the other peer's fingerprint
	natTURNEnv    = "PUMPNET_WEBRTC_NAT_TURN"    // public: "coturn" runs Debian's coturn instead of pion/turn; "rdv" and "rdv-coturn" a rendezvous (below)
	natRdvEnv     = "PUMPNET_WEBRTC_NAT_RDV"     // peer: "1": signal through the rendezvous and take its ICE servers
	natCodeEnv    = "PUMPNET_WEBRTC_NAT_CODE"    // peer: the room to join (the offerer creates it)
	natMessages   = 5                            // messages each peer sends
	natRoundTrips = 50                           // pings the offerer times
	natTURNPort   = 3478
	natSignalPort = 8080
	natTURNUser   = "natrig"
	natTURNPass   = "natrig-secret"
	natTURNRealm  = "pumpnet.test"
	natRdvSecret  = "natrig-rest-secret" // rdv-coturn: shared by the rendezvous and coturn (use-auth-secret)
)

// natPeer is one peer's result.
type natPeer struct {
	name          string
	connect       time.Duration
	local, remote string // candidate types
	remoteAddr    string
	rtt, rtt90    time.Duration // the offerer's round trips: median, 90th percentile
	localAddr     string
}

// runNATPair builds a rig of two homes with the given NATs, runs the
// public host and one peer in each home, and returns what each peer saw.
func runNATPair(t *testing.T, nats [2]natrig.NAT) [2]natPeer {
	return runNATPairWith(t, nats, "pion")
}

// runNATPairWith is runNATPair with a choice of TURN server on the public
// host: "pion" (pion/turn, in the helper process) or "coturn" (Debian's
// coturn, a third-party server, started by the helper in its namespace),
// both with a static user and the tests' own signaling mailbox; or a
// rendezvous server that the peers meet in (the offerer creates a room,
// the other joins it by code), signal through, and take their ICE servers
// and TURN credentials from: "rdv" (its embedded TURN) or "rdv-coturn"
// (coturn with use-auth-secret, sharing only a secret with the
// rendezvous).
func runNATPairWith(t *testing.T, nats [2]natrig.NAT, turnImpl string) [2]natPeer {
	r := natrig.New(t, "pumpnet-webrtc-nat-", natrig.Config{Homes: nats[:]})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := "-test.run=^TestNATHelperProcess$"
	pub := r.RunPublic(0, "public", []string{natRoleEnv + "=public", natPublicEnv + "=" + r.PublicAddr(0).String(), natTURNEnv + "=" + turnImpl}, exe, run)
	pub.WaitLine(`public: ready`, 30*time.Second)

	dir := t.TempDir()
	var keys [2]string
	var fps [2]Fingerprint
	for i := range 2 {
		keys[i] = filepath.Join(dir, fmt.Sprintf("peer%d.pem", i+1))
		cert, _, err := netcode.LoadKeyFile(keys[i])
		if err != nil {
			t.Fatal(err)
		}
		if fps[i], err = FingerprintOf(cert.Certificate[0]); err != nil {
			t.Fatal(err)
		}
	}
	var out [2]natPeer
	var procs [2]*netnstest.Proc
	code := "" // with a rendezvous: the room the offerer created
	for i := range 2 {
		name := fmt.Sprintf("p%d-%s", i+1, nats[i])
		offer := ""
		if i == 0 {
			offer = "1"
		}
		env := []string{
			natRoleEnv + "=peer",
			natPublicEnv + "=" + r.PublicAddr(0).String(),
			natNameEnv + "=" + fmt.Sprintf("p%d", i+1),
			natPeerEnv + "=" + fmt.Sprintf("p%d", 2-i),
			natOfferEnv + "=" + offer,
			natKeyEnv + "=" + keys[i],
			natPeerFPEnv + "=" + fps[1-i].String(),
		}
		rdv := strings.HasPrefix(turnImpl, "rdv")
		if rdv {
			env = append(env, natRdvEnv+"=1", natCodeEnv+"="+code)
		}
		procs[i] = r.RunHome(i, 0, name, env, exe, run)
		out[i].name = name
		if rdv && i == 0 {
			_, m := procs[0].WaitLine(`peer: room (\w+)`, 30*time.Second)
			code = m[1]
		}
		if rdv {
			// The ICE servers came from the join answer: the rig's TURN,
			// with a credential for this peer's own key.
			_, m := procs[i].WaitLine(`peer: ice turn:(\S+) user (\d+):(\w+)`, 30*time.Second)
			if want := fmt.Sprintf("%s:%d?transport=udp", r.PublicAddr(0), natTURNPort); m[1] != want {
				t.Errorf("%s: TURN server turn:%s from the rendezvous, want turn:%s", name, m[1], want)
			}
			if m[3] != fps[i].String() {
				t.Errorf("%s: TURN credential for member %s, want its own key %s", name, m[3], fps[i])
			}
		}
	}
	for i, p := range procs {
		m := p.WaitAll(`peer: connected (\d+)ms local (\w+) (\S+) remote (\w+) (\S+)`, 1, 90*time.Second)[0]
		out[i].connect = parseInt(t, m[1]) * time.Millisecond
		out[i].local, out[i].localAddr, out[i].remote, out[i].remoteAddr = m[2], m[3], m[4], m[5]
	}
	for i, p := range procs {
		got := p.WaitAll(`peer: got hello (\d+) from (p\d)`, natMessages, 30*time.Second)
		for k, m := range got {
			if m[1] != fmt.Sprint(k) || m[2] != fmt.Sprintf("p%d", 2-i) {
				t.Errorf("%s: message %d is %q from %s, want hello %d from p%d", p.Name(), k, m[1], m[2], k, 2-i)
			}
		}
		if i == 0 {
			m := p.WaitAll(`peer: rtt (\d+)us p90 (\d+)us`, 1, 30*time.Second)[0]
			out[i].rtt = parseInt(t, m[1]) * time.Microsecond
			out[i].rtt90 = parseInt(t, m[2]) * time.Microsecond
		} else {
			m := p.WaitAll(`peer: echoed (\d+)`, 1, 30*time.Second)[0]
			if m[1] != fmt.Sprint(natRoundTrips) {
				t.Errorf("%s echoed %s pings, want %d", p.Name(), m[1], natRoundTrips)
			}
		}
	}
	for _, p := range procs {
		p.Exit(10 * time.Second)
	}
	return out
}

// parseInt parses a count a helper printed.
func parseInt(t *testing.T, s string) time.Duration {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return time.Duration(n)
}

func logNATPeer(t *testing.T, p natPeer) {
	t.Helper()
	rtt := ""
	if p.rtt > 0 {
		rtt = fmt.Sprintf(", %d reliable round trips: median %v, p90 %v", natRoundTrips, p.rtt, p.rtt90)
	}
	t.Logf("%s: connected in %v, local %s %s, remote %s %s%s", p.name, p.connect, p.local, p.localAddr, p.remote, p.remoteAddr, rtt)
}

// TestNATConeToConeDirect: two peers behind cone NATs (endpoint-independent
// mapping, port-restricted filtering) punch through both and talk
// directly, although a TURN relay is offered to both.
func TestNATConeToConeDirect(t *testing.T) {
	ps := runNATPair(t, [2]natrig.NAT{natrig.Cone, natrig.Cone})
	for i, p := range ps {
		logNATPeer(t, p)
		if p.local == "relay" || p.remote == "relay" {
			t.Errorf("%s: the selected pair is relayed (local %s, remote %s), want a direct path", p.name, p.local, p.remote)
		}
		// The peer is reached at its router's public address: the path
		// crossed both NATs.
		if want := fmt.Sprintf("203.0.113.%d:", 101+(1-i)); !strings.HasPrefix(p.remoteAddr, want) {
			t.Errorf("%s: remote address %s, want the other router's %s…", p.name, p.remoteAddr, want)
		}
	}
}

// TestNATSymmetricToConeRelayed: a peer behind a symmetric NAT (a new port
// per destination) cannot be reached at the address STUN saw, and the
// other's NAT filters by port: ICE falls back to the TURN relay.
func TestNATSymmetricToConeRelayed(t *testing.T) {
	ps := runNATPair(t, [2]natrig.NAT{natrig.Symmetric, natrig.Cone})
	for _, p := range ps {
		logNATPeer(t, p)
		if p.local != "relay" && p.remote != "relay" {
			t.Errorf("%s: the selected pair is not relayed (local %s, remote %s)", p.name, p.local, p.remote)
		}
	}
}

// TestNATSymmetricToConeThroughCoturn: the same as
// TestNATSymmetricToConeRelayed through a third-party TURN server,
// Debian's coturn (CI installs it), with long-term credentials.
func TestNATSymmetricToConeThroughCoturn(t *testing.T) {
	if _, err := exec.LookPath("turnserver"); err != nil {
		t.Skip("needs coturn's turnserver (Debian package coturn; CI installs it)")
	}
	ps := runNATPairWith(t, [2]natrig.NAT{natrig.Symmetric, natrig.Cone}, "coturn")
	for _, p := range ps {
		logNATPeer(t, p)
		if p.local != "relay" && p.remote != "relay" {
			t.Errorf("%s: the selected pair is not relayed (local %s, remote %s)", p.name, p.local, p.remote)
		}
	}
}

// TestNATRendezvousEmbeddedTURN: two peers behind a symmetric and a cone
// NAT meet in a rendezvous room, signal through it, and connect through
// the rendezvous's embedded TURN with nothing but the ICE servers and
// time-limited credentials its join answers carried.
func TestNATRendezvousEmbeddedTURN(t *testing.T) {
	ps := runNATPairWith(t, [2]natrig.NAT{natrig.Symmetric, natrig.Cone}, "rdv")
	checkRelayedThroughRig(t, ps)
}

// TestNATRendezvousCoturn: the same through a third-party TURN server,
// Debian's coturn with use-auth-secret: it knows only the secret it shares
// with the rendezvous, and accepts the credentials the rendezvous handed
// the peers.
func TestNATRendezvousCoturn(t *testing.T) {
	if _, err := exec.LookPath("turnserver"); err != nil {
		t.Skip("needs coturn's turnserver (Debian package coturn; CI installs it)")
	}
	ps := runNATPairWith(t, [2]natrig.NAT{natrig.Symmetric, natrig.Cone}, "rdv-coturn")
	checkRelayedThroughRig(t, ps)
}

// TestNATRendezvousConeToConeDirect: with the rendezvous's STUN and TURN
// offered, two cone peers still connect directly.
func TestNATRendezvousConeToConeDirect(t *testing.T) {
	ps := runNATPairWith(t, [2]natrig.NAT{natrig.Cone, natrig.Cone}, "rdv")
	for _, p := range ps {
		logNATPeer(t, p)
		if p.local == "relay" || p.remote == "relay" {
			t.Errorf("%s: the selected pair is relayed (local %s, remote %s), want a direct path", p.name, p.local, p.remote)
		}
	}
}

// checkRelayedThroughRig checks that each peer's selected pair is relayed,
// through the public host's TURN.
func checkRelayedThroughRig(t *testing.T, ps [2]natPeer) {
	t.Helper()
	for _, p := range ps {
		logNATPeer(t, p)
		switch {
		case p.local == "relay" && !strings.HasPrefix(p.localAddr, "203.0.113.10:"):
			t.Errorf("%s: local relay candidate %s, want one at the public host 203.0.113.10", p.name, p.localAddr)
		case p.remote == "relay" && !strings.HasPrefix(p.remoteAddr, "203.0.113.10:"):
			t.Errorf("%s: remote relay candidate %s, want one at the public host 203.0.113.10", p.name, p.remoteAddr)
		case p.local != "relay" && p.remote != "relay":
			t.Errorf("%s: the selected pair is not relayed (local %s, remote %s)", p.name, p.local, p.remote)
		}
	}
}

// TestNATHelperProcess is a rig host's program when re-executed by the
// tests above (natRoleEnv set); otherwise it does nothing.
func TestNATHelperProcess(t *testing.T) {
	role := os.Getenv(natRoleEnv)
	if role == "" {
		t.Skip("helper process of the NAT tests (runs inside a natrig namespace)")
	}
	if err := natrig.CheckInside(); err != nil {
		t.Fatal(err)
	}
	switch role {
	case "public":
		natPublic(t)
	case "peer":
		natPeerMain(t)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// natPublic runs the TURN server (which also answers STUN) and the
// signaling mailbox until stdin closes.
func natPublic(t *testing.T) {
	ip := net.ParseIP(os.Getenv(natPublicEnv))
	var handler http.Handler = newMailbox()
	switch impl := os.Getenv(natTURNEnv); impl {
	case "coturn":
		stop := startCoturn(t, ip, "--user="+natTURNUser+":"+natTURNPass, "--lt-cred-mech")
		defer stop()
	case "rdv", "rdv-coturn":
		srv, stop := startRendezvous(t, ip, impl == "rdv-coturn")
		defer stop()
		handler = srv
	default:
		stop := startPionTURN(t, ip)
		defer stop()
	}
	ln, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", ip, natSignalPort))
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	fmt.Println("public: ready")
	io.Copy(io.Discard, os.Stdin)
}

// startCoturn runs coturn's turnserver on ip (inside the public host's
// namespace: it sees no other interface) with the given authentication
// options, and waits until it answers a STUN binding request.
func startCoturn(t *testing.T, ip net.IP, auth ...string) func() {
	dir := t.TempDir()
	args := append([]string{"-n",
		"--listening-ip=" + ip.String(), "--relay-ip=" + ip.String(), fmt.Sprintf("--listening-port=%d", natTURNPort),
		"--realm=" + natTURNRealm, "--fingerprint",
		"--no-tls", "--no-dtls", "--no-cli", "--no-rfc5780",
		"--userdb=" + filepath.Join(dir, "turndb"), "--pidfile=" + filepath.Join(dir, "turn.pid"),
		"--log-file=stdout", "--simple-log"}, auth...)
	cmd := exec.Command("turnserver", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	deadline := time.Now().Add(15 * time.Second)
	for !stunAnswers(ip) {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("coturn did not answer STUN within 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println("public: coturn answers")
	return stop
}

// stunAnswers sends one STUN binding request to ip's TURN port and
// reports whether a response came within 200 ms.
func stunAnswers(ip net.IP) bool {
	c, err := net.Dial("udp4", net.JoinHostPort(ip.String(), fmt.Sprint(natTURNPort)))
	if err != nil {
		return false
	}
	defer c.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := c.Write(req.Raw); err != nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	return err == nil && stun.IsMessage(buf[:n])
}

// startRendezvous runs a rendezvous server for the peers on ip: its STUN
// responder on the signaling port number (UDP), and either its embedded
// TURN on the TURN port or, with coturn, Debian's coturn there with
// use-auth-secret, the secret being all that coturn and the rendezvous
// share. The caller serves the returned handler on the signaling port.
func startRendezvous(t *testing.T, ip net.IP, coturn bool) (*rendezvous.Server, func()) {
	turnAddr := fmt.Sprintf("%s:%d", ip, natTURNPort)
	cfg := rendezvous.Config{PublicSTUN: fmt.Sprintf("%s:%d", ip, natSignalPort)}
	var stops []func()
	if coturn {
		stops = append(stops, startCoturn(t, ip, "--use-auth-secret", "--static-auth-secret="+natRdvSecret))
		cfg.ExternalTURN = []rendezvous.ExternalTURN{{URLs: []string{"turn:" + turnAddr + "?transport=udp"}, Secret: natRdvSecret}}
	} else {
		cfg.TURN = rendezvous.TURNConfig{Public: turnAddr}
	}
	srv, err := rendezvous.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(addr string, f func(net.PacketConn) error) {
		pc, err := net.ListenPacket("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- f(pc) }()
		stops = append(stops, func() {
			pc.Close()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", addr, err)
			}
		})
	}
	serve(cfg.PublicSTUN, srv.ServeSTUN)
	if !coturn {
		serve(turnAddr, srv.ServeTURN)
	}
	return srv, func() {
		srv.Close()
		for _, stop := range stops {
			stop()
		}
	}
}

// startPionTURN runs pion/turn (which also answers STUN) on ip.
func startPionTURN(t *testing.T, ip net.IP) func() {
	udp, err := net.ListenPacket("udp4", fmt.Sprintf("%s:%d", ip, natTURNPort))
	if err != nil {
		t.Fatal(err)
	}
	key := turn.GenerateAuthKey(natTURNUser, natTURNRealm, natTURNPass)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: natTURNRealm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != natTURNUser {
				return "", nil, false
			}
			return ra.Username, key, true
		},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(src, _ net.Addr, _, _, _ string, relay net.Addr, _ int) {
				fmt.Printf("public: allocation for %s at %s\n", src, relay)
			},
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            udp,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: ip, Address: ip.String()},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() { srv.Close() }
}

// mailbox is the tests' signaling relay: POST /box/NAME queues a message
// for NAME, GET /box/NAME takes the next one (waiting up to 5 s: 204 if
// none). Bounded: 16 boxes, 8 messages each, MaxSignalBytes each.
type mailbox struct {
	mu    sync.Mutex
	boxes map[string]chan []byte
}

func newMailbox() *mailbox { return &mailbox{boxes: map[string]chan []byte{}} }

func (m *mailbox) box(name string) chan []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.boxes[name]
	if !ok && len(m.boxes) < 16 {
		b = make(chan []byte, 8)
		m.boxes[name] = b
	}
	return b
}

func (m *mailbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/box/")
	b := m.box(name)
	if !ok || name == "" || b == nil {
		http.Error(w, "no such box", http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSignalBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		select {
		case b <- body:
		default:
			http.Error(w, "box full", http.StatusServiceUnavailable)
		}
	case http.MethodGet:
		select {
		case msg := <-b:
			w.Write(msg)
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	default:
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
	}
}

// httpSignaler is a peer's end of the mailbox.
type httpSignaler struct {
	base, me, peer string
}

func (s httpSignaler) Send(ctx context.Context, msg []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/box/"+s.peer, bytes.NewReader(msg))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailbox: %s", resp.Status)
	}
	return nil
}

func (s httpSignaler) Receive(ctx context.Context) ([]byte, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/box/"+s.me, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSignalBytes+1))
		resp.Body.Close()
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode == http.StatusOK:
			return body, nil
		case resp.StatusCode != http.StatusNoContent:
			return nil, fmt.Errorf("mailbox: %s", resp.Status)
		}
	}
}

// natPeerMain connects to the other peer through the rig, says hello
// natMessages times, reads the other's hellos, reports the RTT, and waits
// for stdin to close.
func natPeerMain(t *testing.T) {
	public := os.Getenv(natPublicEnv)
	cert, _, err := netcode.LoadKeyFile(os.Getenv(natKeyEnv))
	if err != nil {
		t.Fatal(err)
	}
	peerFP, err := ParseFingerprint(os.Getenv(natPeerFPEnv))
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getenv(natNameEnv)
	cfg := Config{
		Channels:         allModes,
		Certificate:      &cert,
		HandshakeTimeout: 60 * time.Second,
		ICEServers: []ICEServer{
			{URLs: []string{fmt.Sprintf("stun:%s:%d", public, natTURNPort)}},
			{URLs: []string{fmt.Sprintf("turn:%s:%d?transport=udp", public, natTURNPort)}, Username: natTURNUser, Credential: natTURNPass},
		},
	}
	var sig Signaler = httpSignaler{base: fmt.Sprintf("http://%s:%d", public, natSignalPort), me: me, peer: os.Getenv(natPeerEnv)}
	if os.Getenv(natRdvEnv) == "1" {
		rs := joinRendezvous(t, fmt.Sprintf("http://%s:%d", public, natSignalPort), cert, peerFP.String())
		sig = rs
		// Nothing but what the rendezvous handed out.
		cfg.ICEServers = nil
		for _, s := range rs.room.ICEServers() {
			cfg.ICEServers = append(cfg.ICEServers, ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
			for _, u := range s.URLs {
				fmt.Printf("peer: ice %s user %s\n", u, s.Username)
			}
		}
		if os.Getenv(natOfferEnv) == "1" {
			rs.waitForPeer(t)
		}
	}
	start := time.Now()
	c, err := ConnectPeer(context.Background(), &cfg, PeerOptions{Signaler: sig, Offerer: os.Getenv(natOfferEnv) == "1", Fingerprint: peerFP})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	took := time.Since(start)
	pair, err := selectedPair(c)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("peer: connected %dms local %s %s:%d remote %s %s:%d\n", took.Milliseconds(),
		pair.Local.Typ, pair.Local.Address, pair.Local.Port, pair.Remote.Typ, pair.Remote.Address, pair.Remote.Port)
	for i := range natMessages {
		if err := c.Send(0, fmt.Appendf(nil, "hello %d from %s", i, me)); err != nil {
			t.Fatal(err)
		}
	}
	for range natMessages {
		m, ok := recv(t, c, 30*time.Second)
		if !ok {
			t.Fatalf("no message from the peer within 30 s (%v)", c.Err())
		}
		fmt.Printf("peer: got %s\n", m.Data)
	}
	// Round trips on the reliable channel: the offerer sends a ping and
	// waits for its echo, natRoundTrips times; the median is the RTT.
	if os.Getenv(natOfferEnv) == "1" {
		var rtts []time.Duration
		for i := range natRoundTrips {
			sent := time.Now()
			if err := c.Send(0, fmt.Appendf(nil, "ping %d", i)); err != nil {
				t.Fatal(err)
			}
			m, ok := recv(t, c, 10*time.Second)
			if !ok || string(m.Data) != fmt.Sprintf("pong %d", i) {
				t.Fatalf("round trip %d: got %q (%v), want pong %d", i, m.Data, c.Err(), i)
			}
			rtts = append(rtts, time.Since(sent))
		}
		if err := c.Send(0, []byte("end")); err != nil {
			t.Fatal(err)
		}
		slices.Sort(rtts)
		fmt.Printf("peer: rtt %dus p90 %dus\n", rtts[len(rtts)/2].Microseconds(), rtts[len(rtts)*9/10].Microseconds())
	} else {
		n := 0
		for {
			m, ok := recv(t, c, 10*time.Second)
			if !ok {
				t.Fatalf("no ping or end within 10 s (%v)", c.Err())
			}
			if string(m.Data) == "end" {
				break
			}
			i, ok := strings.CutPrefix(string(m.Data), "ping ")
			if !ok {
				t.Fatalf("got %q, want a ping", m.Data)
			}
			if err := c.Send(0, []byte("pong "+i)); err != nil {
				t.Fatal(err)
			}
			n++
		}
		fmt.Printf("peer: echoed %d\n", n)
	}
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Logf("shutdown: %v", err)
	}
}

// roomSignaler carries one connection's signaling through a rendezvous
// room: to the other member by its ID, from it by polling.
type roomSignaler struct {
	room    *rendezvous.Room
	peer    string
	pending [][]byte
}

// joinRendezvous creates a room (the offerer: it prints the code) or joins
// the one named by natCodeEnv.
func joinRendezvous(t *testing.T, base string, cert tls.Certificate, peer string) *roomSignaler {
	c, err := rendezvous.NewClient(base, cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rs := &roomSignaler{peer: peer}
	if os.Getenv(natOfferEnv) != "1" {
		if rs.room, err = c.Join(ctx, os.Getenv(natCodeEnv), rendezvous.Record{Seats: 1}); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	if rs.room, err = c.Create(ctx, "pumpnet-nat-test", false, rendezvous.Record{Seats: 1}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("peer: room %s\n", rs.room.Code)
	return rs
}

// waitForPeer polls until the other peer is a member of the room.
func (s *roomSignaler) waitForPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		ev, err := s.room.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(ev.Members, func(m rendezvous.Member) bool { return m.ID == s.peer }) {
			return
		}
	}
}

func (s *roomSignaler) Send(ctx context.Context, msg []byte) error {
	return s.room.Signal(ctx, s.peer, msg)
}

func (s *roomSignaler) Receive(ctx context.Context) ([]byte, error) {
	for len(s.pending) == 0 {
		ev, err := s.room.Poll(ctx)
		if err != nil {
			return nil, err
		}
		for _, sg := range ev.Signals {
			if sg.From == s.peer {
				s.pending = append(s.pending, sg.Data)
			}
		}
	}
	msg := s.pending[0]
	s.pending = s.pending[1:]
	return msg, nil
}

// selectedPair returns the ICE candidate pair a connection runs on.
func selectedPair(c *Conn) (*webrtc.ICECandidatePair, error) {
	sctp := c.pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return nil, errors.New("no ICE transport")
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err == nil && pair == nil {
		err = errors.New("no selected candidate pair")
	}
	return pair, err
}
