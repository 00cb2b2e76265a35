package game

import (
	"errors"
	"slices"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// firstEvent returns the tick of g's first event of kind about peer id, or
// -1.
func (h *harness) firstEvent(g *Game, kind EventKind, id string) int {
	for _, e := range h.events[g] {
		if e.Kind == kind && e.Peer.ID == id {
			return e.Tick
		}
	}
	return -1
}

// TestSilentHostHandedOver: a host that hangs mid-round (a killed process
// whose connections nobody closes: the transport would only notice after
// its idle timeout, 10 s) is noticed by the game's own heartbeat within
// about two seconds; every player says so (EventHostSilent, then
// EventPeerLeft with ErrHostSilent), drops the connection, and the
// next-lowest player carries the round on to the same result everywhere.
func TestSilentHostHandedOver(t *testing.T) {
	h := newHarness(t)
	h.net.latency = 2
	cfg := Config{Bots: 2, Countdown: 5, Seed: 21, Autopilot: true}
	p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
	h.startRound(1, p1, p2, p3)
	h.ticks(60)
	if p1.Scene() != ScenePlay {
		t.Skip("round over too soon; pick another seed")
	}
	frozeAt := p2.Tick()
	h.nodes[p1].freeze()
	h.run(2*sim.TPS+DefaultSyncTicks, "p2 hosts", func() bool { return p2.IsHost() && p3.Host() == "p2" && !p2.round.syncing })
	for _, g := range []*Game{p2, p3} {
		at := h.firstEvent(g, EventHostSilent, "p1")
		if at < 0 {
			t.Fatalf("%s: no host-silent event", g.Self().ID)
		}
		if d := at - frozeAt; d > 2*sim.TPS {
			t.Errorf("%s noticed the silent host %d ticks (%.1f s) after it hung: want within 2 s", g.Self().ID, d, float64(d)/sim.TPS)
		} else {
			t.Logf("%s noticed the silent host %.2f s after it hung", g.Self().ID, float64(d)/sim.TPS)
		}
		left := h.eventsOf(g, EventPeerLeft)
		if len(left) != 1 || left[0].Peer.ID != "p1" || !errors.Is(left[0].Err, ErrHostSilent) {
			t.Errorf("%s: peer-left events %+v, want p1 with ErrHostSilent", g.Self().ID, left)
		}
		if !slices.Contains(h.nodes[g].drops, "p1") {
			t.Errorf("%s did not drop the connection to the silent host (drops %v)", g.Self().ID, h.nodes[g].drops)
		}
	}
	h.run(40000, "round over", h.allIn(SceneResults, 1, p2, p3))
	if res := sameResults(t, p2, p3); res.Abandoned || res.Winner == "p1" {
		t.Fatalf("result %+v", res)
	}
	h.startRound(2, p2, p3)
}

// TestSilentHostDuringCountdown: the host hangs before the round starts
// (everyone was left on a frozen "GO!"): the players hand the round over
// and play it. A long countdown alone, with nothing else to send, does not
// make a live host look silent: its heartbeats keep it.
func TestSilentHostDuringCountdown(t *testing.T) {
	h := newHarness(t)
	h.net.latency = 3
	cfg := Config{Bots: 1, Countdown: 4 * DefaultHostTimeout, Seed: 5, Autopilot: true}
	p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
	h.run(50, "mesh", func() bool { return len(p1.Peers()) == 2 && len(p2.Peers()) == 2 && len(p3.Peers()) == 2 })
	for _, g := range []*Game{p1, p2, p3} {
		g.SetReady(true)
	}
	h.run(500, "announced", h.allIn(ScenePlay, 1))
	h.ticks(3 * DefaultHostTimeout) // most of the countdown: only heartbeats go
	for _, g := range []*Game{p2, p3} {
		if e := h.eventsOf(g, EventHostSilent); len(e) > 0 {
			t.Fatalf("%s took a live host in its countdown for silent: %+v", g.Self().ID, e)
		}
		if q := g.HostQuiet(); q > DefaultBeatTicks+2*h.net.latency {
			t.Fatalf("%s: HostQuiet %d with heartbeats every %d ticks", g.Self().ID, q, DefaultBeatTicks)
		}
	}
	if p2.Countdown() == 0 {
		t.Fatal("the countdown is over already")
	}
	h.nodes[p1].freeze()
	h.run(2*sim.TPS+DefaultSyncTicks, "p2 hosts", func() bool { return p2.IsHost() && p3.Host() == "p2" && !p2.round.syncing })
	h.run(40000, "round over", h.allIn(SceneResults, 1, p2, p3))
	res := sameResults(t, p2, p3)
	if res.Abandoned || res.Steps == 0 {
		t.Fatalf("result %+v: want the round played", res)
	}
}

// TestEarlyReportNotLost: the player that takes over may notice the
// silence after another player already sent it a state report (it heard
// the host a little later); the report is kept for the take-over, so the
// other player follows on without being sent the whole round again.
func TestEarlyReportNotLost(t *testing.T) {
	h := newHarness(t)
	h.net.linkLat["p1>p2"] = 20 // p2 hears the host last, so notices last
	cfg := Config{Bots: 2, Countdown: 5, Seed: 21, Autopilot: true}
	p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
	h.startRound(1, p1, p2, p3)
	h.ticks(60)
	if p1.Scene() != ScenePlay {
		t.Skip("round over too soon")
	}
	h.nodes[p1].freeze()
	h.run(3*sim.TPS, "p2 hosts", func() bool { return p2.IsHost() && p3.Host() == "p2" && !p2.round.syncing })
	h.ticks(10) // anything p2 sent p3 on taking over has arrived
	if a, b := h.firstEvent(p3, EventHostSilent, "p1"), h.firstEvent(p2, EventHostSilent, "p1"); a < 0 || b < 0 || a >= b {
		t.Fatalf("p3 noticed at tick %d, p2 at %d: the test needs p3 first", a, b)
	}
	if n := len(h.eventsOf(p3, EventRoundAnnounced)); n != 1 || p3.round.start.epoch != 0 || p2.Tick()-h.firstEvent(p2, EventHostSilent, "p1") >= DefaultSyncTicks {
		t.Fatalf("p3 got the round %d times (epoch %d), p2 waited %d ticks for reports: p3's early report was lost", n, p3.round.start.epoch,
			p2.Tick()-h.firstEvent(p2, EventHostSilent, "p1")-10)
	}
	h.run(40000, "round over", h.allIn(SceneResults, 1, p2, p3))
	sameResults(t, p2, p3)
}

// TestHeartbeatIsAMessageOfItsOwn: the heartbeat encodes to one byte and
// is sent unreliable, a few times a second.
func TestHeartbeatIsAMessageOfItsOwn(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a", Config{}), h.add("b", Config{})
	h.run(10, "mesh", func() bool { return len(a.Peers()) == 1 && len(b.Peers()) == 1 })
	before := h.net.kinds[kindBeat]
	h.ticks(sim.TPS)
	if n := h.net.kinds[kindBeat] - before; n < 2*(sim.TPS/DefaultBeatTicks-1) || n > 2*(sim.TPS/DefaultBeatTicks+1) {
		t.Errorf("%d heartbeats in a second between two peers, want about %d", n, 2*sim.TPS/DefaultBeatTicks)
	}
	if b := (&beatMsg{}).append(nil); len(b) != 1 {
		t.Errorf("a heartbeat is %d bytes", len(b))
	}
}
