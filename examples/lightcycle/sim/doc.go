// Package sim holds the rules of lightcycle, the pumpnet flagship example:
// bikes on a grid that leave a trail behind them, where the last bike moving
// wins. It has no graphics and no networking and uses only the standard
// library, so it is tested without a display, and it is deterministic: the
// same players, seed and inputs give the same game, bit for bit, on every
// machine. It counts ticks, never reads the clock, never lets map order
// matter, and draws its random numbers from a PCG generator (math/rand/v2)
// seeded from Config.Seed, the round and the step.
//
// # Rules
//
// The board is Size×Size cells (100×100) with a wall ring, leaving 98×98
// playable cells. The game runs at TPS (60) ticks per second and every
// StepTicks (6) ticks each living bike moves one cell: a step.
//
// Players are identified by string IDs and sorted by them (byte order); a
// player's index in that order is used in Outcome, Result and the start
// positions. Each player has a colour 0..7; AssignColours and FreeColour
// resolve clashes (the first claim wins, a later claimant gets the next free
// colour). Player i of n starts on the wall at perimeter distance
// gap/3 + i*gap, gap = 400/n, heading into the board; see StartPosition.
//
// Turns are relative (TurnLeft is counter-clockwise, TurnRight clockwise)
// and queued first in, first out, up to QueueLen per player. A step applies
// at most one queued turn per bike, so a quick double turn makes a U-turn
// into the adjacent lane over two steps.
//
// In a step, every bike's next cell is computed first; then a bike dies if
// it would enter the wall, any trail (heads included), the same cell as
// another bike, or if two bikes would swap cells. All bikes are judged
// against the board as it was before the step, so no result depends on the
// order players are processed in. A dead bike stays where it was (Death.Cell)
// and its trail is cleared: only the cells it owns, so walls and other
// trails stay whole. A player who leaves (Game.Remove) derezzes the same
// way at the next step.
//
// A round of two or more players is over when at most one bike is alive:
// the last bike alive wins and scores a point; if the last bikes die in the
// same step it is a draw. A one-player round ends, as a draw, when the bike
// dies; a round without players is over, drawn, at once. Game.NextRound
// clears the board, drops players who left, adds newcomers and keeps scores.
//
// Robots (PlayerConfig.Robot) steer themselves: each step a robot turns if
// the cell ahead is deadly, or with RobotTurnChance (2%) chance anyway,
// choosing uniformly among left, straight and right those whose next cell is
// not deadly; if none is, it goes straight.
//
// # Host and followers
//
// The host calls Game.Tick each tick (or Game.Step), takes players' turns
// with Game.Turn as they arrive, and sends each step's Outcome, in its
// compact binary form, to the other instances. They apply it with
// Game.Apply, which checks it against the rules. Game.Digest hashes the
// shared state, so instances can compare that they agree after a step.
// Because robots' random numbers depend only on the seed, round and step,
// a follower that becomes host carries on exactly as the old host would.
//
// # Example
//
// A complete program that plays one round between two robots and a human
// who never turns:
//
//	package main
//
//	import (
//		"fmt"
//		"log"
//
//		"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
//	)
//
//	func main() {
//		g, err := sim.New(sim.Config{Seed: 7, Players: []sim.PlayerConfig{
//			{ID: "ann", Colour: 0},
//			{ID: "bot1", Colour: 1, Robot: true},
//			{ID: "bot2", Colour: 2, Robot: true},
//		}})
//		if err != nil {
//			log.Fatal(err)
//		}
//		players := g.Players()
//		for {
//			o, stepped := g.Tick() // once per 1/60 s in a real game
//			if !stepped {
//				continue
//			}
//			for _, d := range o.Deaths {
//				fmt.Printf("step %d: %s derezzed at %v (%v)\n", o.Step, players[d.Player].ID, d.Cell, d.Cause)
//			}
//			if o.Over {
//				break
//			}
//		}
//		if winner, _ := g.Result(); winner >= 0 {
//			fmt.Println("winner:", players[winner].ID)
//		} else {
//			fmt.Println("draw")
//		}
//	}
package sim
