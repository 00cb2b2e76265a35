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
	} {
		if err := Run(t.Context(), args, &out); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
