//go:build linux

package lobby

// Internet sessions across NATs: each test builds home networks behind
// NAT routers out of network namespaces (internal/natrig), runs a
// rendezvous server with its own STUN responder and TURN relay on the
// rig's public host (the sessions get STUN and TURN only from the
// rendezvous's answers), and one session per home (this test binary, re-executed in a
// helper role), which meet in a room. No packet reaches the machine's real
// interfaces; without root, iproute2 or nftables the tests skip and say
// why.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/internal/natrig"
	"github.com/pumpnet/pumpnet/internal/netnstest"
	"github.com/pumpnet/pumpnet/rendezvous"
)

// Environment of a re-executed test binary (TestInternetNATHelperProcess).
const (
	inatRoleEnv   = "PUMPNET_LOBBY_NAT_ROLE"   // public, or peer
	inatPublicEnv = "PUMPNET_LOBBY_NAT_PUBLIC" // the public host's address
	inatNameEnv   = "PUMPNET_LOBBY_NAT_NAME"   // peer: display name
	inatRoomEnv   = "PUMPNET_LOBBY_NAT_ROOM"   // peer: the room's code; empty: create it
	inatRdvPort   = 8080
	inatTURNPort  = 3478
)

// inatPeer is what one peer reported.
type inatPeer struct {
	name    string
	connect time.Duration // from Join to PeerAdded
	remote  netip.AddrPort
}

// runInternetNAT builds a rig of two homes with the given NATs, runs the
// public host, and a session in each home: the first creates a room, the
// second joins it by its code. Each must add the other, get its chat and
// the reply to its request; it returns what each saw.
func runInternetNAT(t *testing.T, nats [2]natrig.NAT) [2]inatPeer {
	r := natrig.New(t, "pumpnet-lobby-nat-", natrig.Config{Homes: nats[:]})
	exe := testExe(t)
	run := "-test.run=^TestInternetNATHelperProcess$"
	public := r.PublicAddr(0).String()
	pub := r.RunPublic(0, "public", []string{inatRoleEnv + "=public", inatPublicEnv + "=" + public}, exe, run)
	pub.WaitLine(`public: ready`, 30*time.Second)

	names := [2]string{"ann-" + nats[0].String(), "bob-" + nats[1].String()}
	env := func(i int, room string) []string {
		return []string{inatRoleEnv + "=peer", inatPublicEnv + "=" + public, inatNameEnv + "=" + names[i], inatRoomEnv + "=" + room}
	}
	var procs [2]*netnstest.Proc
	procs[0] = r.RunHome(0, 0, names[0], env(0, ""), exe, run)
	_, m := procs[0].WaitLine(`peer: room (\w+)`, 30*time.Second)
	procs[1] = r.RunHome(1, 0, names[1], env(1, m[1]), exe, run)

	var out [2]inatPeer
	for i, p := range procs {
		other := names[1-i]
		_, m := p.WaitLine(`peer: added (\S+) after (\d+)ms remote (\S+)`, 90*time.Second)
		if m[1] != other {
			t.Errorf("%s added %q, want %q", names[i], m[1], other)
		}
		out[i].name = names[i]
		out[i].connect = atMS(t, m[2])
		ap, err := netip.ParseAddrPort(m[3])
		if err != nil {
			t.Fatalf("%s: remote address %q: %v", names[i], m[3], err)
		}
		out[i].remote = ap
	}
	for i, p := range procs {
		other := names[1-i]
		p.WaitLine(`peer: chat `+other+`: hello from `+other, 30*time.Second)
		p.WaitLine(`peer: reply re: question of `+names[i]+` from `+other, 30*time.Second)
	}
	for _, p := range procs {
		if p.HasLine(`peer: (removed|refused|request failed)`) {
			t.Errorf("%s:\n%s", p.Name(), p.Transcript())
		}
	}
	for _, p := range procs {
		p.Exit(15 * time.Second)
	}
	pub.Exit(10 * time.Second)
	for _, p := range out {
		t.Logf("%s: PeerAdded %v after Join, remote %v", p.name, p.connect, p.remote)
	}
	return out
}

// TestInternetNATConeToConeDirect: two sessions behind cone NATs meet in a
// rendezvous room on the public segment and connect directly (the
// selected path is not relayed, although TURN is offered to both): each
// reaches the other at the other's router's public address, not at the
// TURN server's.
func TestInternetNATConeToConeDirect(t *testing.T) {
	ps := runInternetNAT(t, [2]natrig.NAT{natrig.Cone, natrig.Cone})
	turnIP := netip.AddrFrom4([4]byte{203, 0, 113, 10})
	for i, p := range ps {
		want := netip.AddrFrom4([4]byte{203, 0, 113, byte(101 + 1 - i)})
		if p.remote.Addr() == turnIP {
			t.Errorf("%s: the peer is reached through the TURN relay (%v), want a direct path", p.name, p.remote)
		} else if p.remote.Addr() != want {
			t.Errorf("%s: the peer is reached at %v, want its router's public address %v", p.name, p.remote, want)
		}
	}
}

// TestInternetNATSymmetricToConeRelayed: a session behind a symmetric NAT
// reaches one behind a cone NAT through the TURN relay the rendezvous
// runs and hands out with credentials (no direct path exists between them;
// the sessions set no Config.ICEServers): one side's
// selected remote candidate is the relay's, on the TURN server.
func TestInternetNATSymmetricToConeRelayed(t *testing.T) {
	ps := runInternetNAT(t, [2]natrig.NAT{natrig.Symmetric, natrig.Cone})
	turnIP := netip.AddrFrom4([4]byte{203, 0, 113, 10})
	if ps[0].remote.Addr() != turnIP && ps[1].remote.Addr() != turnIP {
		t.Errorf("neither side goes through the relay at %v: %v and %v", turnIP, ps[0].remote, ps[1].remote)
	}
}

// TestInternetNATHelperProcess is a rig host's program when re-executed
// by the tests above (inatRoleEnv set); otherwise it does nothing.
func TestInternetNATHelperProcess(t *testing.T) {
	role := os.Getenv(inatRoleEnv)
	if role == "" {
		t.Skip("helper process of the internet NAT tests (runs inside a natrig namespace)")
	}
	if err := natrig.CheckInside(); err != nil {
		t.Fatal(err)
	}
	switch role {
	case "public":
		inatPublic(t)
	case "peer":
		inatPeerMain(t)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// inatPublic runs the rendezvous with its STUN responder (UDP, on the
// rendezvous's port number) and its embedded TURN relay until stdin
// closes. The peers get both only from the rendezvous's answers: they set
// no Config.ICEServers.
func inatPublic(t *testing.T) {
	ip := net.ParseIP(os.Getenv(inatPublicEnv))
	stunAddr, turnAddr := fmt.Sprintf("%s:%d", ip, inatRdvPort), fmt.Sprintf("%s:%d", ip, inatTURNPort)
	rdv, err := rendezvous.NewServer(rendezvous.Config{PublicSTUN: stunAddr, TURN: rendezvous.TURNConfig{Public: turnAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer rdv.Close()
	for addr, serve := range map[string]func(net.PacketConn) error{stunAddr: rdv.ServeSTUN, turnAddr: rdv.ServeTURN} {
		pc, err := net.ListenPacket("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go serve(pc)
	}
	ln, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", ip, inatRdvPort))
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: rdv, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	fmt.Println("public: ready")
	io.Copy(io.Discard, os.Stdin)
}

// inatListener is a helper peer's listener: it prints what happens.
type inatListener struct {
	s     *Session
	start time.Time
}

func (l *inatListener) PeerAdded(p *Peer) {
	fmt.Printf("peer: added %s after %dms remote %v\n", p.Name, time.Since(l.start).Milliseconds(), p.Conn().RemoteAddr())
	_ = l.s.Send(engine.Msg{"action": "chat", "text": "hello from " + l.s.Name()}, engine.To(p))
	_ = p.Request(context.Background(), engine.Msg{"action": "ask", "text": "question of " + l.s.Name()}, func(m engine.Msg, err error) {
		if err != nil {
			fmt.Printf("peer: request failed: %v\n", err)
			return
		}
		fmt.Printf("peer: reply %s\n", m["text"])
	}, engine.Timeout(30*time.Second))
}

func (l *inatListener) PeerRemoved(p *Peer, reason error) {
	fmt.Printf("peer: removed %s: %v\n", p.Name, reason)
}

func (l *inatListener) PeerRefused(p *Peer, reason error) { fmt.Printf("peer: refused: %v\n", reason) }

func (l *inatListener) Network_chat(p *Peer, m engine.Msg) {
	fmt.Printf("peer: chat %s: %s\n", p.Name, m["text"])
}

func (l *inatListener) Network_ask(p *Peer, m engine.Msg) {
	_ = p.Reply(engine.Msg{"action": "answer", "text": fmt.Sprintf("re: %s from %s", m["text"], l.s.Name())})
}

// inatPeerMain joins (or creates) the room and plays until stdin closes.
func inatPeerMain(t *testing.T) {
	testICEFilter = nil // the rig's addresses, not loopback
	public := os.Getenv(inatPublicEnv)
	cfg := Config{
		DisplayName: os.Getenv(inatNameEnv),
		ServiceType: "nat-test",
		Rendezvous:  fmt.Sprintf("http://%s:%d", public, inatRdvPort),
		Room:        os.Getenv(inatRoomEnv),
	}
	cfg.CreateRoom = cfg.Room == ""
	cfg.Net.HandshakeTimeout = 30 * time.Second
	l := &inatListener{start: time.Now()}
	s, err := Join(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.s = s
	if err := s.Register(l); err != nil {
		t.Fatal(err)
	}
	if cfg.CreateRoom {
		fmt.Printf("peer: room %s\n", s.Room())
	}
	stdinClosed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-stdinClosed
		cancel()
	}()
	for ctx.Err() == nil {
		s.PumpWait(ctx, 0)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := s.Shutdown(sctx, "test over"); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Logf("shutdown: %v", err)
	}
}
