package headless

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
)

// resultLine matches a round's result line.
var resultLine = regexp.MustCompile(`^round (\d+) (winner \S+|draw|abandoned) steps (\d+) digest ([0-9a-f]{16}) scores (\S+=\d+(,\S+=\d+)*)$`)

// TestRunLocalPrintsOneLinePerRound: offline, Run plays the rounds asked
// for, prints one result line per round (the same for the same seed), and
// returns.
func TestRunLocalPrintsOneLinePerRound(t *testing.T) {
	run := func() []string {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		if err := Run(ctx, []string{"-local", "-bots", "3", "-rounds", "3", "-tps", "10000", "-seed", "12", "-countdown", "0"}, &out); err != nil {
			t.Fatal(err)
		}
		var results []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if strings.HasPrefix(l, "round ") {
				if !resultLine.MatchString(l) {
					t.Fatalf("malformed result line %q", l)
				}
				results = append(results, l)
			}
		}
		if len(results) != 3 || !strings.HasSuffix(out.String(), "bye\n") {
			t.Fatalf("output:\n%s", out.String())
		}
		return results
	}
	a, b := run(), run()
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("same seed, different rounds:\n%s\n--\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	for i, l := range a {
		if m := resultLine.FindStringSubmatch(l); m[1] != string(rune('1'+i)) {
			t.Fatalf("line %d is round %s", i+1, m[1])
		}
	}
}

// TestRunStopsWithContext: Run returns nil soon after its context ends.
func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	if err := Run(ctx, []string{"-local", "-bots", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Run returned %v after its context ended", d)
	}
	if !strings.HasSuffix(out.String(), "bye\n") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestRunFlags: -h prints the usage and returns flag.ErrHelp; bad flags
// are errors, before anything joins a network.
func TestRunFlags(t *testing.T) {
	var out bytes.Buffer
	if err := Run(t.Context(), []string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-bots") {
		t.Fatalf("-h: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{
		{"-tps", "0"}, {"-outcomes", "tcp"}, {"-rounds", "-1"}, {"-bots", "9", "-local"}, {"extra"}, {"-timeout", "0s"},
		{"-room", "K7MW2Q"}, {"-create-room"}, {"-rendezvous", "rdv:7777"}, {"-rendezvous", "rdv:7777", "-room", "K7MW2Q", "-create-room"},
		{"-rendezvous", "rdv:7777", "-room", "K7MW2Q", "-public"}, {"-rendezvous", "rdv:7777", "-create-room", "-local"},
		{"-rendezvous", "rdv:7777", "-create-room", "-loss", "5%"},
	} {
		if err := Run(t.Context(), args, &out); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestResultLineNamesPlayers: results name the players as they chose
// (not by their 64-hex IDs), one field each; a name two players share is
// told apart by the start of the ID.
func TestResultLineNamesPlayers(t *testing.T) {
	ann := strings.Repeat("a1", 32)
	bob := strings.Repeat("b2", 32)
	bob2 := strings.Repeat("c3", 32)
	r := game.Result{Round: 2, Winner: ann, WinnerName: "ann lee", Steps: 7, Digest: 0xab, Scores: []game.Score{
		{ID: ann, Name: "ann lee", Score: 2}, {ID: bob, Name: "bob", Score: 1}, {ID: bob2, Name: "bob", Score: 0},
		{ID: "bot1", Name: "robot 1", Robot: true, Score: 0},
	}}
	got := ResultLine(r)
	want := "round 2 winner ann_lee steps 7 digest 00000000000000ab scores ann_lee=2,bob#b2b2b2=1,bob#c3c3c3=0,robot_1=0"
	if got != want || !resultLine.MatchString(got) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestUsageIsThisProgram: the usage names this program, lists no
// -headless flag, and -headless is still accepted (it means nothing here).
func TestUsageIsThisProgram(t *testing.T) {
	var out bytes.Buffer
	_ = Run(t.Context(), []string{"-h"}, &out)
	s := out.String()
	if !strings.Contains(s, "go run ./examples/lightcycle/headless") || strings.Contains(s, "lightcycle -headless") || strings.Contains(s, "  -headless") ||
		!strings.Contains(s, "-local") || !strings.Contains(s, "-tps") {
		t.Errorf("usage:\n%s", s)
	}
	if _, err := parse([]string{"-headless", "-local"}, &out); err != nil {
		t.Errorf("-headless: %v", err)
	}
}
