package board

import (
	"fmt"
	"reflect"
	"testing"
)

func TestColourForIsPodSixNets(t *testing.T) {
	for id, want := range map[int]Colour{
		1: {168, 0, 84},
		2: {0, 84, 168},
		3: {84, 168, 0},
		4: {168, 0, 84},
		7: {168, 0, 84},
		9: {84, 168, 0},
	} {
		if got := ColourFor(id); got != want {
			t.Errorf("ColourFor(%d) = %v, want %v", id, got, want)
		}
		// The formula itself, as EXAMPLES.md states it.
		if got, f := ColourFor(id), (Colour{(id + 1) % 3 * 84, (id + 2) % 3 * 84, (id + 3) % 3 * 84}); got != f {
			t.Errorf("ColourFor(%d) = %v, formula gives %v", id, got, f)
		}
	}
}

func TestLinesGrowFromStartLine(t *testing.T) {
	b := New()
	b.Join("1", ColourFor(1))
	if !b.StartLine("1", Point{10, 10}) || !b.DrawPoint("1", Point{20, 15}) || !b.DrawPoint("1", Point{30, 20}) {
		t.Fatal("drawing refused")
	}
	b.StartLine("1", Point{100, 100})
	b.DrawPoint("1", Point{110, 100})
	want := [][]Point{{{10, 10}, {20, 15}, {30, 20}}, {{100, 100}, {110, 100}}}
	if got := b.Lines("1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	if b.Points("1") != 5 {
		t.Fatalf("points %d, want 5", b.Points("1"))
	}
}

func TestDrawPointWithoutStartLineIsIgnored(t *testing.T) {
	b := New()
	b.Join("1", ColourFor(1))
	v := b.Version()
	if b.DrawPoint("1", Point{5, 5}) {
		t.Fatal("drawpoint without startline was applied")
	}
	if b.Lines("1") != nil || b.Version() != v {
		t.Fatalf("board changed: lines %v", b.Lines("1"))
	}
	// Unknown players are ignored too, and drawing still works afterwards.
	if b.DrawPoint("9", Point{1, 1}) || b.StartLine("9", Point{1, 1}) {
		t.Fatal("unknown player drew")
	}
	if !b.StartLine("1", Point{1, 2}) || !b.DrawPoint("1", Point{3, 4}) {
		t.Fatal("drawing refused after an ignored drawpoint")
	}
}

func TestPointsAreClamped(t *testing.T) {
	b := New()
	b.Join("1", ColourFor(1))
	b.StartLine("1", Point{-5, 1 << 40})
	b.DrawPoint("1", Point{Width + 3, -1})
	want := [][]Point{{{0, Height - 1}, {Width - 1, 0}}}
	if got := b.Lines("1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
}

func TestMaxPointsDropsOldestLines(t *testing.T) {
	b := New()
	b.Join("1", ColourFor(1))
	b.Join("2", ColourFor(2))
	b.StartLine("2", Point{1, 1}) // another player's line is never touched
	// Three lines of MaxPoints/3 points, then one more line pushes the
	// total over: the oldest line goes, whole.
	third := MaxPoints / 3
	for l := range 3 {
		b.StartLine("1", Point{l, 0})
		for i := 1; i < third; i++ {
			b.DrawPoint("1", Point{l, i})
		}
	}
	extra := MaxPoints - 3*third
	b.StartLine("1", Point{9, 9})
	for range extra - 1 {
		b.DrawPoint("1", Point{9, 9})
	}
	if b.Points("1") != MaxPoints || len(b.Lines("1")) != 4 {
		t.Fatalf("at the limit: %d points in %d lines", b.Points("1"), len(b.Lines("1")))
	}
	b.DrawPoint("1", Point{9, 10})
	lines := b.Lines("1")
	if len(lines) != 3 || lines[0][0] != (Point{1, 0}) || b.Points("1") != MaxPoints-third+1 {
		t.Fatalf("after going over: %d lines starting %v, %d points", len(lines), lines[0][0], b.Points("1"))
	}
	if got := b.Lines("2"); len(got) != 1 {
		t.Fatalf("player 2 lost lines: %v", got)
	}
}

func TestLongestLineStopsAtMaxPoints(t *testing.T) {
	b := New()
	b.Join("1", ColourFor(1))
	b.StartLine("1", Point{0, 0})
	b.DrawPoint("1", Point{1, 1})
	b.StartLine("1", Point{0, 0})
	for i := 1; i < MaxPoints; i++ {
		if !b.DrawPoint("1", Point{i % Width, 0}) {
			t.Fatalf("point %d refused", i)
		}
	}
	// The newest line is full: the older line was dropped for it, and one
	// more point is refused rather than cutting the line.
	if n := len(b.Lines("1")); n != 1 || b.Points("1") != MaxPoints {
		t.Fatalf("%d lines, %d points", n, b.Points("1"))
	}
	if b.DrawPoint("1", Point{5, 5}) {
		t.Fatal("a point beyond MaxPoints in one line was accepted")
	}
	// A new line starts fine and replaces the full one.
	if !b.StartLine("1", Point{7, 7}) || b.Points("1") != 1 {
		t.Fatalf("new line: %d points", b.Points("1"))
	}
}

func TestSetPlayersRemovesLeaversAndTheirDrawing(t *testing.T) {
	b := New()
	b.Join("1", ColourFor(1))
	b.Join("2", ColourFor(2))
	b.StartLine("1", Point{1, 1})
	b.StartLine("2", Point{2, 2})
	if !b.SetPlayers(map[string]Colour{"2": ColourFor(2), "3": ColourFor(3)}) {
		t.Fatal("no change reported")
	}
	if b.Has("1") || b.Lines("1") != nil {
		t.Fatal("player 1 still on the board")
	}
	if len(b.Lines("2")) != 1 {
		t.Fatal("player 2 lost their line")
	}
	if c, ok := b.Colour("3"); !ok || c != ColourFor(3) || b.Lines("3") != nil {
		t.Fatalf("player 3: %v %v %v", c, ok, b.Lines("3"))
	}
	if b.SetPlayers(map[string]Colour{"2": ColourFor(2), "3": ColourFor(3)}) {
		t.Fatal("the same players reported a change")
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	a := New()
	a.Join("1", ColourFor(1))
	a.Join("2", ColourFor(2))
	a.StartLine("1", Point{1, 1})
	a.DrawPoint("1", Point{2, 2})
	a.StartLine("1", Point{3, 3})
	b := New()
	b.Join("7", ColourFor(7)) // replaced
	b.Restore(a.Snapshot())
	if !reflect.DeepEqual(b.Snapshot(), a.Snapshot()) {
		t.Fatalf("restored %v, want %v", b.Snapshot(), a.Snapshot())
	}
	if b.Has("7") {
		t.Fatal("Restore kept a player not in the snapshot")
	}
	// An empty player is sent with "lines": [], not nil.
	if s := a.Snapshot()["2"]; s.Lines == nil || len(s.Lines) != 0 {
		t.Fatalf("empty player's lines %#v", s.Lines)
	}
}

func TestRestoreSanitizes(t *testing.T) {
	huge := make([]Point, MaxPoints+10)
	b := New()
	b.Restore(map[string]PlayerState{
		"1": {Colour: Colour{-1, 300, 5}, Lines: [][]Point{{}, {{-9, 9999}}, huge}},
	})
	c, _ := b.Colour("1")
	if c != (Colour{0, 255, 5}) {
		t.Errorf("colour %v", c)
	}
	lines := b.Lines("1")
	if len(lines) != 1 || len(lines[0]) != MaxPoints || b.Points("1") != MaxPoints {
		t.Fatalf("%d lines, first %d points, total %d", len(lines), len(lines[0]), b.Points("1"))
	}
}

func TestIDsInNumericOrder(t *testing.T) {
	b := New()
	for _, id := range []string{"10", "2", "1", "33", "3"} {
		b.Join(id, Colour{})
	}
	if got, want := b.IDs(), []string{"1", "2", "3", "10", "33"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("IDs %v, want %v", got, want)
	}
	if b.Join("2", Colour{}) {
		t.Fatal("joined twice")
	}
	if !b.Leave("2") || b.Leave("2") || b.Len() != 4 {
		t.Fatal("Leave")
	}
}

func TestVersionCountsChanges(t *testing.T) {
	b := New()
	v := b.Version()
	b.Join("1", Colour{})
	b.StartLine("1", Point{})
	b.DrawPoint("1", Point{})
	b.Leave("1")
	if got := b.Version() - v; got != 4 {
		t.Fatalf("version advanced %d for 4 changes", got)
	}
}

func Example() {
	b := New()
	b.Join("1", ColourFor(1))
	b.StartLine("1", Point{10, 10})
	b.DrawPoint("1", Point{20, 15})
	b.DrawPoint("2", Point{0, 0}) // nobody called "2": ignored
	c, _ := b.Colour("1")
	fmt.Println(c, b.Lines("1"))
	// Output: [168 0 84] [[[10 10] [20 15]]]
}
