//go:build linux

package main

// The internet acceptance test (EXAMPLES.md, "Internet rooms"): three
// instances of the headless binary, each in a home network of its own
// behind a NAT router (two endpoint-independent, one symmetric), meet in a
// room on a rendezvous server on the rig's public segment, play rounds and
// must report the same results. The rig comes from internal/natrig: the
// namespaces, the NAT rules (inside the routers' namespaces only) and
// every process live in namespaces it deletes afterwards; no packet
// reaches the machine's real interfaces. Without root, iproute2 or
// nftables the test skips and says why.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/natrig"
	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// TestNATRoomPlaysRoundsAndSurvivesRendezvousRestart: on the NAT rig, the
// first instance creates a room (-create-room, printing its code) on
// cmd/rendezvous, which hands out its own STUN and, for TURN, credentials
// for Debian's coturn beside it (use-auth-secret); the other two join with
// the code. The two cone homes connect directly and the symmetric home
// only through coturn. They play a round, then the rendezvous is killed
// and started again: the game, already connected, goes on, and all three
// print the same three result lines, with nobody leaving.
func TestNATRoomPlaysRoundsAndSurvivesRendezvousRestart(t *testing.T) {
	natrig.Skip(t) // before building
	if _, err := exec.LookPath("turnserver"); err != nil {
		t.Skipf("needs coturn's turnserver (Debian: apt-get install coturn): %v", err)
	}
	bin := netnstest.Build(t, "lightcycle-headless")
	rdvBin := filepath.Join(t.TempDir(), "rendezvous")
	if out, err := exec.Command("go", "build", "-o", rdvBin, "github.com/pumpnet/pumpnet/cmd/rendezvous").CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/rendezvous: %v\n%s", err, out)
	}
	r := natrig.New(t, "pumpnet-lcn-", natrig.Config{Homes: []natrig.NAT{natrig.Cone, natrig.Cone, natrig.Symmetric}})
	pub := r.PublicAddr(0).String()
	const secret = "lightcycle-rig-secret"

	dir := t.TempDir()
	turn := r.RunPublic(0, "coturn", nil, "turnserver", "-n",
		"--listening-ip="+pub, "--relay-ip="+pub, "--listening-port=3478", "--realm=pumpnet.test", "--fingerprint",
		"--no-tls", "--no-dtls", "--no-cli", "--no-rfc5780", "--use-auth-secret", "--static-auth-secret="+secret,
		"--userdb="+filepath.Join(dir, "turndb"), "--pidfile="+filepath.Join(dir, "turn.pid"), "--log-file=stdout", "--simple-log", "--verbose")
	turn.WaitLine(`.*Total General servers.*`, 20*time.Second)
	rendezvous := func(name string) *netnstest.Proc {
		p := r.RunPublic(0, name, nil, rdvBin, "-addr", pub+":7777", "-stun-public", pub+":7777",
			"-external-turn", "turn:"+pub+":3478?transport=udp", "-external-turn-secret", secret)
		p.WaitLine(`rendezvous: http://.*`, 20*time.Second)
		return p
	}
	rdv := rendezvous("rendezvous")
	url := "http://" + pub + ":7777"

	// -bots 1: the host seats one robot, so a round lasts long enough to
	// be a game, not only three bikes' first crash.
	args := func(name string, room ...string) []string {
		return append([]string{bin, "-rendezvous", url, "-name", name, "-bots", "1", "-players", "3",
			"-rounds", "3", "-tps", "240", "-countdown", "60", "-timeout", "10s"}, room...)
	}
	var ps []*netnstest.Proc
	ps = append(ps, r.RunHome(0, 0, "cone1", nil, args("cone1", "-create-room")...))
	code := ps[0].WaitAll(`room ([A-Z0-9]{6})`, 1, 30*time.Second)[0][1]
	t.Logf("room %s", code)
	ps = append(ps, r.RunHome(1, 0, "cone2", nil, args("cone2", "-room", code)...))
	ps = append(ps, r.RunHome(2, 0, "symmetric", nil, args("symmetric", "-room", code)...))
	for _, p := range ps {
		p.WaitAll(`joined [0-9a-f]{64} .*`, 2, 60*time.Second)
	}
	// The symmetric home cannot be reached directly: its player allocated
	// a relay on coturn with the credentials the rendezvous made for it
	// (TURN REST API usernames end in the member's ID).
	symID := ps[2].WaitAll(`self ([0-9a-f]{64}) .*`, 1, 0)[0][1]
	turn.WaitAll(`.*user <\d+:`+symID+`>: incoming packet ALLOCATE processed, success.*`, 1, 10*time.Second)

	// Round 1, then the rendezvous goes away and comes back mid-game.
	for _, p := range ps {
		p.WaitAll(resultRe, 1, 3*time.Minute)
	}
	if err := rdv.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = rdv.Wait(10 * time.Second)
	time.Sleep(2 * time.Second) // the instances' polls fail meanwhile
	rendezvous("rendezvous-again")

	want := sameRounds(t, ps, 3)
	for i, line := range want {
		if !strings.HasPrefix(line, fmt.Sprintf("round %d ", i+1)) || strings.Contains(line, "abandoned") {
			t.Fatalf("result %d is %q", i+1, line)
		}
		for _, p := range ps {
			if !strings.Contains(line, p.Name()+"=") {
				t.Errorf("round %d did not score %s: %q", i+1, p.Name(), line)
			}
		}
	}
	for _, p := range ps {
		if err := p.Wait(30 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", p.Name(), err, p.Transcript())
		}
		// Players leave at the end, when they are done, and only so (a
		// lost connection would end with a timeout); before round 3
		// started nobody had left.
		for _, m := range p.WaitAll(`left [0-9a-f]{64} (.*)`, 0, 0) {
			if !strings.HasSuffix(m[1], "(normal)") {
				t.Errorf("%s lost a player: %q\n%s", p.Name(), m[0], p.Transcript())
			}
		}
		tr := p.Transcript()
		if i, start := strings.Index(tr, "  left "), strings.Index(tr, "  started 3"); i >= 0 && i < start {
			t.Errorf("%s saw a player leave before the last round:\n%s", p.Name(), tr)
		}
	}
}
