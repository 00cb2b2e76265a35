package headless_test

import (
	"context"
	"os"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game/headless"
)

// Example plays two offline rounds against three robots, as fast as the
// machine goes, and prints them.
func Example() {
	err := headless.Run(context.Background(), []string{"-local", "-bots", "3", "-rounds", "2", "-seed", "4", "-tps", "10000"}, os.Stdout)
	if err != nil {
		panic(err)
	}
	// Output:
	// self local headless
	// announced 1 players 4 countdown 180
	// started 1
	// round 1 winner robot_3 steps 234 digest 04a1167bd4f52adf scores robot_1=0,robot_2=0,robot_3=1,headless=0
	// announced 2 players 4 countdown 180
	// started 2
	// round 2 winner robot_3 steps 348 digest fbb12dcc04d21a12 scores robot_1=0,robot_2=0,robot_3=2,headless=0
	// bye
}
