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
	// round 1 winner bot3 steps 234 digest 04a1167bd4f52adf scores bot1=0,bot2=0,bot3=1,local=0
	// announced 2 players 4 countdown 180
	// started 2
	// round 2 winner bot3 steps 348 digest fbb12dcc04d21a12 scores bot1=0,bot2=0,bot3=2,local=0
	// bye
}
