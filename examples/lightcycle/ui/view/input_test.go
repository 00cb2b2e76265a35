package view

import (
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

func TestKeysTurnRelatively(t *testing.T) {
	for _, k := range []string{"ArrowLeft", "A"} {
		if b := KeyButton(k); TurnFor(b) != sim.TurnLeft {
			t.Errorf("%s: button %d turn %v, want left", k, b, TurnFor(b))
		}
	}
	for _, k := range []string{"ArrowRight", "D"} {
		if b := KeyButton(k); TurnFor(b) != sim.TurnRight {
			t.Errorf("%s: button %d turn %v, want right", k, b, TurnFor(b))
		}
	}
	for k, want := range map[string]Button{"Enter": ButtonConfirm, "Space": ButtonConfirm,
		"Escape": ButtonQuit, "F3": ButtonNone, "F11": ButtonFullscreen, "M": ButtonMute, "Q": ButtonNone, "ArrowUp": ButtonNone} {
		if got := KeyButton(k); got != want {
			t.Errorf("KeyButton(%q) = %d, want %d", k, got, want)
		}
		if TurnFor(want) != 0 {
			t.Errorf("TurnFor(%d) turns", want)
		}
	}
	if len(KeyNames()) != len(keyButtons) {
		t.Error("KeyNames misses keys")
	}
}

func TestPointerHalves(t *testing.T) {
	for _, tt := range []struct {
		x    float64
		want sim.Turn
	}{{0, sim.TurnLeft}, {399.9, sim.TurnLeft}, {400, sim.TurnRight}, {799, sim.TurnRight}} {
		if got := PointerTurn(tt.x, 800); got != tt.want {
			t.Errorf("PointerTurn(%v, 800) = %v, want %v", tt.x, got, tt.want)
		}
	}
}

// TestStickPressesOncePerPush: a held stick turns once; it must come back
// near the centre to turn again; flicking across turns the other way.
func TestStickPressesOncePerPush(t *testing.T) {
	var s Stick
	steps := []struct {
		x    float64
		want Button
	}{
		{0, ButtonNone},
		{-0.5, ButtonNone}, // not far enough
		{-0.7, ButtonLeft},
		{-1, ButtonNone}, // held
		{-0.4, ButtonNone},
		{-0.7, ButtonNone}, // never came back inside StickRelease
		{-0.1, ButtonNone}, // released
		{-0.8, ButtonLeft},
		{0.9, ButtonRight}, // flicked across
		{0.95, ButtonNone},
		{0, ButtonNone},
		{0.61, ButtonRight},
	}
	for i, st := range steps {
		if got := s.Update(st.x); got != st.want {
			t.Fatalf("step %d (x=%v): got %d, want %d", i, st.x, got, st.want)
		}
	}
}

func TestNextColourSkipsTakenColours(t *testing.T) {
	seats := []Seat{{ID: "me", Colour: 2, Local: true}, {ID: "b", Colour: 3}, {ID: "c", Colour: 4}, {ID: "d", Colour: 0}}
	if got := NextColour(seats, 2, 1); got != 5 {
		t.Errorf("next after 2 = %d, want 5", got)
	}
	if got := NextColour(seats, 2, -1); got != 1 {
		t.Errorf("previous before 2 = %d, want 1", got)
	}
	if got := NextColour(seats, 1, -1); got != 7 {
		t.Errorf("previous before 1 = %d, want 7 (wraps past taken 0)", got)
	}
	withRobot := append(seats[:len(seats):len(seats)], Seat{ID: "bot1", Colour: 5, Robot: true})
	if got := NextColour(withRobot, 2, 1); got != 5 {
		t.Errorf("next after 2 with a robot on 5 = %d, want 5 (robots yield their colour)", got)
	}
	var full []Seat
	for i := range sim.NumColours {
		full = append(full, Seat{ID: string(rune('a' + i)), Colour: i, Local: i == 6})
	}
	if got := NextColour(full, 6, 1); got != 6 {
		t.Errorf("all taken: got %d, want to keep 6", got)
	}
}

func TestRobotsKeyAndCount(t *testing.T) {
	if KeyButton("B") != ButtonRobots {
		t.Fatal("B does not add robots")
	}
	for _, tt := range []struct{ cur, humans, want int }{{0, 1, 1}, {3, 1, 4}, {7, 1, 0}, {5, 3, 0}, {4, 3, 5}, {0, 8, 0}} {
		if got := NextRobots(tt.cur, tt.humans); got != tt.want {
			t.Errorf("NextRobots(%d, %d humans) = %d, want %d", tt.cur, tt.humans, got, tt.want)
		}
	}
}
