package game

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// startRound brings the live games (the first is the host) into a running
// round of the given number and returns when every one of them has applied
// at least one step.
func (h *harness) startRound(round int, gs ...*Game) {
	h.t.Helper()
	h.run(50, "mesh", func() bool {
		for _, g := range gs {
			if len(g.Peers()) < len(gs)-1 {
				return false
			}
		}
		return true
	})
	for _, g := range gs {
		g.SetReady(true)
	}
	h.run(2000, fmt.Sprintf("round %d under way", round), func() bool {
		for _, g := range gs {
			if g.Scene() != ScenePlay || g.Round() != round || g.Board().Steps() < 1 {
				return false
			}
		}
		return true
	})
}

// TestDigestsAgreeEveryStep plays two rounds between three peers (driven by
// the autopilot) and two robots, in both outcome modes, over links that
// lose and reorder Sequenced messages: at every step, every peer's state
// has the same digest as the host's (the harness compares every step each
// peer applied, and its live state every tick), and every peer reports the
// same results and scores.
func TestDigestsAgreeEveryStep(t *testing.T) {
	for _, tc := range []struct {
		mode    Mode
		loss    float64
		latency int
	}{
		{Reliable, 0, 1},
		{Sequenced, 0, 1},
		{Sequenced, 0.3, 4},
	} {
		t.Run(fmt.Sprintf("%v-loss%.0f%%", tc.mode, tc.loss*100), func(t *testing.T) {
			h := newHarness(t)
			h.net.loss, h.net.latency, h.net.jitter = tc.loss, tc.latency, 3
			cfg := Config{Bots: 2, Countdown: 10, Seed: 5, Autopilot: true, Outcomes: tc.mode}
			gs := []*Game{h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)}
			for round := 1; round <= 2; round++ {
				h.startRound(round, gs...)
				h.run(40000, "round over", h.allIn(SceneResults, round))
				res := sameResults(t, gs...)
				if res.Round != round || res.Steps < 2 || len(res.Scores) != 5 {
					t.Fatalf("result %+v", res)
				}
				t.Logf("round %d: winner %q after %d steps, digest %016x", round, res.Winner, res.Steps, res.Digest)
			}
			if h.checked < 1000 {
				t.Fatalf("only %d digests compared", h.checked)
			}
			t.Logf("%d digests compared; messages sent: %v, bytes: %v, by kind %v", h.checked, h.net.sent, h.net.bytes, h.net.kinds)
			total := 0
			for _, s := range gs[0].Result().Scores {
				total += s.Score
			}
			wins := 0
			for _, g := range gs {
				for _, e := range h.eventsOf(g, EventRoundOver) {
					if e.Result.Winner != "" && g == gs[0] {
						wins++
					}
				}
			}
			if total != wins {
				t.Fatalf("scores add up to %d after %d rounds won", total, wins)
			}
		})
	}
}

// TestTurnReachesHost: a follower's turn travels to the host and is applied
// at the host's next step, so every peer sees the bike turn there.
func TestTurnReachesHost(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Countdown: 1, Seed: 3}
	p1, p2 := h.add("p1", cfg), h.add("p2", cfg)
	h.startRound(1, p1, p2)
	i := p2.SelfIndex()
	before := p2.Board().Players()[i]
	step := p1.Board().Steps()
	if !p2.Turn(sim.TurnRight) {
		t.Fatal("Turn refused")
	}
	h.run(20, "the turn shows on p2", func() bool { return p2.Board().Steps() >= step+2 })
	after := p2.Board().Players()[i]
	if want := before.Heading.Turn(sim.TurnRight); after.Heading != want {
		t.Fatalf("p2 heads %v after turning right from %v, want %v", after.Heading, before.Heading, want)
	}
	if hp := p1.Board().Players()[i]; hp.Heading != after.Heading {
		t.Fatalf("host has p2 heading %v, p2 %v", hp.Heading, after.Heading)
	}
}

// TestLeaverDerezzes: a player who leaves mid-round derezzes at the host's
// next step (cause "left", trail cleared) on every peer, and the round
// carries on identically for the others.
func TestLeaverDerezzes(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Bots: 1, Countdown: 5, Seed: 11, Autopilot: true}
	p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
	h.startRound(1, p1, p2, p3)
	h.ticks(60)
	idx := p1.Board().Index("p3")
	if !p1.Board().Players()[idx].Alive {
		t.Skip("p3 died before it could leave; pick another seed")
	}
	h.nodes[p3].Close()
	h.run(30, "p3 derezzed on p1 and p2", func() bool {
		return !p1.Board().Players()[idx].Alive && !p2.Board().Players()[idx].Alive
	})
	for _, g := range []*Game{p1, p2} {
		var c *Crash
		for _, e := range h.eventsOf(g, EventCrash) {
			if e.Crash.ID == "p3" {
				c = &e.Crash
			}
		}
		if c == nil || c.Cause != sim.CauseLeft {
			t.Fatalf("%s: p3's crash %+v, want cause left", g.Self().ID, c)
		}
		if trail := g.Board().Trail(nil, idx); len(trail) != 0 {
			t.Fatalf("%s: p3's trail still has %d cells", g.Self().ID, len(trail))
		}
		for y := range sim.Size {
			for x := range sim.Size {
				if g.Board().Owner(sim.Cell{X: x, Y: y}) == idx {
					t.Fatalf("%s: cell (%d,%d) still p3's", g.Self().ID, x, y)
				}
			}
		}
	}
	h.run(40000, "round over", h.allIn(SceneResults, 1, p1, p2))
	if res := sameResults(t, p1, p2); res.Winner == "p3" {
		t.Fatalf("p3 won after leaving: %+v", res)
	}
}

// TestHostLeavesOthersCarryOn: the host crashes mid-round; its last
// messages reach p3 but not p2, so p3 is steps ahead of p2, the successor.
// p2 adopts p3's records and carries on exactly where the old host left
// off: every step agrees (the harness checks it), the old host derezzes
// with cause "left", and p2 and p3 finish the round with the same result,
// in both outcome modes.
func TestHostLeavesOthersCarryOn(t *testing.T) {
	for _, mode := range []Mode{Reliable, Sequenced} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHarness(t)
			h.net.linkLat["p1>p2"] = 20 // p2 hears the host 20 ticks late
			cfg := Config{Bots: 2, Countdown: 5, Seed: 21, Autopilot: true, Outcomes: mode}
			p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
			h.startRound(1, p1, p2, p3)
			h.ticks(120)
			if p1.Scene() != ScenePlay {
				t.Skip("round over too soon; pick another seed")
			}
			behind := p3.Board().Steps() - p2.Board().Steps()
			h.nodes[p1].leave(errors.New("crashed"), "p2") // in-flight steps to p2 are lost
			h.run(200, "p2 hosts", func() bool { return p2.IsHost() && p3.Host() == "p2" && !p2.round.syncing })
			if behind < 2 || p2.Board().Steps() < p3.Board().Steps()-1 {
				t.Fatalf("p2 was %d steps behind p3 and is at %d, p3 at %d", behind, p2.Board().Steps(), p3.Board().Steps())
			}
			t.Logf("p2 was %d steps behind p3 when the host crashed; took over without a gap", behind)
			h.run(40000, "round over", h.allIn(SceneResults, 1, p2, p3))
			res := sameResults(t, p2, p3)
			if res.Abandoned || res.Winner == "p1" {
				t.Fatalf("result %+v", res)
			}
			idx := p2.Board().Index("p1")
			if p := p2.Board().Players()[idx]; p.Alive {
				t.Fatal("the old host is still alive")
			}
			// The next round runs under p2.
			h.startRound(2, p2, p3)
			if p3.Host() != "p2" || p3.Board().Index("p1") >= 0 {
				t.Fatalf("round 2: host %s, players %v", p3.Host(), p3.Board().Players())
			}
		})
	}
}

// TestHostLeavesRoundAbandoned: when the successor is too far behind the
// others to carry on identically (more steps than a state report holds),
// the round ends cleanly for everyone, marked abandoned with no score, and
// the next round can start.
func TestHostLeavesRoundAbandoned(t *testing.T) {
	h := newHarness(t)
	h.net.linkLat["p1>p2"] = (maxSteps + 10) * sim.StepTicks
	cfg := Config{Bots: 2, Countdown: 5, Seed: 4, Autopilot: true}
	p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
	h.net.latency = 1
	for _, g := range []*Game{p1, p2, p3} {
		g.SetReady(true)
	}
	h.run(3000, "p2 under way", func() bool { return p2.Scene() == ScenePlay && p2.Board().Steps() > 0 })
	if p1.Scene() != ScenePlay || p3.Board().Steps()-p2.Board().Steps() <= maxSteps {
		t.Skipf("p3 at %d, p2 at %d: not far enough apart (round over?)", p3.Board().Steps(), p2.Board().Steps())
	}
	h.nodes[p1].leave(errors.New("crashed"), "p2")
	h.run(3*DefaultSyncTicks, "round ended on p2 and p3", h.allIn(SceneResults, 1, p2, p3))
	for _, g := range []*Game{p2, p3} {
		res := g.Result()
		if !res.Abandoned || res.Winner != "" {
			t.Fatalf("%s: result %+v, want abandoned", g.Self().ID, res)
		}
		for _, s := range res.Scores {
			if s.Score != 0 {
				t.Fatalf("%s: scores %+v after an abandoned round", g.Self().ID, res.Scores)
			}
		}
	}
	h.startRound(2, p2, p3)
}

// TestLateJoinerWatches: with Watchers, a peer that joins during a round
// gets it (the announcement and every step so far), watches it with the
// same state as everyone (the harness compares every step), does not get
// a seat in it, and plays in the next round.
func TestLateJoinerWatches(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Bots: 1, Countdown: 5, Seed: 8, Autopilot: true, Watchers: true}
	p1, p2 := h.add("p1", cfg), h.add("p2", cfg)
	h.startRound(1, p1, p2)
	h.ticks(150)
	if p1.Scene() != ScenePlay {
		t.Skip("round over too soon")
	}
	p0 := h.add("p0", cfg) // lowest ID: must not take over the round
	h.run(100, "p0 watches", func() bool {
		return p0.Watching() && p0.Board().Steps() >= p1.Board().Steps()-1
	})
	if p0.SelfIndex() != -1 || p0.Turn(sim.TurnLeft) {
		t.Fatal("the watcher has a seat")
	}
	if p0.Host() != "p1" || p1.Host() != "p1" {
		t.Fatalf("hosts during the round: p0 thinks %s, p1 thinks %s", p0.Host(), p1.Host())
	}
	h.run(40000, "round over", h.allIn(SceneResults, 1))
	sameResults(t, p0, p1, p2)
	// Between rounds the lowest ID hosts, with the scores so far.
	h.ticks(3)
	for _, g := range []*Game{p0, p1, p2} {
		if g.Host() != "p0" {
			t.Fatalf("%s: host %s after the round, want p0", g.Self().ID, g.Host())
		}
	}
	want := p1.Result()
	h.startRound(2, p0, p1, p2)
	if p0.SelfIndex() < 0 || len(p0.Board().Players()) != 4 {
		t.Fatalf("round 2: p0 seat %d, players %v", p0.SelfIndex(), p0.Board().Players())
	}
	for _, s := range want.Scores {
		if got := p0.scores[s.ID]; got != s.Score {
			t.Fatalf("p0 hosts round 2 with %s's score %d, want %d", s.ID, got, s.Score)
		}
	}
}

// TestLockedSessionNewcomerWaits: without Watchers, a newcomer cannot get
// in during a round; it joins the lobby once the round is over.
func TestLockedSessionNewcomerWaits(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Countdown: 5, Seed: 8, Autopilot: true}
	p1, p2 := h.add("p1", cfg), h.add("p2", cfg)
	h.startRound(1, p1, p2)
	p3 := h.add("p3", cfg)
	h.ticks(30)
	if len(p3.Peers()) != 0 && p1.Scene() == ScenePlay {
		t.Fatal("newcomer got into a locked session")
	}
	h.run(40000, "round over", h.allIn(SceneResults, 1, p1, p2))
	h.ticks(5)
	if len(p3.Peers()) != 2 || len(p1.Seats()) != 3 {
		t.Fatalf("after the round: p3 has %d peers, p1 %d seats", len(p3.Peers()), len(p1.Seats()))
	}
	h.startRound(2, p1, p2, p3)
}

// TestLocalPlaysAgainstRobots: offline, the local player and the robots
// play rounds with ready-up in between, and scores add up.
func TestLocalPlaysAgainstRobots(t *testing.T) {
	g, err := NewLocal(Config{Name: "ann", Bots: 3, Countdown: 10, Seed: 2, Autopilot: true})
	if err != nil {
		t.Fatal(err)
	}
	wins := 0
	for round := 1; round <= 3; round++ {
		g.SetReady(true)
		for i := 0; g.Scene() != SceneResults || g.Round() != round; i++ {
			if i > 100000 {
				t.Fatalf("round %d not over", round)
			}
			g.Update()
		}
		res := g.Result()
		if res.Round != round || len(res.Scores) != 4 || !g.IsHost() {
			t.Fatalf("result %+v", res)
		}
		if res.Winner != "" {
			wins++
		}
		total := 0
		for _, s := range res.Scores {
			total += s.Score
		}
		if total != wins {
			t.Fatalf("round %d: scores %+v add up to %d, %d rounds won", round, res.Scores, total, wins)
		}
		if g.Seats()[0].Name != "ann" || g.Seats()[0].Ready {
			t.Fatalf("seats after round %d: %+v", round, g.Seats())
		}
	}
	var kinds []EventKind
	for _, e := range g.Events() {
		if !slices.Contains(kinds, e.Kind) {
			kinds = append(kinds, e.Kind)
		}
	}
	for _, k := range []EventKind{EventRoundAnnounced, EventRoundStarted, EventCrash, EventRoundOver} {
		if !slices.Contains(kinds, k) {
			t.Fatalf("no %v event in %v", k, kinds)
		}
	}
}

// TestHostOfFinishedRoundLeavesLaggardFinishes: the host ends the round
// and leaves at once, before a peer far behind it got the last steps; the
// next-lowest player, done with the round too, serves them, and the
// laggard finishes the round with the same result.
func TestHostOfFinishedRoundLeavesLaggardFinishes(t *testing.T) {
	for _, mode := range []Mode{Reliable, Sequenced} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHarness(t)
			h.net.linkLat["p1>p3"] = 40
			cfg := Config{Bots: 1, Countdown: 5, Seed: 6, Autopilot: true, Outcomes: mode}
			p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
			h.startRound(1, p1, p2, p3)
			h.run(40000, "p1 and p2 done", h.allIn(SceneResults, 1, p1, p2))
			if p3.Scene() != ScenePlay {
				t.Fatal("p3 is not behind")
			}
			h.nodes[p1].leave(errors.New("crashed"), "p3")
			h.run(300, "p3 done", h.allIn(SceneResults, 1, p3))
			if res := sameResults(t, p1, p2, p3); res.Abandoned {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

// TestOnlyWatchersLeftEndsRound: when the last player of a round leaves
// and only watchers remain, they end the round (abandoned) instead of
// waiting for a host that will not come.
func TestOnlyWatchersLeftEndsRound(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Bots: 2, Countdown: 5, Seed: 8, Autopilot: true, Watchers: true}
	p1 := h.add("p1", cfg)
	h.startRound(1, p1)
	h.ticks(30)
	w := h.add("w", cfg)
	h.run(100, "w watches", func() bool { return w.Watching() && w.Board().Steps() > 0 })
	if p1.Scene() != ScenePlay {
		t.Skip("round over too soon")
	}
	h.nodes[p1].leave(errors.New("crashed"))
	h.run(10, "w's round over", h.allIn(SceneResults, 1, w))
	if res := w.Result(); !res.Abandoned {
		t.Fatalf("result %+v", res)
	}
}

// TestReconnectedPeerGetsRoundAgain: when a peer's new connection is
// reported before its old one's end, the host treats it as a newcomer:
// it sends the round again, and the peer stays in step.
func TestReconnectedPeerGetsRoundAgain(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Bots: 1, Countdown: 5, Seed: 8, Autopilot: true}
	p1, p2 := h.add("p1", cfg), h.add("p2", cfg)
	h.startRound(1, p1, p2)
	h.ticks(60)
	if p1.Scene() != ScenePlay {
		t.Skip("round over too soon")
	}
	h.nodes[p1].push(fakeMsg{due: h.net.clock, in: Incoming{Kind: PeerJoined, From: h.nodes[p2].self}})
	h.run(100, "p2 rebuilt and caught up", func() bool {
		return len(h.eventsOf(p2, EventRoundAnnounced)) == 2 && p2.Board().Steps() >= p1.Board().Steps()-1
	})
	if len(p1.Peers()) != 1 || len(h.eventsOf(p1, EventPeerJoined)) != 1 {
		t.Fatalf("p1 has %d peers, %d joins", len(p1.Peers()), len(h.eventsOf(p1, EventPeerJoined)))
	}
	h.run(40000, "round over", h.allIn(SceneResults, 1))
	sameResults(t, p1, p2)
}
