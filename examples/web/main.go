// Command web serves a game to browser players beside native ones: one
// command runs the game's server (the same code as the game's own -serve),
// serves WebRTC connections to it, and serves a page with the game built
// for the browser (GOOS=js GOARCH=wasm) that connects back:
//
//	go run ./examples/web -game chat
//	go run ./examples/web -game whiteboard -addr :8080
//
// It prints the URL to open in a browser, and the connect string with
// which native clients join the same room:
//
//	go run ./examples/chat -connect 'dtls://host:8080#9f86...' -nick ann
//	go run ./examples/whiteboard -connect 'dtls://host:8080#9f86...'
//
// At startup it builds the game for the browser with the go command (so
// it needs the Go toolchain and this repository's source, as go run
// does) into a temporary directory: for chat, ./web/chatclient (a page
// with a log and an input line, on the chat's protocol); for the
// whiteboard, the Ebitengine window of ./whiteboard itself.
//
// Ports: the page and signaling are HTTP on -addr (TCP); native clients
// connect over UDP to the same port number (-native); browsers' WebRTC
// traffic uses one more UDP socket (-rtc, by default the next port). Both
// transports have the same identity, so the fingerprint in the connect
// string is the one the page pins.
//
// This serves plain HTTP: fine on localhost and a LAN you trust. On the
// internet, put it behind HTTPS (see README.md, "Browser players").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
}

// run is the whole program: flags in args, what it prints to stdout (flag
// errors and usage to stderr). It serves until ctx ends. It blocks.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.game, "game", "", "the game to serve: chat or whiteboard")
	fs.StringVar(&c.httpAddr, "addr", ":8080", "serve the page and signaling over HTTP on `addr` (host:port; port 0 picks one)")
	fs.StringVar(&c.nativeAddr, "native", "", "serve native clients (UDP) on `addr` (default: -addr's host and port)")
	fs.StringVar(&c.rtcAddr, "rtc", "", "the UDP socket of browsers' WebRTC connections, `addr` (default: -addr's host, the next port; port 0 picks one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: web -game chat|whiteboard [-addr host:port] [-native host:port] [-rtc host:port]")
		fmt.Fprintln(stderr, "Serves the game's server, its browser build and WebRTC signaling; prints the URL to open and the native connect string.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "web: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errors.New("bad usage (see -h)")
	}
	if _, ok := games[c.game]; !ok {
		fmt.Fprintf(stderr, "web: -game must be chat or whiteboard, not %q\n", c.game)
		fs.Usage()
		return errors.New("bad usage (see -h)")
	}
	host, port, err := net.SplitHostPort(c.httpAddr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", c.httpAddr, err)
	}
	if c.nativeAddr == "" {
		c.nativeAddr = c.httpAddr
	}
	if c.rtcAddr == "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65534 {
			return fmt.Errorf("-addr %q: bad port", c.httpAddr)
		}
		if p != 0 {
			p++
		}
		c.rtcAddr = net.JoinHostPort(host, strconv.Itoa(p))
	}
	fmt.Fprintf(stdout, "web: building the %s for the browser (GOOS=js GOARCH=wasm)...\n", c.game)
	dir, err := os.MkdirTemp("", "pumpnet-web-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := buildWasm(ctx, c.game, dir); err != nil {
		return err
	}
	c.wasmDir = dir
	c.log = stdout
	s, err := start(c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "web: open %s in a browser\n", s.PageURL())
	fmt.Fprintf(stdout, "web: native connect string %s\n", s.ConnectString())
	fmt.Fprintf(stdout, "web: native players join with: go run ./examples/%s -connect '%s'\n", c.game, s.ConnectString())
	s.Run(ctx)
	fmt.Fprintln(stdout, "web: stopped")
	return nil
}
