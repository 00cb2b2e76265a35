// Package game is networked lightcycle: the lobby, the rounds and the
// results of the pumpnet flagship example, over a lobby session (service
// type "lightcycle", at most 8 peers), host-authoritative, with the rules
// of package sim. It has no graphics (no ebiten import): the UI draws what
// it exposes and feeds it input; the headless runner (game/headless) drives
// it with the autopilot.
//
// # Driving a Game
//
// A Game is a state machine pumped one tick at a time: call Update sim.TPS
// (60) times per second, from Ebitengine's Update or engine.RunTicks. Each
// Update takes in what the network delivered, runs the scene and sends what
// is due; it never blocks. Between Updates the caller reads the state and
// gives input:
//
//   - Scene: SceneLobby (claim a colour, ready up), ScenePlay (countdown
//     then the round; Watching if this peer has no seat) or SceneResults
//     (Result: winner or draw, scores; ready up for the next round).
//   - Lobby: Seats (every human: name, colour, ready, score, host, self),
//     Colour, Ready, Bots, Host, IsHost; input ClaimColour, SetReady,
//     SetBots (the host).
//   - Play: Board (a read-only *sim.Game: Players, Trail, Owner, Steps...,
//     with the session's round number and running scores), HostQuiet and
//     HostLate (how long the host has been silent),
//     SelfIndex (the bike to rotate the view for), Countdown, Crashes (for
//     the derez circles); input Turn (left/right; keys, touch, gamepad are
//     the UI's business).
//   - Always: Events (peer joined/left, host changed or silent, round announced,
//     started and over, crash, problem: for sounds and logs), Peers (with
//     the transport's RTT, jitter, loss and bandwidth for an overlay), Name.
//
// Offline play (NewLocal) is the same machine with no transport: this
// instance hosts, robots (Config.Bots) fill the seats.
//
// # Protocol
//
// Every message is one framed transport message (see wire.go for the
// bytes): never stream bytes. The authority is the lowest ID connected
// between rounds, and the round's host during a round (a peer that joins
// mid-round, even with a lower ID, does not take a running round over).
//
// Lobby: every peer sends every other its intent (the colour it wants;
// whether it is ready for round N) when it changes and to each newcomer,
// with a copy of its seat table. The authority keeps the seat table (each
// connected human's colour, readiness, the scores), resolves colour claims
// in the order they reached it with sim.FreeColour (the first claim wins,
// a later one gets the next free colour), and broadcasts the table when it
// changes; the others keep it as a replica. A newcomer adopts the table
// furthest on (a later round, or a round being played) and only acts as
// authority once it has heard every peer's table, so scores and round
// numbers survive a change of authority. When every human is ready, the
// authority announces the round (reliable): round, seed, the players (the
// humans, then Config.Bots robots in the empty seats, each with a free
// colour, and every score) and a countdown in ticks, which every peer
// counts from when the announcement reached it, never from a clock. Every
// peer then locks its seats (Transport.SetOpen(false), i.e.
// lobby.Session.StopLookingForPeers) until the round is over, unless
// Config.Watchers keeps the session open.
//
// Round: every peer builds the same sim.Game from the announcement. The
// host runs sim.Game.Tick once per Update and keeps each step's record
// (the sim.Outcome in its binary form and the digest after the step);
// other players send it their turns (reliable); it applies them with
// sim.Game.Turn. The others apply the records in order with sim.Game.Apply
// and check the digest; they acknowledge the last step they applied
// (sequenced). Every peer keeps the round's history. A peer that joins
// during a round, or whose state does not fit, gets the announcement again
// (a new epoch) and every record from the first: it watches, in step. A
// player who leaves derezzes: every peer calls sim.Game.Remove, and the
// host's next step kills the bike with cause "left", trail cleared.
//
// Host goes silent: every peer sends the others a heartbeat (a one-byte
// message, unreliable) every Config.BeatTicks; a player that hears nothing
// from the round's host for Config.HostTimeout (1.5 s by default, where
// the transport's idle timeout is 10 s) reports EventHostSilent, drops the
// connection (Transport.Drop) and goes on as if the host had left. Each
// player counts the silence itself, so they notice within a heartbeat or
// two of each other; a state report that reaches the successor before it
// noticed is kept for its take-over.
//
// Host leaves: every peer picks the same successor, the lowest ID among
// the round's humans still connected; the others send it a state report
// (their step, digest, announcement, last 64 records). The successor waits
// for the reports (Config.SyncTicks at most), adopts the records it lacks
// from the peer furthest on, so it carries on exactly where the old host
// was (robots draw from sim's per-step generator, so they steer as the old
// host's would have), removes the old host (derezzed, cause "left") and
// runs the round; a peer whose digest disagrees with its history is sent
// the round again. If it cannot reach the furthest peer's step, or only
// watchers are left, the round ends abandoned (Result.Abandoned, no score)
// for everyone: nobody waits for a host that will not come. When the host
// of a finished round leaves, the successor serves its last steps to
// peers still catching up.
//
// # Outcome delivery
//
// Config.Outcomes picks how the host sends records:
//
//   - Reliable: each record once, reliable and ordered (netcode resends
//     what is lost).
//   - Sequenced (the default): each message carries every record the peer
//     has not acknowledged, sent unreliable-sequenced when there is a new
//     step and again every Config.ResendTicks (default every tick) until
//     the peer acknowledges: a lost message is covered by the next one, a
//     tick later, without waiting for the transport to notice the loss.
//     Everything else (announcements, tables, turns, state reports) is
//     reliable; deaths and the round's end ride in the records, so they
//     arrive exactly as the records do.
//
// Measured over real connections on 127.0.0.1 through netcode's link
// conditioner on each follower's endpoint (both directions), 60 TPS, a host,
// 3 followers (autopilot) and 3 robots, 40 s per run (about 1170 steps
// applied), all modes in one run (TestMeasureOutcomeDelivery with
// LIGHTCYCLE_MEASURE=40, a shared 2-core machine). Delay, in ms, runs from
// the host's step to the follower's Update that applies it (so 17 ms is the
// floor); "late" is the share of steps later than one step (100 ms); "out"
// is what the host sends the 3 followers, on the wire; seq/step is
// Sequenced with ResendTicks 6 (a resend per step):
//
//	link, each way           mode       p50  p95  p99  max   late   out kB/s
//	no conditioner           reliable    17   17   18   18     0%    5.6
//	                         sequenced   17   18   18   19     0%   11.0
//	                         seq/step    17   18   18   19     0%    5.9
//	20 ms ±5 ms, 2% loss     reliable    33   34  100  167   1.4%    5.9
//	                         sequenced   33   34   50   66     0%   21.0
//	                         seq/step    33   34  134  234   3.0%    5.6
//	20 ms ±5 ms, 5% loss     reliable    33   84  101  333   3.0%    6.0
//	                         sequenced   33   50   51   84     0%   21.1
//	                         seq/step    33  133  134  334   6.3%    5.5
//	50 ms ±12 ms, 10% loss   reliable    67  350  551  767  24.7%    5.3
//	                         sequenced   67   84  100  117   1.0%   26.5
//	                         seq/step    67  167  267  467  11.6%    6.3
//
// Reliable is as good on a clean LAN but its tail grows with loss (a lost
// step waits for loss detection and resends, later steps wait behind it);
// Sequenced keeps every step within about one round trip plus a tick, for
// 2-5 times the bytes, a few kB/s per follower. Sequenced it is.
//
// # Transport
//
// A Game talks to its peers through a Transport: SessionTransport over a
// lobby session (JoinLAN joins the "lightcycle" session on the LAN), or an
// in-memory one in tests. Peer IDs are the lobby's identities (key
// fingerprints in lower-case hex), which sort as the lobby orders them, so
// the lowest ID is the lobby's host too.
//
// # A complete program
//
// A headless peer on the LAN that plays with the autopilot and two robots
// and prints the results (game/headless does this, with flags):
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/engine"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/game"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
//	)
//
//	func main() {
//		ctx := context.Background()
//		tr, err := game.JoinLAN(ctx, game.LANConfig{Name: "ann"})
//		if err != nil {
//			panic(err)
//		}
//		g, err := game.New(game.Config{Bots: 2, Autopilot: true}, tr)
//		if err != nil {
//			panic(err)
//		}
//		defer g.Close()
//		engine.RunTicks(ctx, sim.TPS, func(uint64) {
//			g.Update()
//			for _, e := range g.Events() {
//				if e.Kind == game.EventRoundOver {
//					fmt.Printf("round %d: winner %q\n", e.Round, e.Result.WinnerName)
//				}
//			}
//			if g.Scene() != game.ScenePlay && !g.Ready() && len(g.Peers()) > 0 {
//				g.SetReady(true)
//			}
//		})
//	}
package game
