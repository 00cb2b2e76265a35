// Command whiteboard is PodSixNet's Whiteboard example on pumpnet: everyone
// connected draws on one shared 640×480 board, each in their own colour.
//
// In one terminal:
//
//	go run ./examples/whiteboard -serve :31426
//
// It prints its connect string (dtls://host:port#fingerprint). Then, once
// per player:
//
//	go run ./examples/whiteboard -connect 'dtls://192.168.1.5:31426#9f86...'
//
// Hold the left mouse button and drag to draw; Esc quits; F3 shows the
// network overlay (RTT, jitter, loss, bandwidth and an RTT graph). The
// window's status line says "connecting...", "connected", "disconnected"
// (with the reason) or what went wrong, and the next line how many players
// are drawing. When a player leaves, their drawing disappears.
//
// The server numbers players "1", "2", ... in order of arrival, gives each
// PodSixNet's colour for its number, relays every stroke to everyone and
// sends newcomers the board so far; see examples/whiteboard/room and
// examples/whiteboard/board for the protocol and its limits.
//
// This command links Ebitengine, which cannot start without a display
// (even for -serve: it panics while the program loads). On a machine
// without one, run the same server as
//
//	go run ./examples/whiteboard/server -serve :31426
//
// Built for the browser (GOOS=js GOARCH=wasm), the same window runs in a
// page and connects to the signaling URL the page gives it (see main_js.go
// and examples/web, which serves it):
//
//	go run ./examples/web -game whiteboard
//
// Non-interactive use (the tests, screenshots): -scribble draws a star by
// itself once connected, -ticks N quits after N frames (60 a second), and
// -screenshot saves the last frame as a PNG:
//
//	xvfb-run -a go run ./examples/whiteboard -connect "$ADDR" -scribble -overlay -ticks 180 -screenshot wb.png
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

// errUsage reports a bad command line; the usage was already printed.
var errUsage = errors.New("bad usage (see -h)")

// clientOptions are the client's flags.
type clientOptions struct {
	target     string
	insecure   bool
	overlay    bool
	scribble   bool
	ticks      int
	screenshot string
}

// run is the whole program: flags in args, what it prints to stdout (flag
// errors and usage to stderr). The server runs until ctx ends; the client
// until its window closes, Esc, ctx ends or -ticks frames passed. The
// client must be run on the main thread (Ebitengine's rule).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("whiteboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serveAddr := fs.String("serve", "", "run a server on `addr` (host:port; \":31426\" listens on every interface, port 0 picks one) until interrupted")
	var o clientOptions
	fs.StringVar(&o.target, "connect", "", "open a window on the server at `target`: the connect string it prints (dtls://host:port#fingerprint), or host:port with -insecure")
	fs.BoolVar(&o.insecure, "insecure", false, "allow -connect host:port without a key fingerprint: still encrypted, but the server is not verified (anyone on the path could pose as it)")
	fs.BoolVar(&o.overlay, "overlay", false, "show the network overlay from the start (F3 toggles it)")
	fs.BoolVar(&o.scribble, "scribble", false, "draw a star by itself once connected (a demo, and the tests' player)")
	fs.IntVar(&o.ticks, "ticks", 0, "quit after `n` frames, 60 a second (0: run until Esc or the window closes)")
	fs.StringVar(&o.screenshot, "screenshot", "", "save the last frame to `file` (PNG) when quitting")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: whiteboard -serve addr")
		fmt.Fprintln(stderr, "       whiteboard -connect target [-insecure] [-overlay] [-scribble] [-ticks n] [-screenshot file.png]")
		fmt.Fprintln(stderr, "Drag with the left mouse button to draw; Esc quits; F3 toggles the network overlay.")
		fmt.Fprintln(stderr, "Needs a display, even for -serve; without one, serve with: go run ./examples/whiteboard/server")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "whiteboard: unexpected argument %q\n", fs.Arg(0))
	case *serveAddr != "" && o.target != "":
		fmt.Fprintln(stderr, "whiteboard: -serve and -connect are exclusive: run a server and clients as separate processes")
	case o.ticks < 0:
		fmt.Fprintln(stderr, "whiteboard: -ticks must not be negative")
	case *serveAddr != "":
		return room.Serve(ctx, *serveAddr, "./examples/whiteboard", stdout)
	case o.target != "":
		return connect(ctx, o, stdout)
	default:
		fmt.Fprintln(stderr, "whiteboard: need -serve or -connect")
	}
	fs.Usage()
	return errUsage
}

// connect opens the window on a server and runs it until it quits, then
// leaves the server gracefully. It blocks, on the main thread.
func connect(ctx context.Context, o clientOptions, out io.Writer) error {
	t, err := engine.ParseTarget(o.target)
	if err != nil {
		return err
	}
	if t.Fingerprint.IsZero() && !o.insecure {
		return fmt.Errorf("%q has no key fingerprint, so the server cannot be verified: use the connect string the server prints (dtls://host:port#fingerprint), or add -insecure to accept any server", o.target)
	}
	c, err := room.Connect(o.target, &room.ClientConfig{
		Engine: engine.ClientConfig{InsecureAcceptAnyServer: o.insecure},
		Log:    out,
	})
	if err != nil {
		return err
	}
	defer c.Close()
	if o.insecure && t.Fingerprint.IsZero() {
		fmt.Fprintln(out, "whiteboard: warning: -insecure: the server's identity is not verified")
	}
	fmt.Fprintf(out, "whiteboard: connecting to %s\n", t.Addr)
	g := newGame(ctx, c, o, out)
	if err := play(g); err != nil {
		return err
	}
	if c.State() == room.Connected {
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.Leave(lctx)
		fmt.Fprintln(out, "whiteboard: left")
	}
	return g.err
}
