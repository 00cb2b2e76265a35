package main

// The windowed game on a real LAN: two lightcycle processes, each in its own
// network namespace with its own X server (xvfb-run), find each other over
// mDNS, play rounds with the autopilot and a robot, and print the same
// results. The test creates and deletes the namespaces (internal/netnstest)
// and skips, saying why, without root, ip netns or xvfb-run.

import (
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

func TestNetnsWindowsPlayTogether(t *testing.T) {
	netnstest.Skip(t)
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		t.Skip("needs xvfb-run to give each namespace a display (apt-get install xvfb)")
	}
	bin := netnstest.Build(t, "lightcycle")
	l := netnstest.New(t, "pumpnet-lcwin-", 2)
	names := []string{"ann", "bob"}
	var ps []*netnstest.Proc
	for i, name := range names {
		ps = append(ps, l.Run(i, name, nil, xvfb, "-a", "-s", "-screen 0 640x700x24", bin,
			"-name", name, "-iface", netnstest.Iface, "-autopilot", "-players", "2", "-bots", "1",
			"-tps", "240", "-mute", "-frames", "100000"))
	}
	for i, p := range ps {
		p.WaitLine(`lightcycle: on the LAN as `+names[i]+` .*`, 20*time.Second)
		other := names[1-i]
		line, _ := p.WaitLine(`lightcycle: `+other+` joined`, 20*time.Second)
		t.Logf("%s: %s joined %v after start", names[i], other, line.At.Round(time.Millisecond))
	}
	const rounds = 2
	results := make([][]string, len(ps))
	for i, p := range ps {
		for r := 1; r <= rounds; r++ {
			line, _ := p.WaitLine(fmt.Sprintf(`lightcycle: round %d: .*`, r), 120*time.Second)
			results[i] = append(results[i], line.Text)
			t.Logf("%s at %v: %s", names[i], line.At.Round(time.Millisecond), line.Text)
		}
	}
	for r := range rounds {
		if results[0][r] != results[1][r] {
			t.Errorf("round %d differs:\n  ann: %s\n  bob: %s", r+1, results[0][r], results[1][r])
		}
	}
}
