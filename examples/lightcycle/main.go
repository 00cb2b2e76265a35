// Command lightcycle is the pumpnet flagship: bikes on a grid that leave a
// trail, for 2-8 players on one LAN, drawn with Ebitengine.
//
//	go run ./examples/lightcycle -local -bots 3   # offline against three robots
//	go run ./examples/lightcycle -local -watch    # watch robots play
//	go run ./examples/lightcycle -h               # flags
//
// The rules are in package sim, the screen in package ui (drawing) and
// ui/view (everything about the screen that needs no display), and the
// offline game in ui/offline.
//
// # Headless
//
// This binary links Ebitengine, and Ebitengine's package initialisation
// opens the display before main runs (it panics without one; DESIGN.md
// decision 5). No flag can prevent that, because Go initialises every
// linked package before main. So -headless is served by a separate binary
// that does not import Ebitengine, examples/lightcycle/headless; here the
// flag only says so.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/examples/lightcycle/ui"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// options are the command-line flags.
type options struct {
	local    bool
	bots     int
	name     string
	seed     uint64
	seedSet  bool
	headless bool
	watch    bool
	mute     bool
	frames   int
}

// headlessHint is printed for -headless.
const headlessHint = "headless mode: see examples/lightcycle/headless " +
	"(go run ./examples/lightcycle/headless): this binary links Ebitengine, which needs a display before main runs"

// parseFlags parses args (without the program name). Errors and -h output
// go to out.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("lightcycle", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.local, "local", false, "play offline against robots on this machine (no networking)")
	fs.IntVar(&o.bots, "bots", -1, "number of robots filling seats (default 3 offline, 0 on the LAN)")
	fs.StringVar(&o.name, "name", defaultName(), "your display name")
	fs.Uint64Var(&o.seed, "seed", 0, "seed for the robots and seat order (default: from the clock; printed so a game can be replayed)")
	fs.BoolVar(&o.headless, "headless", false, "no window: served by the separate headless binary (see examples/lightcycle/headless)")
	fs.BoolVar(&o.watch, "watch", false, "with -local: watch robots play, without a bike of your own")
	fs.BoolVar(&o.mute, "mute", false, "no sound")
	fs.IntVar(&o.frames, "frames", 0, "quit after this many frames (demos and tests; 0: run until Esc)")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: go run ./examples/lightcycle [flags]\n\n"+
			"Lightcycle for 2-8 players on one LAN, or offline against robots with -local.\n"+
			"Keys: ←/→ or A/D turn (and pick a colour in the lobby), click or touch the left/right half\n"+
			"of the screen to turn, gamepad d-pad/shoulders/stick; Enter or Space: ready; M: mute;\n"+
			"F11: full screen; F3: network overlay; Esc: quit.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			o.seedSet = true
		}
	})
	if o.bots < -1 || o.bots > 7 {
		return o, fmt.Errorf("-bots %d: want 0..7", o.bots)
	}
	if o.watch && !o.local {
		return o, errors.New("-watch needs -local")
	}
	if l := len(o.name); l < 1 || l > 63 {
		return o, fmt.Errorf("-name must be 1-63 bytes, got %d", l)
	}
	return o, nil
}

// defaultName is the user's login name, or "player".
func defaultName() string {
	if u, err := user.Current(); err == nil && u.Username != "" && len(u.Username) <= 63 {
		return u.Username
	}
	return "player"
}

// offlineConfig returns the offline match's configuration for o.
func offlineConfig(o options) offline.Config {
	bots := o.bots
	if bots < 0 {
		bots = 3
	}
	return offline.Config{Name: o.name, Robots: bots, Seed: o.seed, Colour: 5, Watch: o.watch}
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lightcycle:", err)
		os.Exit(2)
	}
	if o.headless {
		fmt.Fprintln(os.Stderr, headlessHint)
		os.Exit(2)
	}
	if !o.seedSet {
		o.seed = uint64(time.Now().UnixNano())
	}
	var m view.Match
	if !o.local {
		// The network game (package game) is being wired in; until then
		// the binary plays offline rather than failing.
		fmt.Fprintln(os.Stderr, "lightcycle: LAN play is not wired into this binary yet; playing offline against robots (-local)")
	}
	m = offline.New(offlineConfig(o))
	fmt.Printf("lightcycle: seed %d (replay with -seed %d)\n", o.seed, o.seed)
	if err := ui.Run(ui.Config{Match: m, Mute: o.mute, Frames: o.frames}); err != nil {
		fmt.Fprintln(os.Stderr, "lightcycle:", err)
		os.Exit(1)
	}
}
