// Command server runs the whiteboard server without linking Ebitengine,
// for machines without a display (examples/whiteboard's -serve does the
// same, but that program cannot start without one):
//
//	go run ./examples/whiteboard/server -serve :31426
//
// It prints its connect string; players join with
//
//	go run ./examples/whiteboard -connect 'dtls://host:31426#...'
//
// and it runs until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "whiteboard server:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. It blocks.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("serve", ":31426", "listen on `addr` (host:port; \":31426\" listens on every interface, port 0 picks one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: server [-serve addr]")
		fmt.Fprintln(stderr, "The whiteboard server, without a window; clients: go run ./examples/whiteboard -connect <connect string>")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "server: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errors.New("bad usage (see -h)")
	}
	return room.Serve(ctx, *addr, "./examples/whiteboard", stdout)
}
