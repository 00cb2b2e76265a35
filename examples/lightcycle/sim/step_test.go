package sim

import (
	"errors"
	"testing"
)

func TestStepEverySixTicks(t *testing.T) {
	g := board(t, bike{at: Cell{50, 50}, h: Up}, bike{at: Cell{20, 20}, h: Up})
	for tick := 1; tick <= 3*StepTicks; tick++ {
		o, stepped := g.Tick()
		if want := tick%StepTicks == 0; stepped != want {
			t.Fatalf("tick %d: stepped=%v, want %v", tick, stepped, want)
		}
		if stepped && o.Step != tick/StepTicks {
			t.Fatalf("tick %d: outcome step %d", tick, o.Step)
		}
		if g.Ticks() != tick {
			t.Fatalf("Ticks = %d after %d ticks", g.Ticks(), tick)
		}
		if want := (Cell{50, 50 - tick/StepTicks}); g.Players()[0].Head != want {
			t.Fatalf("tick %d: head %v, want %v", tick, g.Players()[0].Head, want)
		}
	}
	if g.Steps() != 3 {
		t.Fatalf("Steps = %d", g.Steps())
	}
	// Step jumps to the next step boundary.
	mustStep(t, g)
	if g.Ticks() != 4*StepTicks || g.Steps() != 4 {
		t.Fatalf("after Step: ticks %d steps %d", g.Ticks(), g.Steps())
	}
}

func TestSimultaneousArrivalBothDie(t *testing.T) {
	g := board(t, bike{at: Cell{10, 50}, h: Right}, bike{at: Cell{12, 50}, h: Left}, bike{at: Cell{30, 30}, h: Up})
	o := mustStep(t, g)
	for i := range 2 {
		d, ok := deathOf(o, i)
		if !ok || d.Cause != CauseHeadOn {
			t.Fatalf("player %d: death %+v %v, want head-on", i, d, ok)
		}
	}
	if g.Owner(Cell{11, 50}) != -1 {
		t.Error("a bike entered the contested cell")
	}
	if d, _ := deathOf(o, 0); d.Cell != (Cell{10, 50}) {
		t.Errorf("death cell %v, want the head before the step", d.Cell)
	}
	if _, ok := deathOf(o, 2); ok {
		t.Error("bystander died")
	}
}

func TestHeadSwapBothDie(t *testing.T) {
	g := board(t, bike{at: Cell{10, 50}, h: Right}, bike{at: Cell{11, 50}, h: Left}, bike{at: Cell{30, 30}, h: Up})
	o := mustStep(t, g)
	for i := range 2 {
		if d, ok := deathOf(o, i); !ok || d.Cause != CauseHeadOn {
			t.Fatalf("player %d: death %+v %v, want head-on", i, d, ok)
		}
	}
	// Swapping through a turn: p0 turns into p1's cell while p1 turns into p0's.
	g = board(t, bike{at: Cell{10, 50}, h: Up}, bike{at: Cell{11, 50}, h: Down}, bike{at: Cell{30, 30}, h: Up})
	if err := g.Turn("p0", TurnRight); err != nil {
		t.Fatal(err)
	}
	if err := g.Turn("p1", TurnRight); err != nil {
		t.Fatal(err)
	}
	o = mustStep(t, g)
	if len(o.Deaths) != 2 || o.Deaths[0].Cause != CauseHeadOn || o.Deaths[1].Cause != CauseHeadOn {
		t.Fatalf("turned swap: deaths %+v", o.Deaths)
	}
}

func TestFollowingIntoVacatedCellDies(t *testing.T) {
	// p1 drives into the cell p0 is leaving: it is still p0's trail.
	g := board(t, bike{at: Cell{11, 50}, h: Right}, bike{at: Cell{11, 51}, h: Up}, bike{at: Cell{30, 30}, h: Up})
	o := mustStep(t, g)
	if d, ok := deathOf(o, 1); !ok || d.Cause != CauseTrail {
		t.Fatalf("p1 entering p0's old head: %+v %v, want trail death", d, ok)
	}
	if _, ok := deathOf(o, 0); ok {
		t.Fatal("p0 died")
	}
}

func TestCrashIntoTrail(t *testing.T) {
	// p1 has a vertical trail on x=20; p0 drives right into it.
	g := board(t, bike{at: Cell{18, 50}, h: Right}, bike{at: Cell{20, 90}, h: Up}, bike{at: Cell{60, 60}, h: Up})
	lay(g, 1, line(Cell{20, 89}, Cell{20, 10})...)
	o := mustStep(t, g) // p0 to (19,50)
	if len(o.Deaths) != 0 {
		t.Fatalf("deaths %+v", o.Deaths)
	}
	o = mustStep(t, g)
	if d, ok := deathOf(o, 0); !ok || d.Cause != CauseTrail || d.Cell != (Cell{19, 50}) {
		t.Fatalf("p0: %+v %v, want trail death at (19,50)", d, ok)
	}
	// Own trail is deadly too: p2 loops into itself.
	for _, tr := range []Turn{TurnRight, TurnRight, TurnRight} {
		if err := g.Turn("p2", tr); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		mustStep(t, g)
	}
	if g.Players()[2].Alive {
		t.Fatal("p2 survived driving into its own trail")
	}
}

func TestWallCrash(t *testing.T) {
	g := board(t, bike{at: Cell{1, 50}, h: Left}, bike{at: Cell{50, 50}, h: Up})
	o := mustStep(t, g)
	if d, ok := deathOf(o, 0); !ok || d.Cause != CauseWall {
		t.Fatalf("%+v %v, want wall death", d, ok)
	}
}

func TestTrailClearingOnlyOwnCells(t *testing.T) {
	// p0 starts on the left wall and runs along y=50 to x=30, then dies
	// head-first into p1's vertical trail on x=31 (a T-junction). p2's trail
	// runs along y=51 right beside p0's and ends against p1's trail too.
	g := board(t, bike{at: Cell{0, 50}, h: Right}, bike{at: Cell{31, 10}, h: Down}, bike{at: Cell{30, 52}, h: Left}, bike{at: Cell{80, 80}, h: Up})
	lay(g, 0, line(Cell{1, 50}, Cell{30, 50})...)
	lay(g, 1, line(Cell{31, 11}, Cell{31, 60})...)
	lay(g, 1, line(Cell{32, 60}, Cell{32, 70})...)
	lay(g, 2, line(Cell{30, 51}, Cell{2, 51})...)
	before1, before2 := owned(g, 1), owned(g, 2)
	o := mustStep(t, g)
	if d, ok := deathOf(o, 0); !ok || d.Cause != CauseTrail {
		t.Fatalf("p0: %+v %v", d, ok)
	}
	if n := owned(g, 0); n != 0 {
		t.Fatalf("p0 still owns %d cells", n)
	}
	if tr := g.Trail(nil, 0); len(tr) != 0 {
		t.Fatalf("p0 trail %v after derez", tr)
	}
	if owned(g, 1) != before1+1 || owned(g, 2) != before2+1 {
		t.Fatalf("other trails changed: p1 %d→%d, p2 %d→%d", before1, owned(g, 1), before2, owned(g, 2))
	}
	for _, c := range []Cell{{31, 50}, {31, 49}, {20, 51}, {2, 51}} {
		if g.Owner(c) < 1 {
			t.Errorf("cell %v of another trail was cleared", c)
		}
	}
	// p0's cells are free now; the wall where it started is still wall.
	if g.Owner(Cell{1, 50}) != -1 || g.Owner(Cell{30, 50}) != -1 {
		t.Error("p0's cells not free")
	}
	g.players[3].Head, g.players[3].Heading = Cell{2, 50}, Left
	o = mustStep(t, g) // p3 to (1,50), p0's old first cell: free
	if _, ok := deathOf(o, 3); ok {
		t.Fatalf("p3 died entering a cleared cell: %+v", o.Deaths)
	}
	o = mustStep(t, g) // p3 into (0,50), where p0 started: still wall
	if d, ok := deathOf(o, 3); !ok || d.Cause != CauseWall {
		t.Fatalf("p3 drove into p0's start cell: %+v %v, want wall death", d, ok)
	}
}

func TestDoubleTurnIsUTurnIntoAdjacentLane(t *testing.T) {
	for _, tc := range []struct {
		turn Turn
		lane Cell
	}{{TurnRight, Cell{51, 51}}, {TurnLeft, Cell{49, 51}}} {
		g := board(t, bike{at: Cell{50, 50}, h: Up}, bike{at: Cell{20, 20}, h: Up})
		lay(g, 0, Cell{50, 51}, Cell{50, 50})
		for range 2 {
			if err := g.Turn("p0", tc.turn); err != nil {
				t.Fatal(err)
			}
		}
		mustStep(t, g)
		if p := g.Players()[0]; p.Heading != Up.Turn(tc.turn) {
			t.Fatalf("%v: after one step heading %v: both turns applied at once?", tc.turn, p.Heading)
		}
		mustStep(t, g)
		p := g.Players()[0]
		if !p.Alive || p.Heading != Down || p.Head != tc.lane {
			t.Fatalf("%v: %+v, want alive heading down at %v", tc.turn, p, tc.lane)
		}
		mustStep(t, g)
		if p := g.Players()[0]; !p.Alive {
			t.Fatalf("%v: died in the adjacent lane", tc.turn)
		}
	}
}

func TestTurnQueueFIFOOnePerStep(t *testing.T) {
	g := board(t, bike{at: Cell{50, 50}, h: Up}, bike{at: Cell{20, 20}, h: Up})
	seq := []Turn{TurnLeft, TurnRight, TurnRight, TurnLeft}
	for _, tr := range seq {
		if err := g.Turn("p0", tr); err != nil {
			t.Fatal(err)
		}
	}
	want := []Heading{Left, Up, Right, Up, Up}
	for k, h := range want {
		o := mustStep(t, g)
		if got := o.Heads[0].Heading; got != h {
			t.Fatalf("step %d: heading %v, want %v", k+1, got, h)
		}
	}
}

func TestTurnQueueBounded(t *testing.T) {
	g := board(t, bike{at: Cell{50, 50}, h: Up}, bike{at: Cell{20, 20}, h: Up, robot: true})
	for k := range QueueLen {
		tr := TurnLeft
		if k%2 == 1 {
			tr = TurnRight
		}
		if err := g.Turn("p0", tr); err != nil {
			t.Fatalf("turn %d: %v", k, err)
		}
	}
	if err := g.Turn("p0", TurnRight); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("turn past the bound: %v, want ErrQueueFull", err)
	}
	mustStep(t, g)
	if err := g.Turn("p0", TurnRight); err != nil {
		t.Fatalf("after a step frees a slot: %v", err)
	}
	for _, tc := range []struct {
		id   string
		turn Turn
		want error
	}{
		{"nobody", TurnLeft, ErrUnknownPlayer},
		{"p0", 0, ErrBadTurn},
		{"p1", TurnLeft, ErrRobot},
	} {
		if err := g.Turn(tc.id, tc.turn); !errors.Is(err, tc.want) {
			t.Errorf("Turn(%q, %d) = %v, want %v", tc.id, tc.turn, err, tc.want)
		}
	}
}

func TestRemoveDerezzesAtNextStep(t *testing.T) {
	g := board(t, bike{at: Cell{50, 50}, h: Up}, bike{at: Cell{20, 50}, h: Up}, bike{at: Cell{80, 50}, h: Up})
	mustStep(t, g)
	if err := g.Remove("p1"); err != nil {
		t.Fatal(err)
	}
	if err := g.Turn("p1", TurnLeft); !errors.Is(err, ErrNotPlaying) {
		t.Fatalf("Turn after Remove: %v", err)
	}
	o := mustStep(t, g)
	d, ok := deathOf(o, 1)
	if !ok || d.Cause != CauseLeft || d.Cell != (Cell{20, 49}) {
		t.Fatalf("leave: %+v %v", d, ok)
	}
	if owned(g, 1) != 0 || g.Players()[1].Alive || !g.Players()[1].Left {
		t.Fatalf("p1 after leave: %+v, %d cells", g.Players()[1], owned(g, 1))
	}
	if _, over := g.Result(); over {
		t.Fatal("round over with two bikes alive")
	}
	if err := g.Remove("p2"); err != nil {
		t.Fatal(err)
	}
	if err := g.Remove("p2"); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	o = mustStep(t, g)
	if !o.Over || o.Winner != 0 {
		t.Fatalf("last bike after leaves: over=%v winner=%d", o.Over, o.Winner)
	}
	if err := g.Remove("nobody"); !errors.Is(err, ErrUnknownPlayer) {
		t.Fatalf("Remove unknown: %v", err)
	}
	if err := g.NextRound(); err != nil {
		t.Fatal(err)
	}
	if ps := g.Players(); len(ps) != 1 || ps[0].ID != "p0" || ps[0].Score != 1 {
		t.Fatalf("next round players %+v, want only p0 with 1 point", ps)
	}
}

func TestRoundWinner(t *testing.T) {
	g := board(t, bike{at: Cell{1, 50}, h: Left}, bike{at: Cell{50, 50}, h: Up})
	o := mustStep(t, g)
	if !o.Over || o.Winner != 1 {
		t.Fatalf("over=%v winner=%d", o.Over, o.Winner)
	}
	if w, over := g.Result(); !over || w != 1 {
		t.Fatalf("Result = %d %v", w, over)
	}
	if g.Players()[1].Score != 1 || g.Players()[0].Score != 0 {
		t.Fatalf("scores %+v", g.Players())
	}
	if _, ok := g.Tick(); ok {
		t.Fatal("Tick stepped after the round was over")
	}
	if _, ok := g.Step(); ok {
		t.Fatal("Step stepped after the round was over")
	}
	if err := g.Turn("p1", TurnLeft); !errors.Is(err, ErrNotPlaying) {
		t.Fatalf("Turn after the round: %v", err)
	}
}

func TestRoundDraw(t *testing.T) {
	// The last two bikes die in the same step, one head-on pair…
	g := board(t, bike{at: Cell{10, 50}, h: Right}, bike{at: Cell{12, 50}, h: Left})
	if o := mustStep(t, g); !o.Over || o.Winner != -1 {
		t.Fatalf("head-on: over=%v winner=%d, want draw", o.Over, o.Winner)
	}
	// …or separately, into walls.
	g = board(t, bike{at: Cell{1, 50}, h: Left}, bike{at: Cell{98, 50}, h: Right}, bike{at: Cell{50, 98}, h: Down})
	if o := mustStep(t, g); !o.Over || o.Winner != -1 || len(o.Deaths) != 3 {
		t.Fatalf("walls: %+v, want a draw with 3 deaths", o)
	}
	for _, p := range g.Players() {
		if p.Score != 0 {
			t.Fatalf("a draw scored: %+v", p)
		}
	}
}

func TestSoloAndEmptyRounds(t *testing.T) {
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if w, over := g.Result(); !over || w != -1 {
		t.Fatalf("no players: Result %d %v, want a draw", w, over)
	}
	g = board(t, bike{at: Cell{2, 50}, h: Left})
	if o := mustStep(t, g); o.Over {
		t.Fatal("a one-player round ended while the bike was alive")
	}
	if o := mustStep(t, g); !o.Over || o.Winner != -1 {
		t.Fatalf("solo crash: over=%v winner=%d, want draw", o.Over, o.Winner)
	}
}

func TestScoresAcrossRounds(t *testing.T) {
	g := board(t, bike{at: Cell{1, 50}, h: Left}, bike{at: Cell{50, 50}, h: Up})
	mustStep(t, g) // p1 wins round 1
	if err := g.NextRound(PlayerConfig{ID: "a-new", Colour: 5}); err != nil {
		t.Fatal(err)
	}
	if g.Round() != 2 || g.Steps() != 0 || g.Ticks() != 0 {
		t.Fatalf("round %d steps %d ticks %d", g.Round(), g.Steps(), g.Ticks())
	}
	ps := g.Players()
	if len(ps) != 3 || ps[0].ID != "a-new" || ps[2].ID != "p1" || ps[2].Score != 1 || ps[1].Score != 0 || ps[0].Score != 0 {
		t.Fatalf("round 2 players %+v", ps)
	}
	for i, p := range ps {
		if c, h := StartPosition(i, 3); !p.Alive || p.Head != c || p.Heading != h {
			t.Fatalf("%s not reset to its start: %+v", p.ID, p)
		}
		if owned(g, i) != 0 {
			t.Fatalf("%s still owns cells", p.ID)
		}
	}
	// Play round 2 to its end with p1 winning again.
	g.players[0].Head, g.players[0].Heading = Cell{1, 50}, Left
	g.players[1].Head, g.players[1].Heading = Cell{98, 50}, Right
	g.players[2].Head, g.players[2].Heading = Cell{50, 50}, Up
	mustStep(t, g)
	if err := g.NextRound(); err != nil {
		t.Fatal(err)
	}
	if ps := g.Players(); ps[2].Score != 2 || ps[0].Score != 0 || g.Round() != 3 {
		t.Fatalf("round 3 players %+v", ps)
	}
	if err := g.NextRound(PlayerConfig{ID: "p0", Colour: 7}); !errors.Is(err, ErrConfig) {
		t.Fatalf("joining with a taken ID: %v", err)
	}
	if g.Round() != 3 || len(g.Players()) != 3 {
		t.Fatal("failed NextRound changed the game")
	}
}
