package game_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
)

// Example plays one offline round against two robots, the way a UI drives
// a Game: one Update per tick, input and drawing in between, events for
// sounds and effects.
func Example() {
	g, err := game.NewLocal(game.Config{Name: "ann", Colour: 2, Bots: 2, Seed: 1, Autopilot: true})
	if err != nil {
		panic(err)
	}
	g.SetReady(true) // the lobby's "ready" button; alone, the round starts
	for g.Scene() != game.SceneResults {
		g.Update() // 60 times per second
		for _, e := range g.Events() {
			switch e.Kind {
			case game.EventRoundAnnounced:
				fmt.Printf("round %d in %d ticks\n", e.Round, e.Countdown)
			case game.EventCrash:
				fmt.Printf("%s derezzed at %v (%v)\n", g.Name(e.Crash.ID), e.Crash.Cell, e.Crash.Cause)
			}
		}
	}
	res := g.Result()
	fmt.Printf("winner %s after %d steps\n", res.WinnerName, res.Steps)
	for _, s := range res.Scores {
		fmt.Printf("  %-8s %d\n", s.Name, s.Score)
	}
	// Output:
	// round 1 in 180 ticks
	// robot 2 derezzed at (5,27) (trail)
	// ann derezzed at (66,14) (trail)
	// winner robot 1 after 258 steps
	//   robot 1  1
	//   robot 2  0
	//   ann      0
}
