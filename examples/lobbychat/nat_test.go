//go:build linux

package main

// Chat over the internet: lobbychat processes in two home networks behind
// NAT routers (internal/natrig: network namespaces and NAT rules the test
// makes and deletes) meet in a room on cmd/rendezvous, which runs on the
// rig's public segment with its own STUN and TURN. Without root, iproute2
// or nftables it skips and says why.

import (
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/natrig"
	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// TestNATRoomChat: ann, behind a cone NAT, creates a room (-create-room);
// bob, behind a symmetric NAT (so only the rendezvous's TURN relay joins
// them), joins it with the code ann's lobbychat printed; each sees the
// other join, and a line from each reaches the other.
func TestNATRoomChat(t *testing.T) {
	natrig.Skip(t) // before building
	bin := netnstest.Build(t, "lobbychat")
	rdvBin := filepath.Join(t.TempDir(), "rendezvous")
	if out, err := exec.Command("go", "build", "-o", rdvBin, "github.com/pumpnet/pumpnet/cmd/rendezvous").CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/rendezvous: %v\n%s", err, out)
	}
	r := natrig.New(t, "pumpnet-chatn-", natrig.Config{Homes: []natrig.NAT{natrig.Cone, natrig.Symmetric}})
	pub := r.PublicAddr(0).String()
	rdv := r.RunPublic(0, "rendezvous", nil, rdvBin, "-addr", pub+":7777", "-turn", pub+":3478", "-turn-relay-ip", pub)
	rdv.WaitLine(`rendezvous: http://.*`, 20*time.Second)
	url := "http://" + pub + ":7777"

	ann := r.RunHome(0, 0, "ann", nil, bin, "-name", "ann", "-rendezvous", url, "-create-room")
	_, m := ann.WaitLine(`\*\*\* you are ann .*, looking for "lobbychat" peers on room ([A-Z0-9]{6}) at `+url+` \(the others join with -rendezvous .* -room ([A-Z0-9]{6})\).*`, 20*time.Second)
	if m[1] != m[2] {
		t.Fatalf("ann's room %s, but the others are told -room %s", m[1], m[2])
	}
	bob := r.RunHome(1, 0, "bob", nil, bin, "-name", "bob", "-rendezvous", url, "-room", m[1])
	ann.WaitLine(`\*\*\* bob joined .*`, 60*time.Second)
	bob.WaitLine(`\*\*\* ann joined .*`, 60*time.Second)
	for _, c := range []struct {
		from, to *netnstest.Proc
		line     string
	}{{ann, bob, "hello from ann's home"}, {bob, ann, "hello from bob's home"}} {
		if _, err := io.WriteString(c.from.Stdin(), c.line+"\n"); err != nil {
			t.Fatal(err)
		}
		c.to.WaitLine(c.from.Name()+`: `+c.line, 10*time.Second)
	}
}
