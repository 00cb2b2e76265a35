package browsertest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pumpnet/pumpnet/webrtc"
)

// result mirrors wasmclient.Result.
type result struct {
	Error             string  `json:"error"`
	ServerFingerprint string  `json:"serverFingerprint"`
	Ordered           []int   `json:"ordered"`
	Unordered         int     `json:"unordered"`
	Unreliable        int     `json:"unreliable"`
	Sequenced         []int   `json:"sequenced"`
	RTTMillis         float64 `json:"RTTMillis"`
	CloseCode         uint64  `json:"closeCode"`
	CloseReason       string  `json:"closeReason"`
	CloseRemote       bool    `json:"closeRemote"`
}

// n is wasmclient.N.
const n = 50

var allModes = []webrtc.DeliveryMode{webrtc.ReliableOrdered, webrtc.ReliableUnordered, webrtc.Unreliable, webrtc.UnreliableSequenced}

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>pumpnet webrtc</title>
<script src="wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("client.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => { const el = document.getElementById("result"); el.textContent = JSON.stringify({error: "wasm: " + e}); el.setAttribute("data-done", "1"); });
</script></head>
<body><pre id="result"></pre></body></html>`

// findChromium returns the browser's path, or "" if there is none.
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// buildClient builds wasmclient into dir and copies wasm_exec.js beside it.
func buildClient(t *testing.T, dir string) { buildWasm(t, dir, "./wasmclient") }

// buildWasm builds the wasm program pkg into dir as client.wasm and copies
// wasm_exec.js beside it.
func buildWasm(t *testing.T, dir, pkg string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command builds the wasm client: %v", err)
	}
	out, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	goroot := strings.TrimSpace(string(out))
	cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, "client.wasm"), pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm client: %v\n%s", err, out)
	}
	var js []byte
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if js, err = os.ReadFile(filepath.Join(goroot, p)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("wasm_exec.js not in GOROOT %s: %v", goroot, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

// servePage serves the test page, the wasm client dir holds and its
// wasm_exec.js, and signal at /signal, on 127.0.0.1 until the test ends,
// and returns the base URL.
func servePage(t *testing.T, dir string, signal http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/signal", signal)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "wasm_exec.js"))
	})
	mux.HandleFunc("/client.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, filepath.Join(dir, "client.wasm"))
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// newBrowser starts headless Chromium for the test (ended with ctx or the
// test), with the extra options given, and returns a tab's context.
func newBrowser(t *testing.T, ctx context.Context, chromium string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests run as root here
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	}
	opts = append(opts, extra...)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel()
	})
	return bctx
}

// serverSide is what the Go server saw of the browser.
type serverSide struct {
	err        error
	peer       webrtc.Fingerprint
	raddr      netip.AddrPort
	ordered    []int
	unordered  int
	unreliable int
	sequenced  []int
}

// serve accepts one browser connection, echoes every numbered message on
// its channel, and after "done" (and every echo acknowledged) closes with
// a reason the page reports.
func serve(ctx context.Context, s *webrtc.Server) (out serverSide) {
	c, err := s.Accept(ctx)
	if err != nil {
		out.err = err
		return
	}
	defer c.Close()
	out.peer, out.raddr = c.PeerFingerprint(), c.RemoteAddr()
	// "done" (channel 0) can overtake messages on the other channels, so
	// the server closes once the reliable-unordered ones are all in too.
	var doneAt time.Time
	finish := func() {
		// Let the echoes reach the browser, then close.
		deadline := time.Now().Add(5 * time.Second)
		for c.ChannelStats().QueuedBytes > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		c.CloseWithReason(webrtc.CodeApplication+1, "bye from the server")
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if !doneAt.IsZero() && (out.unordered == n || time.Since(doneAt) > 3*time.Second) {
			finish()
			return
		}
		for m, ok := c.Receive(); ok; m, ok = c.Receive() {
			if m.Channel == 0 && string(m.Data) == "done" {
				doneAt = time.Now()
				continue
			}
			if len(m.Data) != 4 {
				out.err = fmt.Errorf("message of %d bytes on channel %d", len(m.Data), m.Channel)
				return
			}
			v := int(binary.BigEndian.Uint32(m.Data))
			switch m.Channel {
			case 0:
				out.ordered = append(out.ordered, v)
			case 1:
				out.unordered++
			case 2:
				out.unreliable++
			case 3:
				out.sequenced = append(out.sequenced, v)
			}
			if err := c.Send(m.Channel, m.Data); err != nil {
				out.err = fmt.Errorf("echo: %w", err)
				return
			}
		}
		select {
		case <-c.Wake():
		case <-tick.C:
		case <-c.Done():
			out.err = fmt.Errorf("browser left before done: %w", c.Err())
			return
		case <-ctx.Done():
			out.err = ctx.Err()
			return
		}
	}
}

// TestBrowserClient: a page in headless Chromium runs the webrtc package's
// client (wasm, on RTCPeerConnection) against a Go server, on all four
// delivery modes; both sides check what they got.
func TestBrowserClient(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome, or $CHROMIUM): apt-get install chromium")
	}
	dir := t.TempDir()
	buildClient(t, dir)

	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := webrtc.NewServer(udp, &webrtc.ServerConfig{Config: webrtc.Config{Channels: allModes}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := servePage(t, dir, srv)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var side serverSide
	served := make(chan struct{})
	go func() {
		defer close(served)
		side = serve(ctx, srv)
	}()

	bctx := newBrowser(t, ctx, chromium)
	var logMu sync.Mutex
	var console []string
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			logMu.Lock()
			console = append(console, m.String())
			logMu.Unlock()
		}
	}()
	pageURL := base + "/?" + url.Values{"signal": {base + "/signal"}, "fp": {srv.Fingerprint().String()}}.Encode()
	err = chromedp.Do(bctx,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-done="1"]`)),
	)
	var text string
	if err == nil {
		text, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#result")))
	}
	logMu.Lock()
	logs := strings.Join(console, "\n")
	logMu.Unlock()
	if err != nil {
		t.Fatalf("browser: %v\nconsole:\n%s", err, logs)
	}
	var r result
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("page result %q: %v", text, err)
	}
	<-served
	t.Logf("page: %d ordered, %d unordered, %d unreliable, %d sequenced echoes; RTT %.2f ms; close %d %q",
		len(r.Ordered), r.Unordered, r.Unreliable, len(r.Sequenced), r.RTTMillis, r.CloseCode, r.CloseReason)
	t.Logf("server: browser %v at %v; %d ordered, %d unordered, %d unreliable, %d sequenced",
		side.peer, side.raddr, len(side.ordered), side.unordered, side.unreliable, len(side.sequenced))

	// The page's side.
	if r.Error != "" {
		t.Fatalf("page: %s\nconsole:\n%s", r.Error, logs)
	}
	if r.ServerFingerprint != srv.Fingerprint().String() {
		t.Errorf("page saw server key %s, the server's is %s", r.ServerFingerprint, srv.Fingerprint())
	}
	checkOrdered(t, "page, channel 0", r.Ordered)
	if r.Unordered != n {
		t.Errorf("page: %d reliable-unordered echoes, want %d", r.Unordered, n)
	}
	checkUnreliable(t, "page", r.Unreliable, r.Sequenced)
	if r.CloseCode != uint64(webrtc.CodeApplication+1) || r.CloseReason != "bye from the server" || !r.CloseRemote {
		t.Errorf("page saw close %d %q remote=%v, want %d \"bye from the server\" from the peer", r.CloseCode, r.CloseReason, r.CloseRemote, webrtc.CodeApplication+1)
	}
	if r.RTTMillis <= 0 {
		t.Errorf("page measured no RTT")
	}

	// The server's side.
	if side.err != nil {
		t.Fatalf("server: %v", side.err)
	}
	if side.peer.IsZero() {
		t.Errorf("server learned no fingerprint for the browser")
	}
	if !side.raddr.Addr().IsValid() {
		t.Errorf("server learned no address for the browser")
	}
	checkOrdered(t, "server, channel 0", side.ordered)
	if side.unordered != n {
		t.Errorf("server: %d reliable-unordered messages, want %d", side.unordered, n)
	}
	checkUnreliable(t, "server", side.unreliable, side.sequenced)
}

func checkOrdered(t *testing.T, who string, got []int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%s: %d messages, want %d", who, len(got), n)
		return
	}
	for i, v := range got {
		if v != i {
			t.Errorf("%s: message %d is %d: out of order", who, i, v)
			return
		}
	}
}

// checkUnreliable: unreliable channels may lose messages (on loopback they
// rarely do), but some must arrive and sequenced ones never go backwards.
func checkUnreliable(t *testing.T, who string, unreliable int, sequenced []int) {
	t.Helper()
	if unreliable == 0 || unreliable > n {
		t.Errorf("%s: %d unreliable messages, want 1..%d", who, unreliable, n)
	}
	if len(sequenced) == 0 {
		t.Errorf("%s: no sequenced messages", who)
	}
	for i := 1; i < len(sequenced); i++ {
		if sequenced[i] <= sequenced[i-1] {
			t.Errorf("%s: sequenced %d after %d", who, sequenced[i], sequenced[i-1])
		}
	}
}
