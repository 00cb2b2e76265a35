// Package cli is the lightcycle command's command line: its flags, its
// usage, and a check that runs while the program initialises, before
// Ebitengine opens the display.
//
// # Why an init function
//
// Ebitengine opens the display in its package initialisation
// (internal/ui's init calls glfw.Init), before main runs, and panics with
// a goroutine trace when there is none ("glfw: X11: The DISPLAY
// environment variable is missing", ebiten#1858). So flags parsed in main
// come too late for `lightcycle -h` on a machine without a display. This
// package's init does it instead: it parses the command line and, for -h,
// a bad flag, -headless or a missing DISPLAY (Linux and BSDs), prints
// what to do and exits before Ebitengine's init runs; otherwise it only
// hushes the X client library's "Could not get authority info" lines
// (harmless under a bare X server such as Xvfb) and main parses the flags
// again.
//
// That this init runs first is not luck but the order the Go
// specification gives (since Go 1.21): of the packages whose imports are
// all initialised, the one first by import path goes next. This package
// imports only the standard library and github.com/jezek/xgb, all of
// which Ebitengine's internal/ui needs too, while internal/ui also waits on
// text/template (through its shaders), whose path sorts after
// github.com/pumpnet/...: so this package is ready, and first in line,
// before internal/ui is. A change in Ebitengine's imports could undo
// that; TestHelpWithoutDisplay in package main builds the command and runs
// `lightcycle -h` without a display to catch it. In a test binary
// (testing.Testing) the init does nothing.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/jezek/xgb"
)

// Bounds and defaults shared with packages sim and game (this package
// must not import them: see the package doc). cli_test checks they agree.
const (
	numColours = 8  // sim.NumColours
	maxPeers   = 8  // game.MaxPeers
	defaultTPS = 60 // sim.TPS
)

// Options are the command-line flags.
type Options struct {
	Local    bool
	Bots     int // -1: not given (3 robots offline, none on the LAN)
	Name     string
	Seed     uint64
	SeedSet  bool
	Headless bool
	Watch    bool
	Mute     bool
	Frames   int
	Colour   int
	Lock     bool
	Iface    string
	Pilot    bool
	Players  int
	TPS      int
	// Rendezvous, Room, CreateRoom and Public: play over the internet in
	// a rendezvous room instead of on the LAN.
	Rendezvous string
	Room       string
	CreateRoom bool
	Public     bool
}

// HeadlessHint is printed for -headless.
const HeadlessHint = "lightcycle: -headless is a program of its own: go run ./examples/lightcycle/headless -h\n" +
	"(this one links Ebitengine, which needs a display before main runs)"

// NoDisplay is printed when there is no display to open.
const NoDisplay = "lightcycle: no display (DISPLAY is not set): this is a windowed game.\n" +
	"  Run it in a desktop session, or under a virtual X server: xvfb-run -a go run ./examples/lightcycle\n" +
	"  Without a window: go run ./examples/lightcycle/headless -h (plays with the autopilot, prints results)"

// botsValue is -bots: unset (-1) unless given, and without a misleading
// "(default -1)" in the usage.
type botsValue struct{ n *int }

func (b botsValue) String() string {
	if b.n == nil || *b.n < 0 {
		return ""
	}
	return strconv.Itoa(*b.n)
}

func (b botsValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want a number of robots, 0..7")
	}
	*b.n = n
	return nil
}

// Parse parses args (without the program name). Usage (for -h) and flag
// errors are written to out; -h returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (Options, error) {
	o := Options{Bots: -1}
	fs := flag.NewFlagSet("lightcycle", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.Local, "local", false, "play offline against robots on this machine (no networking)")
	fs.Var(botsValue{&o.Bots}, "bots", "number of robots filling seats, 0..7 (default: 3 offline; none on the LAN)")
	fs.StringVar(&o.Name, "name", "", "your display name (default: your login name)")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed for the robots and seat order (default: from the clock; printed so a game can be replayed)")
	fs.BoolVar(&o.Headless, "headless", false, "no window: a program of its own, go run ./examples/lightcycle/headless (this flag only says so)")
	fs.BoolVar(&o.Watch, "watch", false, "with -local: watch robots play, without a bike of your own")
	fs.BoolVar(&o.Mute, "mute", false, "no sound")
	fs.IntVar(&o.Frames, "frames", 0, "quit after this many frames (demos and tests; 0: run until Esc)")
	fs.IntVar(&o.Colour, "colour", 5, "the colour you claim first, 0-7 (red-orange, orange, yellow, light green, cyan, blue, purple, violet); on the LAN the first claim of a colour wins")
	fs.BoolVar(&o.Lock, "lock", false, "on the LAN: close the session during rounds (late joiners are refused until the round ends instead of watching)")
	fs.StringVar(&o.Iface, "iface", "", "on the LAN: the network interface to find players on (default: every multicast-capable one)")
	fs.BoolVar(&o.Pilot, "autopilot", false, "let a robot steer your bike and ready up for you (attract mode, demos, tests)")
	fs.IntVar(&o.Players, "players", 1, "with -autopilot: ready up only once this many players (you included) are in the session")
	fs.StringVar(&o.Rendezvous, "rendezvous", "", "play over the internet: the rendezvous server's `address` (host:port for HTTPS, or an http:// or https:// URL); with -room or -create-room")
	fs.StringVar(&o.Room, "room", "", "with -rendezvous: the `code` of the room to join")
	fs.BoolVar(&o.CreateRoom, "create-room", false, "with -rendezvous: create a room; its code is shown for the others to join")
	fs.BoolVar(&o.Public, "public", false, "with -create-room: list the room in the rendezvous's public list of lightcycle rooms")
	fs.IntVar(&o.TPS, "tps", defaultTPS, "game ticks per second; the game counts ticks, so every player of a session should use the same rate (tests run faster)")
	fs.Usage = func() {
		fmt.Fprint(out, Usage)
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
			o.SeedSet = true
		}
	})
	if o.Bots < -1 || o.Bots > 7 {
		return o, fmt.Errorf("-bots %d: want 0..7", o.Bots)
	}
	if o.Watch && !o.Local {
		return o, errors.New("-watch needs -local")
	}
	if o.Colour < 0 || o.Colour >= numColours {
		return o, fmt.Errorf("-colour %d: want 0..%d", o.Colour, numColours-1)
	}
	if o.Players < 1 || o.Players > maxPeers {
		return o, fmt.Errorf("-players %d: want 1..%d", o.Players, maxPeers)
	}
	if o.TPS < 1 || o.TPS > 6000 {
		return o, fmt.Errorf("-tps %d: want 1..6000", o.TPS)
	}
	if o.Local && (o.Lock || o.Iface != "" || o.Pilot) {
		return o, errors.New("-lock, -iface and -autopilot are for LAN play (offline, -watch lets robots play)")
	}
	if (o.Room != "" || o.CreateRoom) && o.Rendezvous == "" {
		return o, errors.New("-room and -create-room need -rendezvous ADDRESS")
	}
	if o.Rendezvous != "" && (o.Room == "") == !o.CreateRoom {
		return o, errors.New("-rendezvous needs one of -room CODE (join a room) or -create-room (make one)")
	}
	if o.Public && !o.CreateRoom {
		return o, errors.New("-public goes with -create-room")
	}
	if o.Rendezvous != "" && (o.Local || o.Iface != "") {
		return o, errors.New("-rendezvous plays over the internet: not with -local or -iface")
	}
	if l := len(o.Name); l > 63 {
		return o, fmt.Errorf("-name must be at most 63 bytes, got %d", l)
	}
	return o, nil
}

// Usage is the text before the flags in -h.
const Usage = `Usage: go run ./examples/lightcycle [flags]

Lightcycle for 2-8 players on one LAN: run it on each machine, the instances
find each other. Alone on the LAN you play a round by yourself: add robots
with -bots 3, or play offline with -local. Across the internet, one player
creates a room on a rendezvous server (-create-room) and the others join it
with its code (-room CODE).

  go run ./examples/lightcycle                  # on the LAN
  go run ./examples/lightcycle -bots 3          # on the LAN, robots in the empty seats
  go run ./examples/lightcycle -local           # offline against 3 robots
  go run ./examples/lightcycle -rendezvous rdv.example.org:7777 -create-room   # over the internet: shows a room code
  go run ./examples/lightcycle -rendezvous rdv.example.org:7777 -room CODE     # join that room
  go run ./examples/lightcycle/headless -h      # no window (servers, tests, soak runs)

It needs a display; without one, use the headless program above (or
xvfb-run -a for a virtual one).

Keys: ←/→ or A/D turn (and pick a colour in the lobby), click or touch the left/right half
of the screen to turn, gamepad d-pad/shoulders/stick; Enter or Space: ready; M: mute;
F11: full screen; F3: network overlay; Esc: quit.

Flags:
`

// Early is what init does, for args (without the program name): it
// returns the exit status and true if the program must stop now (after
// -h, a flag error, -headless, or with no display), having written what
// to do to stdout or stderr. getenv reads the environment; goos is
// runtime.GOOS.
func Early(args []string, stdout, stderr io.Writer, getenv func(string) string, goos string) (status int, stop bool) {
	o, err := Parse(args, io.Discard)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = Parse([]string{"-h"}, stdout)
		return 0, true
	case err != nil:
		fmt.Fprintf(stderr, "lightcycle: %v\n(lightcycle -h lists the flags)\n", err)
		return 2, true
	case o.Headless:
		fmt.Fprintln(stderr, HeadlessHint)
		return 2, true
	case needsDISPLAY(goos) && getenv("DISPLAY") == "":
		fmt.Fprintln(stderr, NoDisplay)
		return 1, true
	}
	return 0, false
}

// needsDISPLAY reports whether Ebitengine opens an X display on goos
// (GLFW on X11: Linux and the BSDs; Wayland sessions provide DISPLAY
// through XWayland).
func needsDISPLAY(goos string) bool {
	switch goos {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly":
		return true
	}
	return false
}

// authorityFilter drops the X client library's two lines about a missing
// ~/.Xauthority (it then connects without, which is what a bare X server
// such as Xvfb expects) and passes on everything else it logs.
type authorityFilter struct{ w io.Writer }

func (f authorityFilter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "authority info") {
		return len(p), nil
	}
	return f.w.Write(p)
}

func init() {
	if testing.Testing() {
		return
	}
	if status, stop := Early(os.Args[1:], os.Stdout, os.Stderr, os.Getenv, runtime.GOOS); stop {
		os.Exit(status)
	}
	xgb.Logger = log.New(authorityFilter{os.Stderr}, "XGB: ", log.Lshortfile)
}
