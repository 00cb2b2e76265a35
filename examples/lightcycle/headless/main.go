// Command headless plays lightcycle without a window (the same as
// "lightcycle -headless"): its player is the autopilot, robots fill empty
// seats, and it prints each round's result as one line, the same on every
// instance of a session.
//
//	go run ./examples/lightcycle/headless -bots 2 -name ann -rounds 3
//	go run ./examples/lightcycle/headless -local -bots 3 -rounds 5 -tps 6000
//	go run ./examples/lightcycle/headless -iface eth0 -players 3
//
// See package game/headless for the flags and the output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game/headless"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := headless.Run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "lightcycle:", err)
		os.Exit(2)
	}
}
