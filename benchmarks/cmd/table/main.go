// Command table turns the output of pumpnet's benchmarks into the Markdown
// results of benchmarks/README.md: the machine, each goal with its verdict,
// then every benchmark's metrics.
//
//	go test -run XXX -bench . -benchtime 2s ./benchmarks | tee bench.txt
//	go run ./benchmarks/cmd/table -note "quiet run" < bench.txt
//
// With -peers FILE it also reads the output of the peers module
// (benchmarks/peers: ENet and kcp-go beside raw UDP and pumpnet, in one
// run of their own): its benchmarks get tables of their own, and the goals
// table gains two columns: the best peer's figure for the goal's metric
// (its ratio to the raw UDP of the peers run) and pumpnet's ratio to that
// best peer, measured in the peers run.
//
//	(cd benchmarks/peers && go test -run XXX -bench . -benchtime 2s) | tee peers.txt
//	go run ./benchmarks/cmd/table -peers peers.txt < bench.txt
//
// With -readme FILE it replaces what lies between the lines
// "<!-- results:begin -->" and "<!-- results:end -->" in FILE instead of
// printing.
//
// When a benchmark appears more than once (-count), each metric is the
// median of its runs. Verdicts use the exact values; every number shown is
// rounded to 3 significant digits against pumpnet (rates down, everything
// else up), so a figure never looks better than it was. A goal whose
// benchmark did not run says so.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// goal is one of issue 6's (or 13's) targets, checked on one benchmark's
// metric.
type goal struct {
	text   string
	bench  string // name without "Benchmark" and the -GOMAXPROCS suffix
	unit   string
	op     string // "<=", ">=", "<" or "==0"
	target float64
}

var goals = []goal{
	{"RTT p50 ≤ 1.25× raw UDP", "PingPong_latency/engine-reliable", "p50/udp", "<=", 1.25},
	{"RTT p50 ≤ 1.25× raw UDP", "PingPong_latency/engine-unreliable", "p50/udp", "<=", 1.25},
	{"RTT p50 ≤ 1.25× raw UDP", "PingPong_latency/netcode-reliable", "p50/udp", "<=", 1.25},
	{"RTT p50 ≤ 1.25× raw UDP", "PingPong_latency/netcode-unreliable", "p50/udp", "<=", 1.25},
	{"RTT p50: engine ≤ the best peer (reliable)", "Peers_PingPong/engine-reliable", "p50/best-peer", "<=", 1},
	{"64 B reliable msg/s ≥ 10× raw UDP (one per datagram)", "Throughput/64B/netcode-reliable", "msg/s/udp", ">=", 10},
	{"64 B reliable msg/s ≥ 10× raw UDP (one per datagram)", "Throughput/64B/engine-reliable", "msg/s/udp", ">=", 10},
	{"64 B reliable msg/s ≥ 1.25× the best peer", "Peers_Throughput/64B/netcode-reliable", "msg/s/best-peer", ">=", 1.25},
	{"64 B reliable msg/s ≥ 1.25× the best peer", "Peers_Throughput/64B/engine-reliable", "msg/s/best-peer", ">=", 1.25},
	{"0 allocs per message (ping-pong, both ends)", "PingPong_latency/netcode-reliable", "allocs/msg", "==0", 0},
	{"0 allocs per message (ping-pong, both ends)", "PingPong_latency/netcode-unreliable", "allocs/msg", "==0", 0},
	{"0 allocs per message (ping-pong, both ends)", "PingPong_latency/engine-reliable", "allocs/msg", "==0", 0},
	{"0 allocs per message (ping-pong, both ends)", "PingPong_latency/engine-unreliable", "allocs/msg", "==0", 0},
	{"0 allocs per message (bulk receiver)", "Throughput/64B/netcode-reliable", "rx-allocs/msg", "==0", 0},
	{"0 allocs per message (bulk sender)", "Throughput/64B/netcode-reliable", "tx-allocs/msg", "==0", 0},
	{"0 allocs per message (256-client server)", "Scale/clients=256/engine", "allocs/msg", "==0", 0},
	{"handshake p50 ≤ 1.2× raw pion", "Handshake/netcode-cert", "p50/pion", "<=", 1.2},
	{"handshake p50 ≤ 1.2× raw pion", "Handshake/netcode-psk", "p50/pion", "<=", 1.2},
	{"256-client server CPU ≤ 1.5× raw UDP", "Scale/clients=256/engine", "cpu/udp", "<=", 1.5},
	{"256-client p99 state delivery ≤ 2× raw UDP", "Scale/clients=256/engine", "p99/udp", "<=", 2},
	{"64 KiB reliable goodput ≥ 0.8× raw UDP (same bytes)", "Throughput/64KiB/netcode-reliable", "goodput/udp", ">=", 0.8},
	{"64 KiB reliable goodput ≥ 0.8× raw UDP (same bytes)", "Throughput/64KiB/engine-reliable", "goodput/udp", ">=", 0.8},
	{"1 MiB reliable goodput ≥ 0.8× raw UDP (same bytes)", "Throughput/1MiB/netcode-reliable", "goodput/udp", ">=", 0.8},
	{"1 MiB reliable goodput ≥ 0.8× raw UDP (same bytes)", "Throughput/1MiB/engine-reliable", "goodput/udp", ">=", 0.8},
	{"64 KiB reliable: sender's declared loss < 1%", "Throughput/64KiB/netcode-reliable", "tx-lost-pkt-%", "<", 1},
	{"64 KiB reliable: sender's declared loss < 1%", "Throughput/64KiB/engine-reliable", "tx-lost-pkt-%", "<", 1},
	{"1 MiB reliable: sender's declared loss < 1%", "Throughput/1MiB/netcode-reliable", "tx-lost-pkt-%", "<", 1},
	{"1 MiB reliable: sender's declared loss < 1%", "Throughput/1MiB/engine-reliable", "tx-lost-pkt-%", "<", 1},
}

// peerCmp says where a goal's scenario lies in the peers run
// (benchmarks/peers): the peers' sub-benchmarks and their metric that is
// comparable with the goal's (a ratio to raw UDP), and pumpnet's
// sub-benchmark of that run with its ratio to the best of them.
type peerCmp struct {
	benches []string
	unit    string
	vs      string
	vsUnit  string
}

// peerFor maps a goal to the peers run, from its benchmark's name and
// metric (so that goals added later find their peers too); nil when the
// peers do not run the goal's scenario or metric. Reliable pumpnet rows
// are compared with reliable peers only.
func peerFor(g goal) *peerCmp {
	fam, sub, _ := strings.Cut(g.bench, "/")
	metric, _, _ := strings.Cut(g.unit, "/")
	switch fam {
	case "PingPong_latency", "Peers_PingPong":
		if metric != "p50" {
			return nil
		}
		peers := []string{"Peers_PingPong/enet-reliable", "Peers_PingPong/kcp-reliable"}
		if strings.HasSuffix(sub, "-unreliable") {
			peers = []string{"Peers_PingPong/enet-unreliable"}
		}
		return &peerCmp{peers, "p50/udp", "Peers_PingPong/" + sub, "p50/best-peer"}
	case "Throughput", "Peers_Throughput":
		size, row, _ := strings.Cut(sub, "/")
		if !strings.HasSuffix(row, "-reliable") {
			return nil
		}
		p := "Peers_Throughput/" + size + "/"
		peers := []string{p + "enet-reliable", p + "kcp-reliable"}
		switch metric {
		case "msg":
			return &peerCmp{peers, "msg/s/udp", p + row, "msg/s/best-peer"}
		case "goodput":
			return &peerCmp{peers, "goodput/udp", p + row, "goodput/best-peer"}
		case "rx-cpu":
			return &peerCmp{peers, "rx-cpu/udp", p + row, "rx-cpu/best-peer"}
		}
		return nil
	case "Scale", "Peers_Scale":
		clients, row, _ := strings.Cut(sub, "/")
		if row != "engine" || (metric != "cpu" && metric != "p99") {
			return nil
		}
		p := "Peers_Scale/" + clients + "/"
		return &peerCmp{[]string{p + "enet", p + "kcp"}, metric + "/udp", p + "engine", metric + "/best-peer"}
	}
	return nil
}

// higherIsBetter reports whether a bigger value of unit is better for
// pumpnet (rates and their ratios); for every other unit (times, CPU,
// allocations, losses, bytes) smaller is better.
func higherIsBetter(unit string) bool {
	for _, p := range []string{"msg/s", "MB/s", "conn/s", "goodput"} {
		if strings.HasPrefix(unit, p) {
			return true
		}
	}
	return false
}

// against is the rounding direction that does not flatter pumpnet.
func against(unit string) int {
	if higherIsBetter(unit) {
		return -1
	}
	return +1
}

// hidden units: go test's own, which the benchmarks report more precisely
// (allocs/op is an integer division) or which mean little here.
var hidden = map[string]bool{"ns/op": true, "B/op": true, "allocs/op": true}

// result is every run of one benchmark.
type result struct {
	name   string
	units  []string // in order of appearance
	values map[string][]float64
	runs   int
	iters  []int64
}

func (r *result) metric(unit string) (float64, bool) {
	v := r.values[unit]
	if len(v) == 0 {
		return 0, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// run is a parsed benchmark output.
type run struct {
	config  map[string]string // goos, goarch, cpu, pkg, go
	procs   string
	order   []string
	results map[string]*result
}

func parse(in io.Reader) (*run, error) {
	r := &run{config: map[string]string{}, results: map[string]*result{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.ContainsAny(k, " \t") && !strings.HasPrefix(k, "Benchmark") {
			if _, seen := r.config[k]; !seen {
				r.config[k] = strings.TrimSpace(v)
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		iters, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				r.procs = name[i+1:]
				name = name[:i]
			}
		}
		res := r.results[name]
		if res == nil {
			res = &result{name: name, values: map[string][]float64{}}
			r.results[name] = res
			r.order = append(r.order, name)
		}
		res.runs++
		res.iters = append(res.iters, iters)
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad value %q", f[0], f[i])
			}
			u := f[i+1]
			if _, seen := res.values[u]; !seen {
				res.units = append(res.units, u)
			}
			res.values[u] = append(res.values[u], v)
		}
	}
	return r, sc.Err()
}

// format prints v with 3 significant digits, rounded in direction dir
// (+1 up, -1 down, 0 nearest).
func format(v float64, dir int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	mag := math.Floor(math.Log10(math.Abs(v)))
	digits := max(0, 2-int(mag))
	scale := math.Pow(10, float64(digits))
	x := v * scale
	switch {
	case dir > 0:
		x = math.Ceil(x - 1e-9)
	case dir < 0:
		x = math.Floor(x + 1e-9)
	default:
		x = math.Round(x)
	}
	return strconv.FormatFloat(x/scale, 'f', digits, 64)
}

func (r *run) write(w io.Writer, note string) {
	machine := []string{}
	if r.config["goos"] != "" {
		machine = append(machine, r.config["goos"]+"/"+r.config["goarch"])
	}
	if c := r.config["cpu"]; c != "" {
		machine = append(machine, "cpu: "+c)
	}
	if r.procs != "" {
		machine = append(machine, "GOMAXPROCS "+r.procs)
	}
	if g := r.config["go"]; g != "" {
		machine = append(machine, g)
	}
	fmt.Fprintf(w, "Machine: %s.\n", strings.Join(machine, ", "))
	if note != "" {
		fmt.Fprintf(w, "\n%s\n", note)
	}

	fmt.Fprint(w, "\n### Goals\n\n| Goal | Benchmark | Metric | Measured | Target | Verdict | Best peer | ÷ best peer |\n|---|---|---|---:|---|---|---|---:|\n")
	for _, g := range goals {
		res := r.results[g.bench]
		var v float64
		ok := false
		if res != nil {
			v, ok = res.metric(g.unit)
		}
		var shown, target, verdict string
		switch g.op {
		case "<=":
			shown, target = format(v, +1)+"×", "≤ "+strconv.FormatFloat(g.target, 'g', -1, 64)+"×"
			verdict = pick(v <= g.target)
		case ">=":
			shown, target = format(v, -1)+"×", "≥ "+strconv.FormatFloat(g.target, 'g', -1, 64)+"×"
			verdict = pick(v >= g.target)
		case "<":
			suffix := "×"
			if strings.HasSuffix(g.unit, "%") {
				suffix = "%"
			}
			shown, target = format(v, +1)+suffix, "< "+strconv.FormatFloat(g.target, 'g', -1, 64)+suffix
			verdict = pick(v < g.target)
		case "==0":
			shown, target = strconv.FormatFloat(v, 'g', 4, 64), "0"
			verdict = pick(v == 0)
		}
		if !ok {
			shown, verdict = "—", "not run"
		}
		best, vs := r.peerCells(peerFor(g))
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", g.text, g.bench, g.unit, shown, target, verdict, best, vs)
	}

	// One table per top-level benchmark, columns in order of appearance.
	var families []string
	byFamily := map[string][]*result{}
	for _, name := range r.order {
		fam, _, _ := strings.Cut(name, "/")
		if _, seen := byFamily[fam]; !seen {
			families = append(families, fam)
		}
		byFamily[fam] = append(byFamily[fam], r.results[name])
	}
	for _, fam := range families {
		var cols []string
		for _, res := range byFamily[fam] {
			for _, u := range res.units {
				if !hidden[u] && !slices.Contains(cols, u) {
					cols = append(cols, u)
				}
			}
		}
		fmt.Fprintf(w, "\n### %s\n\n| Benchmark | runs×N |", fam)
		for _, c := range cols {
			fmt.Fprintf(w, " %s |", c)
		}
		fmt.Fprint(w, "\n|---|---:|")
		for range cols {
			fmt.Fprint(w, "---:|")
		}
		fmt.Fprintln(w)
		for _, res := range byFamily[fam] {
			sub := strings.TrimPrefix(strings.TrimPrefix(res.name, fam), "/")
			if sub == "" {
				sub = fam
			}
			slices.Sort(res.iters)
			fmt.Fprintf(w, "| %s | %d×%d |", sub, res.runs, res.iters[len(res.iters)/2])
			for _, c := range cols {
				if v, ok := res.metric(c); ok {
					fmt.Fprintf(w, " %s |", format(v, against(c)))
				} else {
					fmt.Fprint(w, " |")
				}
			}
			fmt.Fprintln(w)
		}
	}
}

// peerCells returns the goals table's best-peer cells for c: the best
// peer's figure (rounded in its favour, against pumpnet) and name, and
// pumpnet's ratio to it in the peers run; "—" where the peers did not run.
func (r *run) peerCells(c *peerCmp) (best, vs string) {
	best, vs = "—", "—"
	if c == nil {
		return
	}
	name, bv, found := "", 0.0, false
	for _, b := range c.benches {
		res := r.results[b]
		if res == nil {
			continue
		}
		v, ok := res.metric(c.unit)
		if !ok || v <= 0 {
			continue
		}
		if !found || (higherIsBetter(c.unit) && v > bv) || (!higherIsBetter(c.unit) && v < bv) {
			name, bv, found = b[strings.LastIndexByte(b, '/')+1:], v, true
		}
	}
	if found {
		best = format(bv, -against(c.unit)) + "× " + name
	}
	if res := r.results[c.vs]; res != nil {
		if v, ok := res.metric(c.vsUnit); ok {
			vs = format(v, against(c.vsUnit)) + "×"
		}
	}
	return
}

// merge adds the results of o (another package's run) to r.
func (r *run) merge(o *run) {
	for _, name := range o.order {
		if _, seen := r.results[name]; !seen {
			r.order = append(r.order, name)
			r.results[name] = o.results[name]
		}
	}
}

func pick(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

// Markers of the generated part of a README.
const (
	beginMarker = "<!-- results:begin -->"
	endMarker   = "<!-- results:end -->"
)

// splice replaces what lies between the markers in doc with body.
func splice(doc, body string) (string, error) {
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q ... %q lines", beginMarker, endMarker)
	}
	return doc[:i+len(beginMarker)] + "\n" + body + doc[j:], nil
}

func main() {
	note := flag.String("note", "", "a line printed under the machine line (e.g. how the run was made)")
	readme := flag.String("readme", "", "replace the results section of this file instead of printing")
	peers := flag.String("peers", "", "also read this output of the peers module (benchmarks/peers)")
	flag.Parse()
	r, err := parse(os.Stdin)
	if err == nil && *peers != "" {
		var f *os.File
		if f, err = os.Open(*peers); err == nil {
			var p *run
			if p, err = parse(f); err == nil {
				r.merge(p)
			}
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
	if len(r.results) == 0 {
		fmt.Fprintln(os.Stderr, "table: no benchmark results on stdin")
		os.Exit(1)
	}
	if *readme == "" {
		r.write(os.Stdout, *note)
		return
	}
	var out strings.Builder
	r.write(&out, *note)
	doc, err := os.ReadFile(*readme)
	if err == nil {
		var s string
		if s, err = splice(string(doc), out.String()); err == nil {
			err = os.WriteFile(*readme, []byte(s), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
}
