// Command lightcycle is the pumpnet flagship: bikes on a grid that leave a
// trail, for 2-8 players on one LAN, drawn with Ebitengine.
//
//	go run ./examples/lightcycle                  # on the LAN: every player runs this
//	go run ./examples/lightcycle -bots 2          # ... and this host seats two robots
//	go run ./examples/lightcycle -local -bots 3   # offline against three robots
//	go run ./examples/lightcycle -local -watch    # watch robots play
//	go run ./examples/lightcycle -h               # flags
//
// The rules are in package sim, the network game in package game, the
// screen in package ui (drawing) and ui/view (everything about the screen
// that needs no display), the offline game in ui/offline, and the bridge
// from the network game to the screen in ui/lan. F3 shows the network
// overlay (package overlay): RTT, jitter, loss and bandwidth per peer.
//
// # On the LAN
//
// Every instance joins the "lightcycle" session on the LAN (mDNS), so
// players find each other without typing addresses. The lowest identity
// hosts and runs the simulation; everyone picks a colour (a clash goes to
// the first claim) and readies up; when every player is ready the host
// announces the round, and its seats are fixed: players who join during a
// round watch it as spectators and play from the next one. With -lock the
// session itself is closed during rounds (lobby.StopLookingForPeers), so
// late joiners are refused until the round ends instead of watching. A
// player who leaves derezzes; if the host leaves, the next-lowest identity
// carries the round on.
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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/lan"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
	"github.com/pumpnet/pumpnet/examples/overlay"
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
	colour   int
	lock     bool
	iface    string
	pilot    bool
	players  int
	tps      int
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
	fs.IntVar(&o.colour, "colour", 5, "the colour you claim first, 0-7 (red-orange, orange, yellow, light green, cyan, blue, purple, violet); on the LAN the first claim of a colour wins")
	fs.BoolVar(&o.lock, "lock", false, "on the LAN: close the session during rounds (late joiners are refused until the round ends instead of watching)")
	fs.StringVar(&o.iface, "iface", "", "on the LAN: the network interface to find players on (default: every multicast-capable one)")
	fs.BoolVar(&o.pilot, "autopilot", false, "let a robot steer your bike and ready up for you (attract mode, demos, tests)")
	fs.IntVar(&o.players, "players", 1, "with -autopilot: ready up only once this many players (you included) are in the session")
	fs.IntVar(&o.tps, "tps", sim.TPS, "game ticks per second; the game counts ticks, so every player of a session should use the same rate (tests run faster)")
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
	if o.colour < 0 || o.colour >= sim.NumColours {
		return o, fmt.Errorf("-colour %d: want 0..%d", o.colour, sim.NumColours-1)
	}
	if o.players < 1 || o.players > game.MaxPeers {
		return o, fmt.Errorf("-players %d: want 1..%d", o.players, game.MaxPeers)
	}
	if o.tps < 1 || o.tps > 6000 {
		return o, fmt.Errorf("-tps %d: want 1..6000", o.tps)
	}
	if o.local && (o.lock || o.iface != "" || o.pilot) {
		return o, errors.New("-lock, -iface and -autopilot are for LAN play (offline, -watch lets robots play)")
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
	return offline.Config{Name: o.name, Robots: bots, Seed: o.seed, Colour: o.colour, Watch: o.watch}
}

// lanConfig returns the network game's configuration for o: robots only if
// asked for, the seed only if given (otherwise the host picks one per
// round), watchers unless -lock.
func lanConfig(o options) game.Config {
	cfg := game.Config{Name: o.name, Colour: o.colour, Bots: max(o.bots, 0), Watchers: !o.lock, Autopilot: o.pilot}
	// The game counts ticks: at another -tps its waits keep their length
	// in seconds.
	cfg.SyncTicks = max(1, game.DefaultSyncTicks*o.tps/sim.TPS)
	cfg.BeatTicks = max(1, game.DefaultBeatTicks*o.tps/sim.TPS)
	cfg.HostTimeout = max(3*cfg.BeatTicks, game.DefaultHostTimeout*o.tps/sim.TPS)
	if o.seedSet {
		cfg.Seed = o.seed
	}
	return cfg
}

// netOverlay is the network overlay fed with the game's peers each tick
// (none offline, where g is nil). It is a ui.Panel: in play, the screen
// puts it beside the board, never over it.
type netOverlay struct {
	ov    *overlay.Overlay
	g     *game.Game
	peers []overlay.Peer
}

// newOverlay returns the overlay for g, or for an offline game if g is nil
// (F3 then says there is no network rather than doing nothing).
func newOverlay(g *game.Game) *netOverlay {
	o := overlay.Options{}
	if g == nil {
		o.NoPeers = "offline game (-local): no network"
	}
	return &netOverlay{ov: overlay.New(o), g: g}
}

func (n *netOverlay) Update() {
	n.peers = n.peers[:0]
	if n.g != nil {
		for _, p := range n.g.Peers() {
			if p.HasStats {
				n.peers = append(n.peers, overlay.Peer{Name: p.Name, Stats: p.Stats})
			}
		}
	}
	n.ov.Update(n.peers)
}

func (n *netOverlay) Draw(screen *ebiten.Image) { n.ov.Draw(screen) }

func (n *netOverlay) Size(maxW, maxH float64) (float64, float64, bool) { return n.ov.Size(maxW, maxH) }

func (n *netOverlay) DrawIn(screen *ebiten.Image, r view.Rect) { n.ov.DrawIn(screen, r.X, r.Y, r.W, r.H) }

var _ ui.Panel = (*netOverlay)(nil)

// autoReady readies the local player whenever it is not, once at least
// players are in the session (with -autopilot).
type autoReady struct {
	*lan.Match
	players int
}

func (a autoReady) Update() error {
	err := a.Match.Update()
	if g := a.Game(); g.Scene() != game.ScenePlay && !g.Ready() && len(g.Peers())+1 >= a.players {
		a.Ready(true)
	}
	return err
}

// playLAN joins the LAN session and runs the window until the player
// quits; leaving the session on the way out.
func playLAN(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lc := game.LANConfig{Name: o.name}
	if o.iface != "" {
		ifi, err := net.InterfaceByName(o.iface)
		if err != nil {
			return fmt.Errorf("-iface: %w", err)
		}
		lc.Interface = ifi
	}
	tr, err := game.JoinLAN(ctx, lc)
	if err != nil {
		return err
	}
	g, err := game.New(lanConfig(o), tr)
	if err != nil {
		tr.Close()
		return err
	}
	defer g.Close()
	fmt.Printf("lightcycle: on the LAN as %s (%s); looking for players\n", g.Self().Name, short(g.Self().ID))
	var m view.Match = lan.New(g, o.colour, func(s string) { fmt.Println("lightcycle:", s) })
	if o.pilot {
		m = autoReady{m.(*lan.Match), o.players}
	}
	quit := &quitOnSignal{Match: m, ctx: ctx}
	return ui.Run(ui.Config{Match: quit, Mute: o.mute, Frames: o.frames, TPS: o.tps,
		Overlay: newOverlay(g)})
}

// quitOnSignal ends the game (cleanly: the deferred Close tells the peers)
// on an interrupt or SIGTERM.
type quitOnSignal struct {
	view.Match
	ctx context.Context
}

func (q *quitOnSignal) Update() error {
	if q.ctx.Err() != nil {
		return ebiten.Termination
	}
	return q.Match.Update()
}

// short is an identity shortened for display.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
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
	if !o.local {
		if err := playLAN(o); err != nil {
			fmt.Fprintln(os.Stderr, "lightcycle:", err)
			os.Exit(1)
		}
		return
	}
	m := offline.New(offlineConfig(o))
	fmt.Printf("lightcycle: seed %d (replay with -seed %d)\n", o.seed, o.seed)
	if err := ui.Run(ui.Config{Match: m, Mute: o.mute, Frames: o.frames, TPS: o.tps, Overlay: newOverlay(nil)}); err != nil {
		fmt.Fprintln(os.Stderr, "lightcycle:", err)
		os.Exit(1)
	}
}
