// Command fuzzall runs every fuzz target of the module, one after the
// other, each for the same time, and reports exec counts and failures.
//
//	go run ./tools/fuzzall -time 10m            # every target of both modules, 10 minutes each
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
//
// -jobs N fuzzes N targets at once (each with -parallel workers), so a long
// pass over every target fits in less wall time on a machine with cores to
// spare; -nice lowers their CPU priority so other work stays responsive.
//
// Go's fuzzing coordinator before go1.27 has a race at the end of a timed
// run (golang/go#75804): the target may fail with a bare "context deadline
// exceeded" once -fuzztime has elapsed, though no input failed. fuzzall
// counts such a run as passed, marked "ok (go#75804)", only when all of
// these hold: the failure text is exactly that error, the run lasted the
// whole -fuzztime, and no new file appeared under testdata/fuzz/<Name>.
// Anything else is a failure.
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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

type result struct {
	pkg, name string
	execs     int64
	elapsed   time.Duration
	ok        bool
	deadline  bool   // passed, but only after discounting go#75804
	crasher   string // testdata path of the failing input, if any
	summary   string // first lines of the failure
}

func main() {
	var (
		perTarget = flag.Duration("time", 10*time.Second, "fuzzing time per target")
		pkgs      = flag.String("pkg", "./... ./examples/...", "packages to search for fuzz targets (go list patterns, space-separated; the default covers both modules of the workspace)")
		run       = flag.String("run", "", "only targets whose name matches this regexp")
		parallel  = flag.Int("parallel", 0, "fuzzing workers per target (0: GOMAXPROCS)")
		minimize  = flag.Duration("minimize", 10*time.Second, "time to minimize a failing or new input (go test -fuzzminimizetime)")
		race      = flag.Bool("race", false, "fuzz with the race detector (much slower)")
		verbose   = flag.Bool("v", false, "stream go test's output")
		jobs      = flag.Int("jobs", 1, "targets fuzzed at the same time")
		nice      = flag.Bool("nice", false, "run go test under nice -n 19")
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
	if *jobs < 1 {
		*jobs = 1
	}
	if *verbose && *jobs > 1 {
		fmt.Fprintln(os.Stderr, "fuzzall: -v needs -jobs 1 (the outputs would interleave)")
		os.Exit(2)
	}
	rounds := (len(targets) + *jobs - 1) / *jobs
	fmt.Printf("fuzzall: %d targets, %v each, %d at a time (about %v in all)\n", len(targets), *perTarget, *jobs,
		time.Duration(rounds)*(*perTarget+5*time.Second))

	opts := runOpts{d: *perTarget, minimize: *minimize, parallel: *parallel, race: *race, verbose: *verbose, nice: *nice}
	results := make([]result, len(targets))
	done := make([]bool, len(targets))
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next int
	)
	for range *jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(targets) || ctx.Err() != nil {
					return
				}
				t := targets[i]
				if *verbose {
					fmt.Printf("[%d/%d] %s %s ...\n", i+1, len(targets), t[0], t[1])
				}
				r := fuzzOne(ctx, t[0], t[1], opts)
				mu.Lock()
				results[i], done[i] = r, true
				fmt.Printf("[%d/%d] %s %s: %s\n", i+1, len(targets), t[0], t[1], r.line())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var finished []result
	for i, r := range results {
		if done[i] {
			finished = append(finished, r)
		}
	}
	failed := report(os.Stdout, finished)
	if ctx.Err() != nil {
		fmt.Println("fuzzall: interrupted")
		os.Exit(1)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// findTargets returns [package, target] pairs, in package then name order.
// Only packages whose test files declare a Fuzz function are asked for
// their list (go test -list runs the test binary, and a package that links
// Ebitengine would need a display for that).
func findTargets(ctx context.Context, patterns string, filter *regexp.Regexp) ([][2]string, error) {
	args := append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .TestGoFiles \" \"}} {{join .XTestGoFiles \" \"}}"},
		strings.Fields(patterns)...)
	out, err := exec.CommandContext(ctx, "go", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w%s", patterns, err, stderrOf(err))
	}
	var targets [][2]string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || !declaresFuzz(f[1], strings.Fields(f[2])) {
			continue
		}
		pkg := f[0]
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

// declaresFuzz reports whether one of the test files declares a fuzz target.
func declaresFuzz(dir string, files []string) bool {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil && fuzzFuncRE.Match(b) {
			return true
		}
	}
	return false
}

var fuzzFuncRE = regexp.MustCompile(`(?m)^func Fuzz\w*\(\w+ \*testing\.F\)`)

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

// line is the one-line verdict printed as each target finishes.
func (r result) line() string {
	switch {
	case r.ok && r.deadline:
		return fmt.Sprintf("ok (go#75804), %d execs in %v", r.execs, r.elapsed.Round(time.Second))
	case r.ok:
		return fmt.Sprintf("ok, %d execs in %v", r.execs, r.elapsed.Round(time.Second))
	}
	return fmt.Sprintf("FAIL after %d execs", r.execs)
}

type runOpts struct {
	d, minimize         time.Duration
	parallel            int
	race, verbose, nice bool
}

func fuzzOne(ctx context.Context, pkg, name string, o runOpts) result {
	args := []string{"test", "-run", "^$", "-fuzz", "^" + name + "$",
		"-fuzztime", o.d.String(), "-fuzzminimizetime", o.minimize.String(),
		// go test's default 10 m timeout would end long runs.
		"-timeout", (o.d + o.minimize + 5*time.Minute).String()}
	if o.parallel > 0 {
		args = append(args, "-parallel", strconv.Itoa(o.parallel))
	}
	if o.race {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	bin := "go"
	if o.nice {
		bin, args = "nice", append([]string{"-n", "19", "go"}, args...)
	}
	corpus := corpusDir(ctx, pkg, name)
	before := listDir(corpus)
	cmd := exec.CommandContext(ctx, bin, args...)
	var buf bytes.Buffer
	var w io.Writer = &buf
	if o.verbose {
		w = io.MultiWriter(&buf, os.Stdout)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	err := cmd.Run()
	r := parseRun(buf.Bytes())
	r.pkg, r.name = pkg, name
	r.elapsed = time.Since(start)
	r.ok = err == nil
	if !r.ok && r.crasher == "" && r.elapsed >= o.d && isDeadlineRace(buf.Bytes(), name) &&
		!grew(before, listDir(corpus)) {
		r.ok, r.deadline = true, true
	}
	if !r.ok && r.summary == "" {
		r.summary = lastLines(buf.String(), 10)
	}
	return r
}

// isDeadlineRace reports whether a failed run's only complaint is the bare
// "context deadline exceeded" that go's coordinator prints at the end of a
// timed run (golang/go#75804): the lines after "--- FAIL: <name>" up to the
// closing FAIL are that error and nothing else.
func isDeadlineRace(out []byte, name string) bool {
	i := bytes.Index(out, []byte("--- FAIL: "+name+" "))
	if i < 0 {
		return false
	}
	var body []string
	for _, l := range strings.Split(string(out[i:]), "\n")[1:] {
		l = strings.TrimSpace(l)
		if l == "FAIL" || strings.HasPrefix(l, "exit status") || strings.HasPrefix(l, "FAIL\t") {
			break
		}
		if l != "" {
			body = append(body, l)
		}
	}
	return len(body) == 1 && body[0] == "context deadline exceeded"
}

// corpusDir is the package's testdata/fuzz/<name> directory.
func corpusDir(ctx context.Context, pkg, name string) string {
	out, err := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return ""
	}
	return filepath.Join(strings.TrimSpace(string(out)), "testdata", "fuzz", name)
}

func listDir(dir string) map[string]bool {
	names := map[string]bool{}
	if dir == "" {
		return names
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names[e.Name()] = true
	}
	return names
}

func grew(before, after map[string]bool) bool {
	for n := range after {
		if !before[n] {
			return true
		}
	}
	return false
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
		if r.deadline {
			res = "ok (go#75804)"
		}
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
