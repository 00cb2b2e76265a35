package sim

import (
	"errors"
	"testing"
)

func TestAssignColoursFirstClaimWins(t *testing.T) {
	got, err := AssignColours([]int{2, 2, 7, 7, 7, -1, 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{2, 3, 7, 0, 1, 4, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("AssignColours = %v, want %v", got, want)
		}
	}
}

func TestAssignColoursAllDistinct(t *testing.T) {
	got, err := AssignColours([]int{5, 5, 5, 5, 5, 5, 5, 5})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, c := range got {
		if c < 0 || c >= NumColours || seen[c] {
			t.Fatalf("AssignColours = %v: not 8 distinct colours", got)
		}
		seen[c] = true
	}
	if _, err := AssignColours(make([]int, NumColours+1)); !errors.Is(err, ErrConfig) {
		t.Fatalf("9 claims: err = %v, want ErrConfig", err)
	}
}

func TestFreeColour(t *testing.T) {
	if c, ok := FreeColour([]int{1, 2}, 4); c != 4 || !ok {
		t.Errorf("free claim: %d %v", c, ok)
	}
	if c, ok := FreeColour([]int{6, 7, 0}, 6); c != 1 || !ok {
		t.Errorf("wrapping: %d %v, want 1", c, ok)
	}
	if _, ok := FreeColour([]int{0, 1, 2, 3, 4, 5, 6, 7}, 3); ok {
		t.Error("all colours taken but ok")
	}
}

func TestNewRejectsClashes(t *testing.T) {
	for name, ps := range map[string][]PlayerConfig{
		"colour clash": {{ID: "a", Colour: 1}, {ID: "b", Colour: 1}},
		"colour range": {{ID: "a", Colour: 8}},
		"id clash":     {{ID: "a", Colour: 1}, {ID: "a", Colour: 2}},
		"empty id":     {{ID: "", Colour: 1}},
		"too many":     {{ID: "a"}, {ID: "b", Colour: 1}, {ID: "c", Colour: 2}, {ID: "d", Colour: 3}, {ID: "e", Colour: 4}, {ID: "f", Colour: 5}, {ID: "g", Colour: 6}, {ID: "h", Colour: 7}, {ID: "i", Colour: 7}},
	} {
		if _, err := New(Config{Players: ps}); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}
