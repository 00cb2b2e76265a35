package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/chat/chatroom"
	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
	"github.com/pumpnet/pumpnet/webrtc"
)

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

// syncBuffer is a log the servers write from their goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveGame builds the game for the browser and starts web's site on
// loopback, as run does; the site stops at the end of the test.
func serveGame(t *testing.T, game string) (*site, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	bctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start0 := time.Now()
	if err := buildWasm(bctx, game, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the %s for the browser in %v", game, time.Since(start0).Round(time.Millisecond))
	log := &syncBuffer{}
	s, err := start(config{
		game: game, httpAddr: "127.0.0.1:0", nativeAddr: "127.0.0.1:0", rtcAddr: "127.0.0.1:0",
		wasmDir: dir, log: log,
		rtc: func(c *webrtc.Config) { c.IPFilter = func(a netip.Addr) bool { return a.IsLoopback() } },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-ran
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	return s, log
}

// browser starts headless Chromium (WebGL through SwiftShader, for
// Ebitengine) and returns its context; its console is logged if the test
// fails.
func browser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	chromium := findChromium()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests run as root here
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(board.Width, board.Height),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		bcancel()
		acancel()
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("browser console:\n%s", strings.Join(console, "\n"))
		}
	})
	return bctx
}

func needChromium(t *testing.T) {
	if findChromium() == "" {
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome, or $CHROMIUM): apt-get install chromium")
	}
}

// waitJS polls the page until the JavaScript expression is true.
func waitJS(ctx context.Context, expr string) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
	return err
}

// logHas is a JavaScript expression: the chat page's log has a line equal
// to text.
func logHas(text string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("#log div")).some((d) => d.textContent === %q)`, text)
}

// TestChatBrowserAndNative: the chat's wasm client in headless Chromium
// and a native client join the same room; each hears the other's line
// (the chat protocol sends only reliable-ordered messages) and the
// players list names both. Both sides are checked: the page through its
// DOM, the native client through its handlers.
func TestChatBrowserAndNative(t *testing.T) {
	needChromium(t)
	s, _ := serveGame(t, "chat")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The native client, pumped on its own goroutine.
	native, err := engine.Connect(s.ConnectString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	var mu sync.Mutex
	var heard, players []string
	engine.HandleFunc(native, "message", func(_ *engine.Client, m chatroom.ChatMsg) {
		mu.Lock()
		heard = append(heard, m.Who+": "+m.Message)
		mu.Unlock()
	})
	engine.HandleFunc(native, "players", func(_ *engine.Client, m chatroom.PlayersMsg) {
		mu.Lock()
		players = m.Players
		mu.Unlock()
	})
	native.Send(chatroom.NicknameMsg{Action: "nickname", Nickname: "ann"})
	sends := make(chan any, 4)
	pumped := make(chan struct{})
	pctx, stopPump := context.WithCancel(ctx)
	go func() {
		defer close(pumped)
		for pctx.Err() == nil {
			select {
			case m := <-sends:
				if err := native.Send(m); err != nil {
					t.Errorf("native send: %v", err)
				}
			case <-native.Wake():
			case <-time.After(20 * time.Millisecond):
			case <-pctx.Done():
			}
			native.Pump()
		}
	}()
	defer func() { stopPump(); <-pumped }()
	nativeWait := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("native client: no %s; heard %q, players %q", what, heard, players)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	bctx := browser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(s.PageURL()+"?nick=bea")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(bctx, `document.getElementById("status").textContent === "connected"`); err != nil {
		t.Fatalf("page not connected: %v", err)
	}
	nativeWait("players list with ann and bea", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(players, "ann") && slices.Contains(players, "bea")
	})

	// Native to browser.
	sends <- chatroom.ChatMsg{Action: "message", Message: "hello from native"}
	if err := waitJS(bctx, logHas("ann: hello from native")); err != nil {
		t.Fatalf("the page did not show the native line: %v", err)
	}
	// Browser to native, typed into the page's form.
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS("#line"), "hello from the browser"),
		chromedp.Click(chromedp.CSS("#send")),
	); err != nil {
		t.Fatal(err)
	}
	nativeWait(`"bea: hello from the browser"`, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(heard, "bea: hello from the browser")
	})
	// The server echoes to everyone: the page shows its own line too, and
	// both players lists.
	if err := waitJS(bctx, logHas("bea: hello from the browser")); err != nil {
		t.Fatalf("the page did not show its own line relayed: %v", err)
	}
	pageLog, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS("#log")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pageLog, "*** players: ann, bea") {
		t.Errorf("page log has no players line for ann and bea:\n%s", pageLog)
	}
	mu.Lock()
	t.Logf("native heard %q; page log:\n%s", heard, pageLog)
	mu.Unlock()
}

// TestWhiteboardBrowserShowsNativeStroke: a native whiteboard client
// draws a filled patch before the browser joins (it arrives in "initial")
// and another after (relayed live); screenshots of the page in headless
// Chromium (the Ebitengine client built to wasm, WebGL on SwiftShader)
// show both in the native player's colour on the white board. Then a
// mouse drag on the page draws a stroke that the native player receives.
func TestWhiteboardBrowserShowsNativeStroke(t *testing.T) {
	needChromium(t)
	s, _ := serveGame(t, "whiteboard")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The native player: connects first (so it is player "1"), draws
	// patch A, and once a second player (the browser) is there, patch B.
	before := image.Rect(100, 150, 160, 190)
	after := image.Rect(400, 250, 460, 290)
	cl, err := room.Connect(s.ConnectString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var mu sync.Mutex
	var colour board.Colour
	var drawnA, drawnB bool
	var nativeErr error
	var browserLines [][]board.Point // player 2's (the browser's) lines, as the native client has them
	pctx, stopPump := context.WithCancel(ctx)
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		fill := func(r image.Rectangle) error {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				if err := cl.PenDown(board.Point{r.Min.X, y}); err != nil {
					return err
				}
				if err := cl.PenUp(board.Point{r.Max.X - 1, y}); err != nil {
					return err
				}
			}
			return nil
		}
		for pctx.Err() == nil {
			cl.Pump()
			mu.Lock()
			switch {
			case cl.State() == room.Disconnected:
				nativeErr = fmt.Errorf("native client: %s", cl.Status(0))
			case cl.State() == room.Connected && !drawnA:
				c, ok := cl.Board().Colour("1")
				if !ok {
					break
				}
				colour, drawnA = c, true
				nativeErr = fill(before)
			case drawnA && !drawnB && cl.Players() == 2:
				drawnB = true
				nativeErr = fill(after)
			}
			browserLines = browserLines[:0]
			for _, l := range cl.Board().Lines("2") {
				browserLines = append(browserLines, slices.Clone(l))
			}
			done := nativeErr != nil
			mu.Unlock()
			if done {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer func() { stopPump(); <-pumped }()
	for {
		mu.Lock()
		ok, err := drawnA, nativeErr
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("native client did not connect: %s", cl.Status(0))
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := color.RGBA{uint8(colour[0]), uint8(colour[1]), uint8(colour[2]), 255}

	bctx := browser(t, ctx)
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(board.Width, board.Height),
		chromedp.Navigate(s.PageURL()),
	); err != nil {
		t.Fatal(err)
	}
	// Screenshots until both patches show (the wasm loads, connects, gets
	// the board, and patch B comes after it joined).
	var shot image.Image
	var problems []string
	deadline := time.Now().Add(90 * time.Second) // within ctx's, to report what is wrong
	for {
		buf, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatal(err)
		}
		shot = img
		problems = problems[:0]
		problems = append(problems, checkPatch(img, "patch A (drawn before the browser joined)", before, want)...)
		problems = append(problems, checkPatch(img, "patch B (drawn after)", after, want)...)
		for _, bg := range []image.Rectangle{image.Rect(250, 120, 330, 200), image.Rect(480, 380, 600, 440)} {
			problems = append(problems, checkPatch(img, "the background", bg, color.RGBA{255, 255, 255, 255})...)
		}
		mu.Lock()
		err = nativeErr
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) == 0 {
			break
		}
		if time.Now().After(deadline) {
			f, _ := os.CreateTemp("", "whiteboard-shot-*.png")
			if f != nil {
				png.Encode(f, shot)
				f.Close()
				t.Logf("last screenshot: %s", f.Name())
			}
			t.Fatalf("the browser's screenshot (%v) does not show the strokes:\n%s", shot.Bounds(), strings.Join(problems, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("screenshot %v: both patches in %v on white", shot.Bounds(), want)

	// The browser draws: a stroke dragged with the mouse over the page
	// reaches the native player, at the same board coordinates.
	stroke := []board.Point{{300, 400}, {330, 402}, {360, 408}, {390, 415}, {420, 420}}
	held := func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }
	at := func(typ input.DispatchMouseEventType, pt board.Point, opts ...chromedp.MouseOption) {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.MouseEvent(typ, float64(pt[0]), float64(pt[1]), opts...)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(80 * time.Millisecond) // a few frames apart, as a hand moves
	}
	at(input.DispatchMouseEventTypeMouseMoved, stroke[0])
	at(input.DispatchMouseEventTypeMousePressed, stroke[0], chromedp.ButtonLeft, held, chromedp.ClickCount(1))
	for _, pt := range stroke[1:] {
		at(input.DispatchMouseEventTypeMouseMoved, pt, chromedp.ButtonLeft, held)
	}
	at(input.DispatchMouseEventTypeMouseReleased, stroke[len(stroke)-1], chromedp.ButtonLeft, chromedp.ClickCount(1))
	near := func(a, b board.Point) bool { return max(a[0]-b[0], b[0]-a[0]) <= 2 && max(a[1]-b[1], b[1]-a[1]) <= 2 }
	for deadline := time.Now().Add(30 * time.Second); ; {
		mu.Lock()
		var got [][]board.Point
		for _, l := range browserLines {
			got = append(got, slices.Clone(l))
		}
		mu.Unlock()
		if len(got) == 1 && len(got[0]) >= 2 && near(got[0][0], stroke[0]) && near(got[0][len(got[0])-1], stroke[len(stroke)-1]) {
			t.Logf("the native player has the browser's stroke: %v", got[0])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the native player has browser lines %v, want one from %v to %v", got, stroke[0], stroke[len(stroke)-1])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkPatch samples the inside of r (a 4-pixel margin off its edges, where
// lines are anti-aliased) on a grid and reports pixels far from want.
func checkPatch(img image.Image, what string, r image.Rectangle, want color.RGBA) []string {
	const tolerance = 24
	var bad []string
	in := r.Inset(4)
	for y := in.Min.Y; y < in.Max.Y; y += 4 {
		for x := in.Min.X; x < in.Max.X; x += 4 {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if absDiff(c.R, want.R) > tolerance || absDiff(c.G, want.G) > tolerance || absDiff(c.B, want.B) > tolerance {
				bad = append(bad, fmt.Sprintf("%s: pixel (%d,%d) is %v, want %v", what, x, y, c, want))
				if len(bad) == 3 {
					return bad
				}
			}
		}
	}
	return bad
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// run refuses a missing or unknown game, and -h is not an error.
func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"-game", "pong"}, {"-game", "chat", "extra"}} {
		var stderr bytes.Buffer
		err := run(context.Background(), args, io.Discard, &stderr)
		if err == nil || !strings.Contains(stderr.String(), "usage: web -game chat|whiteboard") {
			t.Errorf("run %q: %v, stderr %q; want a usage error", args, err, stderr.String())
		}
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run -h: %v, want flag.ErrHelp", err)
	}
}

// The web server serves the page (with the server's fingerprint for the
// wasm client to pin), the wasm (gzipped for browsers that accept it),
// wasm_exec.js and the signaling handler, and nothing else.
func TestServesPageWasmAndSignaling(t *testing.T) {
	s, _ := serveGame(t, "chat")
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(strings.TrimSuffix(s.PageURL(), "/") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, page := get("/")
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(s.wsrv.Fingerprint().String())) || !bytes.Contains(page, []byte(`new URL("signal", location.href)`)) {
		t.Errorf("page: %s\n%s", resp.Status, page)
	}
	// Go's client asks for gzip and unpacks it (Uncompressed).
	resp, wasm := get("/game.wasm")
	if resp.StatusCode != 200 || !resp.Uncompressed || resp.Header.Get("Content-Type") != "application/wasm" || !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Errorf("game.wasm: %s, uncompressed %v, type %q, %d bytes starting %q", resp.Status, resp.Uncompressed, resp.Header.Get("Content-Type"), len(wasm), wasm[:min(len(wasm), 4)])
	}
	if resp, js := get("/wasm_exec.js"); resp.StatusCode != 200 || !bytes.Contains(js, []byte("globalThis.Go = class")) {
		t.Errorf("wasm_exec.js: %s, %d bytes", resp.Status, len(js))
	}
	if resp, _ := get("/signal"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /signal: %s, want 405 (signaling takes a POSTed offer)", resp.Status)
	}
	for _, path := range []string{"/game.wasm.gz", "/site.go", "/../go.mod", "/x"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
}
