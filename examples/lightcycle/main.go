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
// # Without a display
//
// This binary links Ebitengine, whose package initialisation opens the
// display before main runs (and panics without one). Package
// internal/cli's initialisation runs before Ebitengine's and handles -h,
// flag errors, -headless and a missing DISPLAY first: it prints what to do
// and exits (its doc says why it runs first). Play without a window with
// the separate headless binary, examples/lightcycle/headless, which does
// not import Ebitengine; here -headless only says so.
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
	"syscall"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/internal/cli"
	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/lan"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
	"github.com/pumpnet/pumpnet/examples/overlay"
)

// options are the command-line flags (package cli parses them, and
// checks them once before Ebitengine initialises: see its doc).
type options = cli.Options

// parseFlags parses args (without the program name), filling in the name
// when none was given. Errors and -h output go to out.
func parseFlags(args []string, out io.Writer) (options, error) {
	o, err := cli.Parse(args, out)
	if err == nil && o.Name == "" {
		o.Name = defaultName()
	}
	return o, err
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
	bots := o.Bots
	if bots < 0 {
		bots = 3
	}
	return offline.Config{Name: o.Name, Robots: bots, Seed: o.Seed, Colour: o.Colour, Watch: o.Watch}
}

// lanConfig returns the network game's configuration for o: robots only if
// asked for, the seed only if given (otherwise the host picks one per
// round), watchers unless -lock.
func lanConfig(o options) game.Config {
	cfg := game.Config{Name: o.Name, Colour: o.Colour, Bots: max(o.Bots, 0), Watchers: !o.Lock, Autopilot: o.Pilot}
	// The game counts ticks: at another -tps its waits keep their length
	// in seconds.
	cfg.SyncTicks = max(1, game.DefaultSyncTicks*o.TPS/sim.TPS)
	cfg.BeatTicks = max(1, game.DefaultBeatTicks*o.TPS/sim.TPS)
	cfg.HostTimeout = max(3*cfg.BeatTicks, game.DefaultHostTimeout*o.TPS/sim.TPS)
	if o.SeedSet {
		cfg.Seed = o.Seed
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

func (n *netOverlay) DrawIn(screen *ebiten.Image, r view.Rect) {
	n.ov.DrawIn(screen, r.X, r.Y, r.W, r.H)
}

var _ ui.Panel = (*netOverlay)(nil)

// autoReady readies the local player whenever it is not, once at least
// players are in the session (with -autopilot). Embedding *lan.Match, it
// is a view.Robots too.
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
	tr, where, err := joinSession(ctx, o)
	if err != nil {
		return err
	}
	g, err := game.New(lanConfig(o), tr)
	if err != nil {
		tr.Close()
		return err
	}
	defer g.Close()
	fmt.Printf("lightcycle: %s as %s (%s); looking for players\n", where, g.Self().Name, short(g.Self().ID))
	lm := lan.New(g, o.Colour, func(s string) { fmt.Println("lightcycle:", s) })
	if code := tr.Session().Room(); code != "" {
		lm.SetWhere("room " + code)
	}
	var m view.Match = lm
	if o.Pilot {
		m = autoReady{lm, o.Players}
	}
	quit := &quitOnSignal{Match: m, ctx: ctx}
	return ui.Run(ui.Config{Match: quit, Mute: o.Mute, Frames: o.Frames, TPS: o.TPS,
		Overlay: newOverlay(g)})
}

// joinSession joins the LAN session, or with -rendezvous a room over the
// internet; where says which, for the player.
func joinSession(ctx context.Context, o options) (tr *game.SessionTransport, where string, err error) {
	if o.Rendezvous != "" {
		tr, err = game.JoinRoom(ctx, game.RoomConfig{Name: o.Name, Rendezvous: o.Rendezvous, Room: o.Room, Create: o.CreateRoom, Public: o.Public})
		if err != nil {
			return nil, "", err
		}
		return tr, fmt.Sprintf("in room %s at %s (tell the others: -room %s)", tr.Session().Room(), o.Rendezvous, tr.Session().Room()), nil
	}
	lc := game.LANConfig{Name: o.Name}
	if o.Iface != "" {
		ifi, err := net.InterfaceByName(o.Iface)
		if err != nil {
			return nil, "", fmt.Errorf("-iface: %w", err)
		}
		lc.Interface = ifi
	}
	tr, err = game.JoinLAN(ctx, lc)
	if errors.Is(err, game.ErrNoLAN) {
		return nil, "", fmt.Errorf("%w\n  connect to a network, name an interface with -iface NAME (see ip link), or play offline: -local", err)
	}
	if err != nil {
		return nil, "", err
	}
	return tr, "on the LAN", nil
}

// quitOnSignal ends the game (cleanly: the deferred Close tells the peers)
// on an interrupt or SIGTERM.
type quitOnSignal struct {
	view.Match
	ctx context.Context
}

// Robots and SetRobots pass view.Robots through to the match, if it is
// one.
func (q *quitOnSignal) Robots() (int, bool) {
	if r, ok := q.Match.(view.Robots); ok {
		return r.Robots()
	}
	return 0, false
}

func (q *quitOnSignal) SetRobots(n int) {
	if r, ok := q.Match.(view.Robots); ok {
		r.SetRobots(n)
	}
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
	if o.Headless {
		fmt.Fprintln(os.Stderr, cli.HeadlessHint)
		os.Exit(2)
	}
	if !o.SeedSet {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if !o.Local {
		if err := playLAN(o); err != nil {
			fmt.Fprintln(os.Stderr, "lightcycle:", err)
			os.Exit(1)
		}
		return
	}
	m := offline.New(offlineConfig(o))
	fmt.Printf("lightcycle: seed %d (replay with -seed %d)\n", o.Seed, o.Seed)
	if err := ui.Run(ui.Config{Match: m, Mute: o.Mute, Frames: o.Frames, TPS: o.TPS, Overlay: newOverlay(nil)}); err != nil {
		fmt.Fprintln(os.Stderr, "lightcycle:", err)
		os.Exit(1)
	}
}
