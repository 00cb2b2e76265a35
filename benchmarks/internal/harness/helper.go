package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// Some benchmarks run their remote side (senders, clients) in a second
// process: the test binary itself, started again with its helper
// environment variable set. Then getrusage(RUSAGE_SELF) in the benchmark
// process counts only the side being measured (the receiver, the server),
// and the heap it reports holds only that side's connections. The helper
// talks to the benchmark over its stdin (commands, one per line) and
// stdout (JSON replies, one per line); its stderr is the benchmark's. It
// exits when its stdin closes.

// ProfileEnv, when set in the benchmark's environment, makes every helper
// process write a CPU profile to <value>.<role>-<transport>.<pid> (the
// benchmark's own -cpuprofile covers only the measured side).
const ProfileEnv = "PUMPNET_BENCH_HELPER_CPUPROFILE"

// helperEnv is the variable that makes a test binary a helper: set by
// Main (each suite names its own), read by StartHelper.
var helperEnv string

// Role is a helper process's main for one role of Spec: it connects,
// replies Ready, then serves the benchmark's commands from hio until
// hio.Next fails (stdin closed: return nil).
type Role func(spec Spec, hio *HelperIO) error

// Main is a benchmark suite's TestMain: when the environment variable env
// holds a Spec, the binary is a helper process and runs the Role named by
// Spec.Role — one of roles, or else "tput" (TputSender of the built-in
// transports) or "scale" (ScaleClients of the built-in transports) — then
// exits; otherwise it runs the tests and benchmarks, printing a "go:
// <version>" configuration line for benchmarks/cmd/table (and benchstat)
// beside the lines go test prints. It does not return.
func Main(m *testing.M, env string, roles map[string]Role) {
	helperEnv = env
	if js := os.Getenv(env); js != "" {
		if err := runHelper(js, roles); err != nil {
			fmt.Fprintln(os.Stderr, "benchmark helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		fmt.Printf("go: %s\n", runtime.Version())
	}
	os.Exit(m.Run())
}

// Spec says what a helper process does.
type Spec struct {
	Role      string               // "tput" (send messages), "scale" (game clients), or a suite's own
	Transport string               // "udp", "raw-udp", "netcode", "engine", or a suite's own ("enet", "kcp", ...)
	Addr      string               // the benchmark's address (host:port)
	Target    string               // engine connect string
	FP        string               // netcode fingerprint to pin
	Mode      netcode.DeliveryMode // netcode, engine
	Size      int                  // message size (tput: payload; scale: input frame)
	Clients   int
}

// Reply is one line from a helper. Fields are set per role.
type Reply struct {
	Err      string         `json:",omitempty"`
	Ready    bool           `json:",omitempty"`
	Sent     int64          `json:",omitempty"` // messages sent this round
	Allocs   uint64         `json:",omitempty"` // heap allocations while sending
	Retries  int64          `json:",omitempty"` // sends refused with a full queue
	Stats    *netcode.Stats `json:",omitempty"` // the sender's connection after the round
	Received int64          `json:",omitempty"` // messages received this round
	P50      int64          `json:",omitempty"` // ns, delivery time
	P99      int64          `json:",omitempty"`
	Target   string         `json:",omitempty"` // a server role's connect string
}

// Helper is the benchmark's handle on a helper process. Its methods are
// for the benchmark's goroutine.
type Helper struct {
	tb    testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	lines chan Line
}

// Line is a helper's reply as read from its stdout, or the error of
// reading it.
type Line struct {
	R   Reply
	Err error
}

// StartHelper starts a helper process (this test binary again) running
// spec. It does not wait for the helper's first reply. It needs Main to
// have run (TestMain).
func StartHelper(tb testing.TB, spec Spec) *Helper {
	tb.Helper()
	if helperEnv == "" {
		tb.Fatal("harness: StartHelper without harness.Main in TestMain")
	}
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	h := &Helper{tb: tb, cmd: cmd, in: in, out: bufio.NewReader(out), lines: make(chan Line, 16)}
	go h.readLines()
	return h
}

func (h *Helper) readLines() {
	defer close(h.lines)
	for {
		line, err := h.out.ReadBytes('\n')
		if len(line) > 0 {
			var r Reply
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				h.lines <- Line{Err: fmt.Errorf("helper said %q: %w", line, jerr)}
				continue
			}
			h.lines <- Line{R: r}
		}
		if err != nil {
			return
		}
	}
}

// Send writes one command line to the helper; it blocks while the pipe is
// full.
func (h *Helper) Send(cmd string) {
	h.tb.Helper()
	if _, err := io.WriteString(h.in, cmd+"\n"); err != nil {
		h.tb.Fatalf("helper: %v", err)
	}
}

// Replies returns the channel of the helper's replies (check each with
// Check); it is closed when the helper's stdout ends.
func (h *Helper) Replies() <-chan Line { return h.lines }

// AwaitReply reads the helper's next reply in the background, without
// blocking. arrived is closed when it came (or the helper failed); get
// returns it, failing the benchmark on a helper's error.
func (h *Helper) AwaitReply(timeout time.Duration) (arrived <-chan struct{}, get func() Reply) {
	got := make(chan Line, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case l, ok := <-h.lines:
			if !ok {
				l.Err = errors.New("helper: exited early (its stderr is above)")
			}
			got <- l
		case <-time.After(timeout):
			got <- Line{Err: fmt.Errorf("helper: no reply within %v", timeout)}
		}
	}()
	return done, func() Reply {
		h.tb.Helper()
		return h.Check(<-got, true)
	}
}

// Reply waits (up to timeout) for the helper's next reply.
func (h *Helper) Reply(timeout time.Duration) Reply {
	h.tb.Helper()
	select {
	case l, ok := <-h.lines:
		return h.Check(l, ok)
	case <-time.After(timeout):
		h.tb.Fatalf("helper: no reply within %v", timeout)
	}
	return Reply{}
}

// Check returns the reply of l, a value received from Replies (ok false:
// the channel was closed), failing the benchmark if the helper failed.
func (h *Helper) Check(l Line, ok bool) Reply {
	h.tb.Helper()
	switch {
	case !ok:
		h.tb.Fatal("helper: exited early (its stderr is above)")
	case l.Err != nil:
		h.tb.Fatal(l.Err)
	case l.R.Err != "":
		h.tb.Fatalf("helper: %s", l.R.Err)
	}
	return l.R
}

// Close ends the helper (closing its stdin) and waits for it, killing it
// after 10 s.
func (h *Helper) Close() {
	h.in.Close()
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
}

// runHelper is the helper process's main.
func runHelper(js string, roles map[string]Role) error {
	var spec Spec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		return err
	}
	if prefix := os.Getenv(ProfileEnv); prefix != "" {
		f, err := os.Create(fmt.Sprintf("%s.%s-%s.%d", prefix, spec.Role, spec.Transport, os.Getpid()))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	hio := &HelperIO{in: bufio.NewScanner(os.Stdin), out: json.NewEncoder(os.Stdout)}
	var err error
	switch role := roles[spec.Role]; {
	case role != nil:
		err = role(spec, hio)
	case spec.Role == "tput":
		err = TputSender(spec, hio, nil)
	case spec.Role == "scale":
		err = ScaleClients(spec, hio, nil)
	default:
		err = fmt.Errorf("unknown role %q", spec.Role)
	}
	if err != nil {
		hio.Reply(Reply{Err: err.Error()})
	}
	return err
}

// HelperIO is the helper's side of the pipe. Next and Reply may be used
// from different goroutines, each from one at a time.
type HelperIO struct {
	in  *bufio.Scanner
	out *json.Encoder
}

// Next blocks for the next command; io.EOF when the benchmark closed
// stdin.
func (h *HelperIO) Next() (string, error) {
	if !h.in.Scan() {
		if err := h.in.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return strings.TrimSpace(h.in.Text()), nil
}

// Reply writes r to the benchmark.
func (h *HelperIO) Reply(r Reply) { _ = h.out.Encode(r) }
