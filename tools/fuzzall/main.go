// Command fuzzall runs every fuzz target of the module, one after the
// other, each for the same time, and reports exec counts and failures.
//
//	go run ./tools/fuzzall -time 10m            # every target, 10 minutes each
//	go run ./tools/fuzzall -time 10s -pkg ./netcode/...
//	go run ./tools/fuzzall -time 1m -run 'FuzzParse'
//
// It finds the targets with `go test -list 'Fuzz.*'` per package (so a new
// target is picked up without editing anything), then runs
// `go test -run '^$' -fuzz '^Name$' -fuzztime T` for each. A target that
// fails leaves its crasher in the package's testdata/fuzz/<Name>/, where
// plain `go test` replays it from then on: commit it with the fix as a
// regression test. fuzzall exits with status 1 if any target failed and 2
// on a usage or setup error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

type result struct {
	pkg, name string
	execs     int64
	elapsed   time.Duration
	ok        bool
	crasher   string // testdata path of the failing input, if any
	summary   string // first lines of the failure
}

func main() {
	var (
		perTarget = flag.Duration("time", 10*time.Second, "fuzzing time per target")
		pkgs      = flag.String("pkg", "./...", "packages to search for fuzz targets (go list pattern)")
		run       = flag.String("run", "", "only targets whose name matches this regexp")
		parallel  = flag.Int("parallel", 0, "fuzzing workers per target (0: GOMAXPROCS)")
		minimize  = flag.Duration("minimize", 10*time.Second, "time to minimize a failing or new input (go test -fuzzminimizetime)")
		race      = flag.Bool("race", false, "fuzz with the race detector (much slower)")
		verbose   = flag.Bool("v", false, "stream go test's output")
		list      = flag.Bool("list", false, "list the targets and exit")
	)
	flag.Parse()
	var filter *regexp.Regexp
	if *run != "" {
		var err error
		if filter, err = regexp.Compile(*run); err != nil {
			fmt.Fprintln(os.Stderr, "fuzzall: -run:", err)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	targets, err := findTargets(ctx, *pkgs, filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzall:", err)
		os.Exit(2)
	}
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "fuzzall: no fuzz targets found")
		os.Exit(2)
	}
	if *list {
		for _, t := range targets {
			fmt.Printf("%s %s\n", t[0], t[1])
		}
		return
	}
	fmt.Printf("fuzzall: %d targets, %v each (about %v in all)\n", len(targets), *perTarget,
		time.Duration(len(targets))*(*perTarget+5*time.Second))

	var results []result
	for i, t := range targets {
		if ctx.Err() != nil {
			break
		}
		fmt.Printf("[%d/%d] %s %s ... ", i+1, len(targets), t[0], t[1])
		if *verbose {
			fmt.Println()
		}
		r := fuzzOne(ctx, t[0], t[1], *perTarget, *minimize, *parallel, *race, *verbose)
		results = append(results, r)
		if r.ok {
			fmt.Printf("ok, %d execs in %v\n", r.execs, r.elapsed.Round(time.Second))
		} else {
			fmt.Printf("FAIL after %d execs\n", r.execs)
		}
	}
	failed := report(os.Stdout, results)
	if ctx.Err() != nil {
		fmt.Println("fuzzall: interrupted")
		os.Exit(1)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// findTargets returns [package, target] pairs, in package then name order.
func findTargets(ctx context.Context, pattern string, filter *regexp.Regexp) ([][2]string, error) {
	out, err := exec.CommandContext(ctx, "go", "list",
		"-f", "{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}", pattern).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w%s", pattern, err, stderrOf(err))
	}
	var targets [][2]string
	for _, pkg := range strings.Fields(string(out)) {
		lst, err := exec.CommandContext(ctx, "go", "test", "-list", "^Fuzz", pkg).Output()
		if err != nil {
			return nil, fmt.Errorf("go test -list in %s: %w%s", pkg, err, stderrOf(err))
		}
		for _, name := range parseList(lst) {
			if filter == nil || filter.MatchString(name) {
				targets = append(targets, [2]string{pkg, name})
			}
		}
	}
	return targets, nil
}

// parseList picks the fuzz target names out of `go test -list` output.
func parseList(out []byte) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "Fuzz") && !strings.ContainsAny(line, " \t") {
			names = append(names, line)
		}
	}
	return names
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

func fuzzOne(ctx context.Context, pkg, name string, d, minimize time.Duration, parallel int, race, verbose bool) result {
	args := []string{"test", "-run", "^$", "-fuzz", "^" + name + "$",
		"-fuzztime", d.String(), "-fuzzminimizetime", minimize.String(),
		// go test's default 10 m timeout would end long runs.
		"-timeout", (d + minimize + 5*time.Minute).String()}
	if parallel > 0 {
		args = append(args, "-parallel", strconv.Itoa(parallel))
	}
	if race {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	var buf bytes.Buffer
	var w io.Writer = &buf
	if verbose {
		w = io.MultiWriter(&buf, os.Stdout)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	err := cmd.Run()
	r := parseRun(buf.Bytes())
	r.pkg, r.name = pkg, name
	r.elapsed = time.Since(start)
	r.ok = err == nil
	if !r.ok && r.summary == "" {
		r.summary = lastLines(buf.String(), 10)
	}
	return r
}

var (
	execsRE   = regexp.MustCompile(`execs: (\d+)`)
	crasherRE = regexp.MustCompile(`(?:Failing input written to|failure while testing seed corpus entry:)\s*(\S+)`)
)

// parseRun extracts the last exec count, the crasher path and the failure
// text from go test -fuzz output.
func parseRun(out []byte) result {
	var r result
	for _, m := range execsRE.FindAllSubmatch(out, -1) {
		r.execs, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := crasherRE.FindSubmatch(out); m != nil {
		r.crasher = string(m[1])
	}
	if i := bytes.Index(out, []byte("--- FAIL")); i >= 0 {
		r.summary = firstLines(string(out[i:]), 12)
	}
	return r
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// report prints the summary table and the failures, and returns how many
// targets failed.
func report(w io.Writer, results []result) int {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tTARGET\tEXECS\tTIME\tRESULT")
	failed := 0
	for _, r := range results {
		res := "ok"
		if !r.ok {
			res = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%s\n", r.pkg, r.name, r.execs, r.elapsed.Round(time.Second), res)
	}
	tw.Flush()
	for _, r := range results {
		if r.ok {
			continue
		}
		fmt.Fprintf(w, "\nFAIL %s %s\n", r.pkg, r.name)
		if r.crasher != "" {
			fmt.Fprintf(w, "crasher: %s (in the package directory; `go test -run '%s/' %s` replays it; commit it with the fix)\n",
				r.crasher, r.name, r.pkg)
		}
		fmt.Fprintln(w, r.summary)
	}
	fmt.Fprintf(w, "\n%d targets, %d failed\n", len(results), failed)
	return failed
}
