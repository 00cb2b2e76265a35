package offline

import (
	"slices"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

func TestNewSeatsLocalPlayerAndRobots(t *testing.T) {
	m := New(Config{Name: "ann", Robots: 3, Seed: 1, Colour: 2})
	s := m.State()
	if s.Scene != view.SceneLobby || s.Game != nil || len(s.Seats) != 4 {
		t.Fatalf("state = %+v", s)
	}
	me, ok := s.LocalSeat()
	if !ok || me.Name != "ann" || me.Colour != 2 || me.Ready || me.Robot || me.ID != s.Local {
		t.Fatalf("local seat = %+v, %v", me, ok)
	}
	colours := map[int]bool{}
	for i, st := range s.Seats {
		if i > 0 && s.Seats[i-1].ID >= st.ID {
			t.Errorf("seats not sorted by ID: %q before %q", s.Seats[i-1].ID, st.ID)
		}
		if colours[st.Colour] {
			t.Errorf("colour %d used twice", st.Colour)
		}
		colours[st.Colour] = true
		if st.Robot != !st.Local || st.Robot && !st.Ready {
			t.Errorf("seat %+v: robots are always ready, the local player is not a robot", st)
		}
	}
	if got := New(Config{Robots: 99}).State().Seats; len(got) != sim.MaxPlayers {
		t.Errorf("99 robots gave %d seats, want %d", len(got), sim.MaxPlayers)
	}
	if me, _ := New(Config{}).State().LocalSeat(); me.Name != "player" || me.Colour != 0 {
		t.Errorf("zero config local seat = %+v", me)
	}
}

func TestClaimSwapsWithRobot(t *testing.T) {
	m := New(Config{Robots: 2, Colour: 5})
	s := m.State()
	var robot view.Seat
	for _, st := range s.Seats {
		if st.Robot {
			robot = st
			break
		}
	}
	m.Claim(robot.Colour)
	s = m.State()
	me, _ := s.LocalSeat()
	r, _ := s.Seat(robot.ID)
	if me.Colour != robot.Colour || r.Colour != 5 {
		t.Errorf("after claiming %d: me %d, robot %d; want a swap", robot.Colour, me.Colour, r.Colour)
	}
	m.Claim(-1)
	m.Claim(sim.NumColours)
	if me2, _ := m.State().LocalSeat(); me2.Colour != me.Colour {
		t.Errorf("out-of-range claim changed colour to %d", me2.Colour)
	}
}

// start readies the local player and runs the lobby and countdown.
func start(t *testing.T, m *Match) {
	t.Helper()
	m.Ready(true)
	if err := m.Update(); err != nil {
		t.Fatal(err)
	}
	s := m.State()
	if s.Scene != view.ScenePlay || s.Game == nil || s.Countdown != m.cfg.Countdown {
		t.Fatalf("after ready: scene %v countdown %d game %v", s.Scene, s.Countdown, s.Game != nil)
	}
	for m.State().Countdown > 0 {
		m.Update()
	}
}

func TestLobbyWaitsForReady(t *testing.T) {
	m := New(Config{Robots: 1})
	for range 100 {
		m.Update()
	}
	if m.State().Scene != view.SceneLobby {
		t.Fatal("left the lobby without the local player ready")
	}
	m.Ready(true)
	m.Ready(false)
	m.Update()
	if m.State().Scene != view.SceneLobby {
		t.Fatal("left the lobby after un-readying")
	}
	start(t, m)
	g := m.State().Game
	for i, p := range g.Players() {
		seat := m.State().Seats[i]
		if p.ID != seat.ID || p.Colour != seat.Colour || p.Robot != seat.Robot {
			t.Errorf("player %d = %+v, seat %+v", i, p, seat)
		}
	}
}

func TestTurnsReachTheLocalBikeOnlyWhileRunning(t *testing.T) {
	m := New(Config{Robots: 1, Seed: 4})
	m.Ready(true)
	m.Update()
	m.Turn(sim.TurnLeft) // during the countdown: ignored
	for m.State().Countdown > 0 {
		m.Update()
	}
	s := m.State()
	me := s.Game.Index(s.Local)
	for s.Game.Ticks() < sim.StepTicks {
		m.Update()
	}
	_, startHeading := sim.StartPosition(me, len(s.Game.Players()))
	if p := s.Game.Players()[me]; !p.Alive || p.Heading != startHeading {
		t.Fatalf("after the first step: %+v; the turn sent during the countdown was applied", p)
	}
	before := s.Game.Players()[me].Heading
	m.Turn(sim.TurnRight)
	for range sim.StepTicks {
		m.Update()
	}
	if after := s.Game.Players()[me].Heading; after != before.Turn(sim.TurnRight) {
		t.Errorf("heading %v after a right turn from %v", after, before)
	}
}

// TestRoundsRunToResultsAndOn plays rounds with a player who never turns:
// every death is reported once, the results wait for ready, and the next
// round keeps the scores.
func TestRoundsRunToResultsAndOn(t *testing.T) {
	m := New(Config{Robots: 3, Seed: 2, Countdown: -1, Linger: 10})
	start(t, m)
	g := m.State().Game
	died := map[int]int{}
	ticks := 0
	for m.State().Scene == view.ScenePlay {
		if err := m.Update(); err != nil {
			t.Fatal(err)
		}
		for _, d := range m.State().Deaths {
			died[d.Player]++
			if g.Players()[d.Player].Alive {
				t.Errorf("death of player %d reported while alive", d.Player)
			}
		}
		if ticks++; ticks > 100000 {
			t.Fatal("round never ended")
		}
	}
	winner, over := g.Result()
	if !over {
		t.Fatal("results before the round is over")
	}
	for i, p := range g.Players() {
		want := 0
		if !p.Alive {
			want = 1
		}
		if died[i] != want {
			t.Errorf("player %d (alive %v): %d deaths reported", i, p.Alive, died[i])
		}
	}
	s := m.State()
	if me, _ := s.LocalSeat(); me.Ready {
		t.Error("local player ready at the start of the results")
	}
	for range 500 {
		m.Update()
	}
	if m.State().Scene != view.SceneResults {
		t.Fatal("results went on without the local player")
	}
	var scores []int
	for _, p := range g.Players() {
		scores = append(scores, p.Score)
	}
	m.Ready(true)
	m.Update()
	s = m.State()
	if s.Scene != view.ScenePlay || s.Game.Round() != 2 || s.Game != g {
		t.Fatalf("after ready: scene %v round %d", s.Scene, s.Game.Round())
	}
	var after []int
	for _, p := range s.Game.Players() {
		after = append(after, p.Score)
	}
	if !slices.Equal(scores, after) || (winner >= 0 && scores[winner] != 1) {
		t.Errorf("scores %v, then %v (winner %d)", scores, after, winner)
	}
}

func TestWatchGoesOnByItself(t *testing.T) {
	m := New(Config{Robots: 3, Seed: 5, Watch: true})
	s := m.State()
	if s.Local != "" || len(s.Seats) != 3 {
		t.Fatalf("watch: local %q, %d seats", s.Local, len(s.Seats))
	}
	if _, ok := s.LocalSeat(); ok {
		t.Fatal("watch mode has a local seat")
	}
	m.Turn(sim.TurnLeft) // nothing to turn: must not panic
	m.Ready(true)
	m.Claim(1)
	for range 200000 {
		m.Update()
		if st := m.State(); st.Game != nil && st.Game.Round() == 3 {
			return
		}
	}
	t.Fatal("a watched match did not reach round 3 by itself")
}

// TestSameSeedSameGame: the offline game is deterministic, so a bug seen
// once can be replayed with -seed.
func TestSameSeedSameGame(t *testing.T) {
	run := func() []uint64 {
		m := New(Config{Robots: 4, Seed: 77, Watch: true, Countdown: -1, Linger: -1})
		var digests []uint64
		scene := m.State().Scene
		for range 20000 {
			m.Update()
			if s := m.State().Scene; s != scene && m.game != nil {
				digests = append(digests, m.game.Digest())
				scene = s
			}
		}
		return append(digests, m.game.Digest())
	}
	if a, b := run(), run(); !slices.Equal(a, b) {
		t.Error("two runs with the same seed differ")
	}
}
