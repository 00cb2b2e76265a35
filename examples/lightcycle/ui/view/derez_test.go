package view

import (
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// TestDerezExpandsAndFades: the circle grows from 0 to about 6 cells while
// fading from opaque to invisible, and the effect then ends.
func TestDerezExpandsAndFades(t *testing.T) {
	d := Derez{}
	if d.Radius() != 0 || d.Alpha() != 1 || d.Done() {
		t.Fatalf("at the crash: radius %v alpha %v done %v", d.Radius(), d.Alpha(), d.Done())
	}
	prevR, prevA := d.Radius(), d.Alpha()
	for age := 1; age <= DerezTicks; age++ {
		d.Age = age
		r, a := d.Radius(), d.Alpha()
		if r <= prevR || a >= prevA {
			t.Fatalf("age %d: radius %v (was %v), alpha %v (was %v): want growing and fading", age, r, prevR, a, prevA)
		}
		prevR, prevA = r, a
	}
	if d.Radius() != 6 || d.Alpha() != 0 || !d.Done() {
		t.Errorf("at the end: radius %v alpha %v done %v; want 6, 0, true", d.Radius(), d.Alpha(), d.Done())
	}
	if DerezTicks < 30 || DerezTicks > 60 {
		t.Errorf("DerezTicks = %d: want about half a second to a second", DerezTicks)
	}
	d.Age = DerezTicks / 2
	if r := d.Radius(); r < 3 {
		t.Errorf("half way the radius is %v: the circle should expand quickly at first", r)
	}
}

func TestEffectsDropFinishedEffects(t *testing.T) {
	var e Effects
	e.Start(0, sim.Cell{X: 5, Y: 5}, 3, nil)
	for range 10 {
		e.Tick()
	}
	e.Start(1, sim.Cell{X: 9, Y: 9}, 4, []Segment{{at(9, 99), at(9, 9)}})
	if n := len(e.All()); n != 2 {
		t.Fatalf("%d effects, want 2", n)
	}
	for range DerezTicks - 10 {
		e.Tick()
	}
	all := e.All()
	if len(all) != 1 || all[0].Player != 1 || all[0].Age != DerezTicks-10 || all[0].Colour != 4 {
		t.Fatalf("after the first ended: %+v", all)
	}
	e.Clear()
	if len(e.All()) != 0 {
		t.Fatal("Clear left effects")
	}
}
