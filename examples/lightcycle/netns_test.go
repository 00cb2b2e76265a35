package main

// The windowed game on a real LAN: two lightcycle processes, each in its own
// network namespace with its own X server (xvfb-run), find each other over
// mDNS, play rounds with the autopilot and a robot, and print the same
// results; a third arrives once the first round is under way, watches it
// (the round's seats are fixed) and plays the next. The test creates and deletes the namespaces (internal/netnstest)
// and skips, saying why, without root, ip netns or xvfb-run.

import (
	"fmt"
	"os/exec"
	"strings"
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
	l := netnstest.New(t, "pumpnet-lcwin-", 3)
	names := []string{"ann", "bob", "cat"}
	run := func(i int, players string) *netnstest.Proc {
		return l.Run(i, names[i], nil, xvfb, "-a", "-s", "-screen 0 640x700x24", bin,
			"-name", names[i], "-iface", netnstest.Iface, "-autopilot", "-players", players, "-bots", "1",
			"-tps", "120", "-mute", "-frames", "100000")
	}
	// ann and bob ready up as soon as they are two; cat, only once it sees
	// three, which is during round 1.
	ps := []*netnstest.Proc{run(0, "2"), run(1, "2")}
	for i, p := range ps {
		p.WaitLine(`lightcycle: on the LAN as `+names[i]+` .*`, 20*time.Second)
		other := names[1-i]
		line, _ := p.WaitLine(`lightcycle: `+other+` joined`, 20*time.Second)
		t.Logf("%s: %s joined %v after start", names[i], other, line.At.Round(time.Millisecond))
	}
	ps[0].WaitLine(`lightcycle: round 1 announced: 3 players`, 20*time.Second)
	ps = append(ps, run(2, "3"))
	for _, p := range ps[:2] {
		line, _ := p.WaitLine(`lightcycle: cat joined`, 20*time.Second)
		t.Logf("%s: cat joined %v after its start", p.Name(), line.At.Round(time.Millisecond))
	}
	const rounds = 2
	results := make([][]string, len(ps))
	for i, p := range ps {
		for r := 1; r <= rounds; r++ {
			// cat is seen about 2 s after round 1 is announced, well
			// inside it at 120 ticks per second (a 1.5 s countdown; the
			// bikes start 33+ cells apart and cannot all crash within a
			// few steps): it must watch round 1 and report its result.
			line, _ := p.WaitLine(fmt.Sprintf(`lightcycle: round %d: .*`, r), 120*time.Second)
			results[i] = append(results[i], line.Text)
			t.Logf("%s at %v: %s", names[i], line.At.Round(time.Millisecond), line.Text)
		}
	}
	for r := range rounds {
		for i := 1; i < len(ps); i++ {
			if results[i][r] != results[0][r] {
				t.Errorf("round %d differs:\n  ann: %s\n  %s: %s", r+1, results[0][r], names[i], results[i][r])
			}
		}
	}
	if !ps[2].HasLine(`lightcycle: round 1 announced: 3 players; you watch this one`) {
		t.Error("cat was not told it watches round 1")
	}
	if !strings.Contains(results[0][1], "cat ") {
		t.Errorf("cat did not play round 2: %s", results[0][1])
	}
	if strings.Contains(results[0][0], "cat ") {
		t.Errorf("cat, who arrived during round 1, played in it: %s", results[0][0])
	}
}
