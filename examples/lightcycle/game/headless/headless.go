// Package headless runs lightcycle without a window: for servers, soak runs
// and the multi-host tests. It does not import ebiten. Its player is the
// game's autopilot (robot-like, sending turns as a human does), robots fill
// the empty seats, and it prints one line per round result, the same on
// every instance of the session, so runs can be compared:
//
//	round 1 winner ann steps 412 digest 0123456789abcdef scores ann=1,bob=0,robot_1=0
//	round 2 draw steps 97 digest … scores …
//	round 3 abandoned steps 55 digest … scores …
//
// Players are named as they chose with -name (spaces become "_"); a name
// two players of the round share gets "#" and the first 6 hex digits of
// the player's ID. Other lines say what happened: "self <id> <name>",
// "joined <id> <name>", "left <id> <reason>", "silent <id>" (the round's
// host went quiet and is dropped), "host <id>", "robots <n> seated by
// <name>" (robots are the host's: its -bots), "announced <round> players
// <n> countdown <ticks>", "started <round>", "problem <text>", "bye".
//
// Run is the headless command (examples/lightcycle/headless).
package headless

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/flagval"
	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/netcode"
)

// Usage describes the flags Run takes.
const Usage = `usage: go run ./examples/lightcycle/headless [flags]

Plays lightcycle without a window: this instance's bike is steered by the
autopilot, robots fill empty seats, and each round's result is printed as one
line ("round N winner NAME|draw|abandoned steps S digest D scores NAME=N,...").
It joins the lightcycle session on the LAN (every instance there, windowed or
not, finds the others); -local plays offline instead, and -rendezvous with
-create-room or -room CODE plays over the internet in a rendezvous room. Robots are seated by the
host (the lowest identity), with its own -bots: when another player hosts,
its robots play.

  go run ./examples/lightcycle/headless -local -bots 3 -rounds 5   # offline
  go run ./examples/lightcycle/headless -bots 2 -name ann          # on the LAN
  go run ./examples/lightcycle/headless -rendezvous rdv.example.org:7777 -create-room   # over the internet: prints "room CODE"
  go run ./examples/lightcycle/headless -rendezvous rdv.example.org:7777 -room CODE     # join that room
  go run ./examples/lightcycle/headless -local -bots 7 -rounds 100 -tps 6000   # a fast soak run

flags:
`

// options are Run's command line.
type options struct {
	bots, rounds, players, colour, tps, countdown int
	name, iface, outcomes                         string
	rendezvous, room                              string
	local, watchers, createRoom, public           bool
	seed                                          uint64
	timeout, linger                               time.Duration
	lag, jitter                                   flagval.Duration
	loss                                          flagval.Percent
}

func parse(args []string, out io.Writer) (*options, error) {
	var o options
	fs := flag.NewFlagSet("headless", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, Usage)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.bots, "bots", 0, "robots that fill empty seats when this instance hosts (0..7; the host's count is the one that plays)")
	fs.StringVar(&o.name, "name", "headless", "display name")
	fs.IntVar(&o.rounds, "rounds", 0, "rounds to play before exiting (0: until interrupted)")
	fs.StringVar(&o.iface, "iface", "", "network interface to find peers on (default: every multicast-capable one)")
	fs.IntVar(&o.players, "players", 1, "players (this one included) to wait for before the first round")
	fs.BoolVar(&o.local, "local", false, "play offline against the robots")
	fs.StringVar(&o.rendezvous, "rendezvous", "", "play over the internet: the rendezvous server's `address` (host:port for HTTPS, or an http:// or https:// URL); with -room or -create-room")
	fs.StringVar(&o.room, "room", "", "with -rendezvous: the `code` of the room to join")
	fs.BoolVar(&o.createRoom, "create-room", false, "with -rendezvous: create a room and print its code (\"room CODE\") for the others to join")
	fs.BoolVar(&o.public, "public", false, "with -create-room: list the room in the rendezvous's public list of lightcycle rooms")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the rounds this instance hosts (0: random)")
	fs.IntVar(&o.colour, "colour", -1, "colour to claim, 0..7 (-1: any)")
	fs.IntVar(&o.tps, "tps", sim.TPS, "ticks per second: the game counts ticks, so a higher rate plays faster (soak runs; every instance of a session should use the same)")
	fs.IntVar(&o.countdown, "countdown", game.DefaultCountdown, "ticks from a round's announcement to its start")
	fs.StringVar(&o.outcomes, "outcomes", game.DefaultOutcomes.String(), "how a host sends outcomes: reliable or sequenced")
	fs.BoolVar(&o.watchers, "watchers", true, "keep the session open during rounds so newcomers can watch (as the windowed game does; -watchers=false locks the session during rounds, like lightcycle -lock)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "silence after which a peer counts as gone")
	fs.DurationVar(&o.linger, "linger", 2*time.Second, "after the last round, how long a host waits for the others to catch up")
	fs.Var(&o.lag, "lag", "link conditioner: one-way `delay` added to every datagram (e.g. 50ms)")
	fs.Var(&o.jitter, "jitter", "link conditioner: jitter of the delay (e.g. 10ms)")
	fs.Var(&o.loss, "loss", "link conditioner: `percentage` of datagrams lost each way, e.g. 5% (as lagtime)")
	// "-headless", as lightcycle's own flag was once spelled, is accepted
	// and means nothing here: this program never opens a window.
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return a == "-headless" || a == "--headless" || a == "-headless=true"
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.tps <= 0 || o.tps > 10000:
		return nil, fmt.Errorf("-tps %d outside 1..10000", o.tps)
	case o.rounds < 0:
		return nil, fmt.Errorf("-rounds %d", o.rounds)
	case o.outcomes != game.Reliable.String() && o.outcomes != game.Sequenced.String():
		return nil, fmt.Errorf("-outcomes %q: want reliable or sequenced", o.outcomes)
	case o.timeout <= 0:
		return nil, fmt.Errorf("-timeout %v", o.timeout)
	case (o.room != "" || o.createRoom) && o.rendezvous == "":
		return nil, errors.New("-room and -create-room need -rendezvous ADDRESS")
	case o.rendezvous != "" && (o.room == "") == !o.createRoom:
		return nil, errors.New("-rendezvous needs one of -room CODE (join a room) or -create-room (make one)")
	case o.public && !o.createRoom:
		return nil, errors.New("-public goes with -create-room")
	case o.rendezvous != "" && (o.local || o.iface != ""):
		return nil, errors.New("-rendezvous plays over the internet: not with -local or -iface")
	case o.rendezvous != "" && (o.lag > 0 || o.jitter > 0 || o.loss > 0):
		return nil, errors.New("-lag, -jitter and -loss condition LAN links; over the internet (-rendezvous) the network is real")
	}
	return &o, nil
}

// Run plays headless lightcycle with the flags in args (see Usage; -h
// prints it to stdout) and prints what happens to stdout. It blocks until
// the rounds asked for are over, or ctx ends (then it leaves the session
// cleanly and returns nil). It returns flag.ErrHelp after -h.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parse(args, stdout)
	if err != nil {
		return err
	}
	cfg := game.Config{Name: o.name, Colour: o.colour, Bots: o.bots, Seed: o.seed, Countdown: o.countdown,
		Autopilot: true, Watchers: o.watchers, Outcomes: game.Sequenced}
	if o.countdown == 0 {
		cfg.Countdown = -1
	}
	if o.outcomes == game.Reliable.String() {
		cfg.Outcomes = game.Reliable
	}
	// The game counts ticks; at another speed, its waits (in ticks) keep
	// their length in seconds.
	cfg.SyncTicks = max(1, game.DefaultSyncTicks*o.tps/sim.TPS)
	cfg.ResendTicks = max(1, o.tps/sim.TPS)
	cfg.BeatTicks = max(1, game.DefaultBeatTicks*o.tps/sim.TPS)
	cfg.HostTimeout = max(3*cfg.BeatTicks, game.DefaultHostTimeout*o.tps/sim.TPS)
	var g *game.Game
	if o.local {
		g, err = game.NewLocal(cfg)
	} else {
		g, err = join(ctx, o, cfg)
	}
	if err != nil {
		return err
	}
	defer g.Close()
	self := g.Self()
	fmt.Fprintf(stdout, "self %s %s\n", self.ID, self.Name)
	if o.room != "" {
		fmt.Fprintf(stdout, "room %s\n", o.room)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done, lingerUntil, bots := 0, 0, g.Bots()
	err = engine.RunTicks(runCtx, o.tps, func(uint64) {
		g.Update()
		if b := g.Bots(); b != bots {
			bots = b
			fmt.Fprintf(stdout, "robots %d seated by %s\n", b, label(g.Name(g.Host())))
		}
		for _, e := range g.Events() {
			report(stdout, g, e)
			if e.Kind == game.EventRoundOver {
				done++
				if o.rounds > 0 && done >= o.rounds {
					lingerUntil = g.Tick() + int(o.linger.Seconds()*float64(o.tps))
				}
			}
		}
		switch {
		case lingerUntil > 0:
			if g.Settled() || g.Tick() >= lingerUntil {
				stop()
			}
		case g.Scene() != game.ScenePlay && !g.Ready() && (done > 0 || 1+len(g.Peers()) >= o.players):
			g.SetReady(true)
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	fmt.Fprintln(stdout, "bye")
	return nil
}

func join(ctx context.Context, o *options, cfg game.Config) (*game.Game, error) {
	var ifc *net.Interface
	if o.iface != "" {
		var err error
		if ifc, err = net.InterfaceByName(o.iface); err != nil {
			return nil, fmt.Errorf("-iface: %w", err)
		}
	}
	nc := netcode.Config{IdleTimeout: o.timeout}
	if o.timeout <= time.Second {
		nc.KeepAlive = o.timeout / 3
	}
	if o.lag > 0 || o.jitter > 0 || o.loss > 0 {
		dir := netcode.LinkDirection{Latency: time.Duration(o.lag), Jitter: time.Duration(o.jitter), Loss: o.loss.Fraction()}
		nc.Link = &netcode.LinkConditions{Send: dir, Receive: dir}
	}
	var tr *game.SessionTransport
	var err error
	if o.rendezvous != "" {
		tr, err = game.JoinRoom(ctx, game.RoomConfig{Name: o.name, Rendezvous: o.rendezvous, Room: o.room, Create: o.createRoom, Public: o.public})
		if err == nil {
			o.room = tr.Session().Room() // the code made by -create-room, printed by Run
		}
	} else {
		tr, err = game.JoinLAN(ctx, game.LANConfig{Name: o.name, Interface: ifc, Net: nc})
	}
	if errors.Is(err, game.ErrNoLAN) {
		return nil, fmt.Errorf("%w\n  connect to a network, name an interface with -iface NAME (see ip link), or play offline: -local", err)
	}
	if err != nil {
		return nil, err
	}
	g, err := game.New(cfg, tr)
	if err != nil {
		tr.Close()
		return nil, err
	}
	return g, nil
}

// report prints one event.
func report(w io.Writer, g *game.Game, e game.Event) {
	switch e.Kind {
	case game.EventPeerJoined:
		fmt.Fprintf(w, "joined %s %s\n", e.Peer.ID, g.Name(e.Peer.ID))
	case game.EventPeerLeft:
		fmt.Fprintf(w, "left %s %v\n", e.Peer.ID, e.Err)
	case game.EventHostChanged:
		fmt.Fprintf(w, "host %s\n", e.Peer.ID)
	case game.EventRoundAnnounced:
		fmt.Fprintf(w, "announced %d players %d countdown %d\n", e.Round, len(g.Board().Players()), e.Countdown)
	case game.EventRoundStarted:
		fmt.Fprintf(w, "started %d\n", e.Round)
	case game.EventRoundOver:
		fmt.Fprintln(w, ResultLine(e.Result))
	case game.EventProblem:
		fmt.Fprintf(w, "problem %v\n", e.Err)
	case game.EventHostSilent:
		fmt.Fprintf(w, "silent %s\n", e.Peer.ID)
	}
}

// ResultLine formats a round's result as Run prints it: "round N", then
// "winner NAME", "draw" or "abandoned", the steps, the final digest, and
// the scores of the round's players in ID order, as NAME=N. Names are the
// players' own (Result.Scores), with spaces as "_"; a name two players
// share gets "#" and the first 6 hex digits of the ID.
func ResultLine(r game.Result) string {
	count := map[string]int{}
	for _, s := range r.Scores {
		count[label(s.Name)]++
	}
	name := func(id, n string) string {
		l := label(n)
		if count[l] > 1 || l == "" {
			l += "#" + id[:min(6, len(id))]
		}
		return l
	}
	var b strings.Builder
	fmt.Fprintf(&b, "round %d ", r.Round)
	switch {
	case r.Abandoned:
		b.WriteString("abandoned")
	case r.Draw():
		b.WriteString("draw")
	default:
		fmt.Fprintf(&b, "winner %s", name(r.Winner, r.WinnerName))
	}
	fmt.Fprintf(&b, " steps %d digest %016x scores ", r.Steps, r.Digest)
	for i, s := range r.Scores {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%d", name(s.ID, s.Name), s.Score)
	}
	return b.String()
}

// label is a name as one field of a line: spaces (and '=' and ',', which
// separate the scores) become "_".
func label(name string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '=' || r == ',' {
			return '_'
		}
		return r
	}, name)
}
