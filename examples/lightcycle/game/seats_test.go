package game

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// colours returns each game's view of every seat's colour, and checks that
// all views agree.
func agreedColours(t *testing.T, gs ...*Game) map[string]int {
	t.Helper()
	var want map[string]int
	for _, g := range gs {
		got := map[string]int{}
		for _, s := range g.Seats() {
			got[s.ID] = s.Colour
		}
		if want == nil {
			want = got
		} else if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s sees colours %v, %s sees %v", g.Self().ID, got, gs[0].Self().ID, want)
		}
	}
	return want
}

// TestColourClaimsFirstWins: three players want colour 3; the host
// resolves the clash in the order the claims reached it (the first keeps
// 3, the later ones get the next free colours), every peer shows the same
// table, a new claim of a taken colour gets the next free one (wrapping
// from 7 to 0), and a claim of a free colour is granted.
func TestColourClaimsFirstWins(t *testing.T) {
	h := newHarness(t)
	p1 := h.add("p1", Config{Colour: 3})
	h.ticks(3)
	p3 := h.add("p3", Config{Colour: 3}) // reaches the host before p2
	h.ticks(3)
	p2 := h.add("p2", Config{Colour: 3})
	h.ticks(5)
	got := agreedColours(t, p1, p2, p3)
	if want := map[string]int{"p1": 3, "p3": 4, "p2": 5}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("colours %v, want %v (first claim wins, later ones get the next free)", got, want)
	}
	if p2.Colour() != 5 || p3.Colour() != 4 {
		t.Fatalf("Colour(): p2 %d, p3 %d", p2.Colour(), p3.Colour())
	}

	p2.ClaimColour(0) // free: granted
	h.ticks(3)
	p3.ClaimColour(0) // taken by p2 now: the next free after 0 is 1
	h.ticks(3)
	got = agreedColours(t, p1, p2, p3)
	if want := map[string]int{"p1": 3, "p2": 0, "p3": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after re-claims: colours %v, want %v", got, want)
	}

	p1.ClaimColour(7)
	h.ticks(3)
	p2.ClaimColour(7) // taken: wraps to 0, which p2 itself held, so 0
	p3.ClaimColour(7) // taken: 0 is p2's (claimed just before), so 1... held by p3: 1
	h.ticks(3)
	got = agreedColours(t, p1, p2, p3)
	if want := map[string]int{"p1": 7, "p2": 0, "p3": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after claims of 7: colours %v, want %v", got, want)
	}
}

// TestSimultaneousClaimsResolvedInArrivalOrder: claims that reach the host
// in the same tick are resolved in the order they arrived (here not the
// order of the IDs), and the result is what sim.AssignColours gives for
// that order.
func TestSimultaneousClaimsResolvedInArrivalOrder(t *testing.T) {
	h := newHarness(t)
	// The fake delivers in send order; the games send in creation order.
	ids, wants := []string{"p1", "p4", "p3", "p2"}, []int{6, 6, 7, 6}
	var gs []*Game
	for i, id := range ids {
		gs = append(gs, h.add(id, Config{Colour: wants[i]}))
	}
	h.ticks(5)
	got := agreedColours(t, gs...)
	want, err := sim.AssignColours(wants) // the host's own claim first
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if got[id] != want[i] {
			t.Fatalf("colours %v, want %v for %v", got, want, ids)
		}
	}
}

// TestReadyLocksAndStartsAtRelativeTick: nothing starts until every human
// is ready; then the host locks every seat, announces the round with
// robots in the empty seats, and each peer starts exactly Countdown ticks
// after the announcement reached it (links of different latency), the
// host's first step following sim.StepTicks later. A newcomer cannot join
// the locked session and joins once the round is over.
func TestReadyLocksAndStartsAtRelativeTick(t *testing.T) {
	h := newHarness(t)
	h.net.linkLat["p1>p3"] = 7
	cfg := Config{Bots: 2, Countdown: 30, Seed: 9, Autopilot: true}
	p1, p2, p3 := h.add("p1", cfg), h.add("p2", cfg), h.add("p3", cfg)
	h.ticks(10)
	p1.SetReady(true)
	p2.SetReady(true)
	h.ticks(30)
	for _, g := range []*Game{p1, p2, p3} {
		if g.Scene() != SceneLobby {
			t.Fatalf("%s in %v with p3 not ready", g.Self().ID, g.Scene())
		}
	}
	if seats := p3.Seats(); len(seats) != 3 || !seats[0].Ready || !seats[1].Ready || seats[2].Ready || !seats[0].Host {
		t.Fatalf("p3's seats: %+v", seats)
	}
	p3.SetReady(true)
	h.run(20, "announced everywhere", h.allIn(ScenePlay, 1))
	for _, g := range []*Game{p1, p2, p3} {
		nd := h.nodes[g]
		if nd.open || !slices.Equal(nd.opens, []bool{false}) {
			t.Fatalf("%s: SetOpen calls %v, want [false]", g.Self().ID, nd.opens)
		}
		ann := h.eventsOf(g, EventRoundAnnounced)
		if len(ann) != 1 || ann[0].Countdown != 30 {
			t.Fatalf("%s: announcements %+v", g.Self().ID, ann)
		}
		players := g.Board().Players()
		var ids []string
		robots := 0
		for _, p := range players {
			ids = append(ids, p.ID)
			if p.Robot {
				robots++
			}
		}
		if want := []string{"bot1", "bot2", "p1", "p2", "p3"}; !slices.Equal(ids, want) || robots != 2 {
			t.Fatalf("%s: players %v (%d robots), want %v with 2 robots", g.Self().ID, ids, robots, want)
		}
	}
	if d3, d1 := h.eventsOf(p3, EventRoundAnnounced)[0].Tick, h.eventsOf(p1, EventRoundAnnounced)[0].Tick; d3-d1 != 7 {
		t.Fatalf("p3 got the announcement %d ticks after the host, want 7 (its link's latency)", d3-d1)
	}
	// A newcomer cannot get in while the seats are locked.
	p4 := h.add("p4", cfg)
	firstStep := 0
	h.run(100, "started everywhere", func() bool {
		if firstStep == 0 && p1.Board().Steps() == 1 {
			firstStep = p1.Tick()
		}
		for _, g := range []*Game{p1, p2, p3} {
			if len(h.eventsOf(g, EventRoundStarted)) == 0 {
				return false
			}
		}
		return true
	})
	for _, g := range []*Game{p1, p2, p3} {
		ann, st := h.eventsOf(g, EventRoundAnnounced)[0], h.eventsOf(g, EventRoundStarted)[0]
		if st.Tick-ann.Tick != 30 {
			t.Fatalf("%s started %d ticks after the announcement, want 30", g.Self().ID, st.Tick-ann.Tick)
		}
	}
	if start := h.eventsOf(p1, EventRoundStarted)[0].Tick; firstStep != start+sim.StepTicks {
		t.Fatalf("host's first step at tick %d, want %d (start %d + %d)", firstStep, start+sim.StepTicks, start, sim.StepTicks)
	}
	if len(p4.Peers()) != 0 {
		t.Fatalf("p4 joined a locked session: peers %v", p4.Peers())
	}
	h.run(20000, "round over", h.allIn(SceneResults, 1, p1, p2, p3))
	h.ticks(5)
	for _, g := range []*Game{p1, p2, p3} {
		if !h.nodes[g].open {
			t.Fatalf("%s still locked after the round", g.Self().ID)
		}
	}
	if len(p4.Peers()) != 3 || p4.Scene() != SceneLobby || len(p4.Seats()) != 4 {
		t.Fatalf("p4 after the round: %d peers, scene %v, seats %+v", len(p4.Peers()), p4.Scene(), p4.Seats())
	}
	sameResults(t, p1, p2, p3)
}
