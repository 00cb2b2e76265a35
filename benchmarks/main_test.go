package benchmarks

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
// process: the test binary itself, started again with helperEnv set. Then
// getrusage(RUSAGE_SELF) in the benchmark process counts only the side
// being measured (the receiver, the server), and the heap it reports holds
// only that side's connections. The helper talks to the benchmark over
// its stdin (commands, one per line) and stdout (JSON replies, one per
// line); its stderr is the benchmark's. It exits when its stdin closes.
const helperEnv = "PUMPNET_BENCH_HELPER"

// helperProfileEnv, when set in the benchmark's environment, makes every
// helper process write a CPU profile to <value>.<role>-<transport>.<pid>
// (the benchmark's own -cpuprofile covers only the measured side).
const helperProfileEnv = "PUMPNET_BENCH_HELPER_CPUPROFILE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		if err := runHelper(spec); err != nil {
			fmt.Fprintln(os.Stderr, "benchmarks helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		// A configuration line for cmd/table (and benchstat), beside the
		// goos/goarch/cpu lines go test prints.
		fmt.Printf("go: %s\n", runtime.Version())
	}
	os.Exit(m.Run())
}

// helperSpec says what a helper process does.
type helperSpec struct {
	Role      string // "tput" (send messages), "scale" (game clients), "idle" (hold connections), "idle-server" (an engine server)
	Transport string // "udp", "dtls", "netcode", "engine"
	Addr      string // the benchmark's address (host:port)
	Target    string // engine connect string
	FP        string // netcode fingerprint to pin
	Mode      netcode.DeliveryMode
	Size      int // message size (tput: payload; scale: input frame)
	Clients   int
}

// helperReply is one line from a helper. Fields are set per role.
type helperReply struct {
	Err      string         `json:",omitempty"`
	Ready    bool           `json:",omitempty"`
	Sent     int64          `json:",omitempty"` // messages sent this round
	Allocs   uint64         `json:",omitempty"` // heap allocations while sending
	Retries  int64          `json:",omitempty"` // sends refused with a full queue
	Stats    *netcode.Stats `json:",omitempty"` // the sender's connection after the round
	Received int64          `json:",omitempty"` // messages received this round
	P50      int64          `json:",omitempty"` // ns, delivery time
	P99      int64          `json:",omitempty"`
	Target   string         `json:",omitempty"` // idle-server: the engine server's connect string
}

// helper is the benchmark's handle on a helper process.
type helper struct {
	tb    testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	lines chan helperLine
}

type helperLine struct {
	r   helperReply
	err error
}

// startHelper starts a helper process running spec.
func startHelper(tb testing.TB, spec helperSpec) *helper {
	tb.Helper()
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
	h := &helper{tb: tb, cmd: cmd, in: in, out: bufio.NewReader(out), lines: make(chan helperLine, 16)}
	go h.readLines()
	return h
}

func (h *helper) readLines() {
	defer close(h.lines)
	for {
		line, err := h.out.ReadBytes('\n')
		if len(line) > 0 {
			var r helperReply
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				h.lines <- helperLine{err: fmt.Errorf("helper said %q: %w", line, jerr)}
				continue
			}
			h.lines <- helperLine{r: r}
		}
		if err != nil {
			return
		}
	}
}

// send writes one command line to the helper.
func (h *helper) send(cmd string) {
	h.tb.Helper()
	if _, err := io.WriteString(h.in, cmd+"\n"); err != nil {
		h.tb.Fatalf("helper: %v", err)
	}
}

// replies returns the channel of the helper's replies; it is closed when
// the helper's stdout ends.
func (h *helper) replies() <-chan helperLine { return h.lines }

// awaitReply reads the helper's next reply in the background. arrived is
// closed when it came (or the helper failed); get returns it.
func (h *helper) awaitReply(timeout time.Duration) (arrived <-chan struct{}, get func() helperReply) {
	got := make(chan helperLine, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case l, ok := <-h.lines:
			if !ok {
				l.err = errors.New("helper: exited early (its stderr is above)")
			}
			got <- l
		case <-time.After(timeout):
			got <- helperLine{err: fmt.Errorf("helper: no reply within %v", timeout)}
		}
	}()
	return done, func() helperReply {
		h.tb.Helper()
		return h.check(<-got, true)
	}
}

// reply waits for the helper's next reply.
func (h *helper) reply(timeout time.Duration) helperReply {
	h.tb.Helper()
	select {
	case l, ok := <-h.lines:
		return h.check(l, ok)
	case <-time.After(timeout):
		h.tb.Fatalf("helper: no reply within %v", timeout)
	}
	return helperReply{}
}

func (h *helper) check(l helperLine, ok bool) helperReply {
	h.tb.Helper()
	switch {
	case !ok:
		h.tb.Fatal("helper: exited early (its stderr is above)")
	case l.err != nil:
		h.tb.Fatal(l.err)
	case l.r.Err != "":
		h.tb.Fatalf("helper: %s", l.r.Err)
	}
	return l.r
}

// close ends the helper (closing its stdin) and waits for it.
func (h *helper) close() {
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
func runHelper(js string) error {
	var spec helperSpec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		return err
	}
	if prefix := os.Getenv(helperProfileEnv); prefix != "" {
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
	hio := &helperIO{in: bufio.NewScanner(os.Stdin), out: json.NewEncoder(os.Stdout)}
	var err error
	switch spec.Role {
	case "tput":
		err = tputSender(spec, hio)
	case "scale":
		err = scaleClients(spec, hio)
	case "idle":
		err = idleClients(spec, hio)
	case "idle-server":
		err = idleServer(spec, hio)
	default:
		err = fmt.Errorf("unknown role %q", spec.Role)
	}
	if err != nil {
		hio.reply(helperReply{Err: err.Error()})
	}
	return err
}

// helperIO is the helper's side of the pipe.
type helperIO struct {
	in  *bufio.Scanner
	out *json.Encoder
}

// next returns the next command; io.EOF when the benchmark closed stdin.
func (h *helperIO) next() (string, error) {
	if !h.in.Scan() {
		if err := h.in.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return strings.TrimSpace(h.in.Text()), nil
}

func (h *helperIO) reply(r helperReply) { _ = h.out.Encode(r) }
