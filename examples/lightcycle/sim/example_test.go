package sim_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// Example plays one round between a human who never steers and two robots,
// the way a host does: one Tick per 1/60 s, an Outcome every sixth tick.
func Example() {
	g, err := sim.New(sim.Config{Seed: 7, Players: []sim.PlayerConfig{
		{ID: "bot1", Colour: 1, Robot: true},
		{ID: "ann", Colour: 0},
		{ID: "bot2", Colour: 2, Robot: true},
	}})
	if err != nil {
		panic(err)
	}
	players := g.Players() // sorted by ID: ann, bot1, bot2
	for _, p := range players {
		fmt.Printf("%s starts at %v heading %v\n", p.ID, p.Head, p.Heading)
	}
	for {
		o, stepped := g.Tick()
		if !stepped {
			continue
		}
		for _, d := range o.Deaths {
			fmt.Printf("tick %d: %s derezzed at %v (%v)\n", o.Step*sim.StepTicks, players[d.Player].ID, d.Cell, d.Cause)
		}
		if o.Over {
			break
		}
	}
	if winner, _ := g.Result(); winner >= 0 {
		fmt.Println("winner:", players[winner].ID)
	} else {
		fmt.Println("draw")
	}
	// Output:
	// ann starts at (55,99) heading up
	// bot1 starts at (0,22) heading right
	// bot2 starts at (99,10) heading left
	// tick 462: ann derezzed at (55,23) (trail)
	// tick 2184: bot1 derezzed at (20,7) (trail)
	// winner: bot2
}

// ExampleGame_Apply shows a follower applying the host's outcomes, sent in
// their binary form, and checking it agrees with the host.
func ExampleGame_Apply() {
	cfg := sim.Config{Seed: 1, Players: []sim.PlayerConfig{
		{ID: "a", Colour: 0, Robot: true},
		{ID: "b", Colour: 1, Robot: true},
	}}
	host, _ := sim.New(cfg)
	follower, _ := sim.New(cfg)
	for {
		o, ok := host.Step()
		if !ok {
			break
		}
		msg, _ := o.MarshalBinary() // sent over the network
		var got sim.Outcome
		if err := got.UnmarshalBinary(msg); err != nil {
			panic(err)
		}
		if err := follower.Apply(got); err != nil {
			panic(err)
		}
		if follower.Digest() != host.Digest() {
			panic("out of step")
		}
	}
	w, _ := follower.Result()
	fmt.Println("follower agrees after", follower.Steps(), "steps; winner index", w)
	// Output: follower agrees after 259 steps; winner index 1
}

// ExampleAssignColours resolves colour clashes in the order claims arrived.
func ExampleAssignColours() {
	colours, _ := sim.AssignColours([]int{3, 3, 7, 7})
	fmt.Println(colours)
	// Output: [3 4 7 0]
}

// ExampleStartPosition prints the start cells of a four-player round.
func ExampleStartPosition() {
	for i := range 4 {
		c, h := sim.StartPosition(i, 4)
		fmt.Println(c, h)
	}
	// Output:
	// (66,99) up
	// (0,66) right
	// (33,0) down
	// (99,33) left
}
