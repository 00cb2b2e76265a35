package offline_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// Watch four robots play a round, without a screen, and print the result.
func ExampleNew() {
	m := offline.New(offline.Config{Robots: 4, Seed: 9, Watch: true})
	for m.State().Scene != view.SceneResults {
		_ = m.Update() // never fails offline
	}
	s := m.State()
	if w, _ := s.Game.Result(); w >= 0 {
		fmt.Println(s.Name(s.Game.Players()[w].ID), "wins round", s.Game.Round())
	} else {
		fmt.Println("draw")
	}
	// Output: Dot wins round 1
}
