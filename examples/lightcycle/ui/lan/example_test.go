package lan_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/lan"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// Drive a game through a Match as the screen does, without a screen: here
// an offline game (game.NewLocal) against two robots with the autopilot
// steering; a LAN game (game.New over game.JoinLAN) is driven the same way.
func ExampleNew() {
	g, err := game.NewLocal(game.Config{Name: "ann", Bots: 2, Seed: 4, Autopilot: true})
	if err != nil {
		panic(err)
	}
	m := lan.New(g, 0, func(line string) { fmt.Println(line) })
	m.Ready(true)
	deaths := 0
	for m.State().Scene != view.SceneResults {
		_ = m.Update()
		deaths += len(m.State().Deaths)
	}
	fmt.Println(deaths, "derez effects")
	// Output:
	// round 1 announced: 3 players
	// round 1: robot 1 wins after 20.1 s · robot 1 1, robot 2 0, ann 0
	// 2 derez effects
}
