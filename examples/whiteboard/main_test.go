package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

// These tests link Ebitengine, which needs a display: CI runs them under
// xvfb-run. Ebitengine's window must run on the main thread, so TestMain
// keeps the main thread and runs there what tests hand it (onMain), while
// the tests themselves run on other goroutines.

var mainThread = make(chan func())

func TestMain(m *testing.M) {
	code := make(chan int, 1)
	go func() { code <- m.Run() }()
	for {
		select {
		case f := <-mainThread:
			f()
		case c := <-code:
			os.Exit(c)
		}
	}
}

// onMain runs f on the main thread and waits for it.
func onMain(f func()) {
	done := make(chan struct{})
	mainThread <- func() {
		defer close(done)
		f()
	}
	<-done
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `whiteboard -serve 127.0.0.1:0` in this process and
// returns its connect string.
func startServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", "127.0.0.1:0"}, out, &bytes.Buffer{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(out.String(), "\n") {
			if s, ok := strings.CutPrefix(l, "whiteboard: connect string "); ok {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no connect string:\n%s", out.String())
	return ""
}

func pumpUntil(t *testing.T, c *room.Client, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (status %q)", what, c.Status(0))
		}
		c.Pump()
		time.Sleep(time.Millisecond)
	}
}

// TestWindow runs the real client window (-scribble: it draws a star by
// itself) for four seconds against a server in this process, next to a
// headless player, and checks what reached the network and the screen.
func TestWindow(t *testing.T) {
	cs := startServer(t)

	// Player 1, headless, draws a line first: the window gets it in
	// "initial".
	ann, err := room.Connect(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	ann.PenDown(board.Point{20, 400})
	ann.PenMove(board.Point{300, 420})
	ann.PenUp(board.Point{600, 400})
	pumpUntil(t, ann, "ann's line", func() bool { return len(ann.Board().Lines("1")) == 1 && len(ann.Board().Lines("1")[0]) == 3 })

	// While the window runs, ann keeps pumping and notes the longest line
	// player 2 (the window) had.
	stop := make(chan struct{})
	starPoints := make(chan int, 1)
	go func() {
		most := 0
		for {
			select {
			case <-stop:
				starPoints <- most
				return
			case <-time.After(time.Millisecond):
			}
			ann.Pump()
			if l := ann.Board().Lines("2"); len(l) == 1 {
				most = max(most, len(l[0]))
			}
		}
	}()
	shot := filepath.Join(t.TempDir(), "whiteboard.png")
	out := &syncBuffer{}
	var runErr error
	onMain(func() {
		runErr = run(context.Background(), []string{"-connect", cs, "-scribble", "-overlay", "-ticks", "240", "-screenshot", shot}, out, &bytes.Buffer{})
	})
	close(stop)
	most := <-starPoints
	if runErr != nil {
		t.Fatalf("window: %v\n%s", runErr, out.String())
	}
	for _, want := range []string{"whiteboard: connecting to 127.0.0.1:", "whiteboard: connected\n", "whiteboard: left\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("window's output lacks %q:\n%s", want, out.String())
		}
	}

	// The window (player 2) drew its star through the server: ann saw it,
	// then saw it disappear when the window left.
	if most != 5*starSteps+1 {
		t.Errorf("ann saw a line of %d points from the window, want the star's %d", most, 5*starSteps+1)
	}
	pumpUntil(t, ann, "the window's leave", func() bool { return !ann.Board().Has("2") })

	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != board.Width || b.Dy() != board.Height {
		t.Fatalf("screenshot is %v", b)
	}
	near := func(c color.Color, want board.Colour) bool {
		r, g, bl, _ := c.RGBA()
		d := func(v uint32, w int) int { return max(int(v>>8)-w, w-int(v>>8)) }
		return d(r, want[0]) < 30 && d(g, want[1]) < 30 && d(bl, want[2]) < 30
	}
	count := func(r image.Rectangle, f func(color.Color) bool) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if f(img.At(x, y)) {
					n++
				}
			}
		}
		return n
	}
	if n := count(b, func(c color.Color) bool { return near(c, board.ColourFor(1)) }); n < 200 {
		t.Errorf("ann's line: %d pixels in her colour", n)
	}
	if n := count(b, func(c color.Color) bool { return near(c, board.ColourFor(2)) }); n < 300 {
		t.Errorf("the star: %d pixels in player 2's colour", n)
	}
	dark := func(c color.Color) bool { r, g, bl, _ := c.RGBA(); return r>>8 < 90 && g>>8 < 90 && bl>>8 < 90 }
	if n := count(image.Rect(8, 8, 120, 48), dark); n < 40 {
		t.Errorf("status lines: %d dark pixels", n)
	}
	if n := count(image.Rect(640-8-200, 10, 640-10, 60), dark); n < 200*50/2 {
		t.Errorf("overlay: %d dark pixels", n)
	}
	white := count(b, func(c color.Color) bool { return near(c, board.Colour{255, 255, 255}) })
	if white < b.Dx()*b.Dy()*3/4 {
		t.Errorf("background: only %d white pixels", white)
	}
}

func TestScribbleIsAClosedStar(t *testing.T) {
	s := newScribble(board.Point{300, 200})
	if len(s.pts) != 5*starSteps+1 || s.pts[0] != s.pts[len(s.pts)-1] {
		t.Fatalf("%d points, from %v to %v", len(s.pts), s.pts[0], s.pts[len(s.pts)-1])
	}
	if s.pts[0] != (board.Point{300, 120}) {
		t.Fatalf("starts at %v, want the top corner", s.pts[0])
	}
	for i := 1; i < len(s.pts); i++ {
		if s.pts[i] == s.pts[i-1] {
			t.Fatalf("points %d and %d are equal: PenMove would skip one", i-1, i)
		}
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"-serve", "-connect", "-insecure", "-overlay", "-scribble", "-ticks", "-screenshot"} {
		if !strings.Contains(errOut.String(), "  "+f) {
			t.Errorf("-h does not explain %s:\n%s", f, errOut.String())
		}
	}
	for _, args := range [][]string{nil, {"-serve", ":0", "-connect", "x:1"}, {"stray"}, {"-connect", "x:1", "-ticks", "-1"}} {
		errOut.Reset()
		if err := run(context.Background(), args, &out, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "usage:") {
			t.Errorf("%q: %v, stderr %q", args, err, errOut.String())
		}
	}
	err := run(context.Background(), []string{"-connect", "127.0.0.1:9"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "no key fingerprint") {
		t.Fatalf("host:port without -insecure: %v", err)
	}
}
