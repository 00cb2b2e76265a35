// Package view is the display-independent half of lightcycle's screen: what
// the screen draws from and where input goes (Match, State), and the maths
// behind the pictures: the colour palette, the board rotation that puts the
// local player at the bottom heading up, trails as straight segments, the
// derez effect's timing, input mapping (relative turns from keys, pointer
// halves and gamepad sticks) and the lobby's hit areas.
//
// It imports no graphics library, so it is unit-tested without a display,
// and a network driver can implement Match without pulling Ebitengine into
// a headless build. Package ui draws it with Ebitengine.
//
// # Contract between a driver and the screen
//
// The screen calls Match.Update once per tick (60 per second) and then
// State; between Updates it may call Turn, Claim and Ready as the player
// presses keys. All calls come from one goroutine (Ebitengine's update
// loop), so a Match needs no locks, and none of them may block: a network
// driver pumps its connections inside Update.
//
// A complete program that drives a Match without a screen, in the way the
// screen does:
//
//	package main
//
//	import (
//		"fmt"
//		"log"
//
//		"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
//	)
//
//	func main() {
//		var m view.Match = offline.New(offline.Config{Name: "ann", Robots: 3, Seed: 1})
//		m.Claim(5) // blue
//		m.Ready(true)
//		for range 60 * 60 { // one minute of ticks
//			if err := m.Update(); err != nil {
//				log.Fatal(err)
//			}
//			s := m.State()
//			if s.Scene == view.ScenePlay && s.Countdown == 0 && s.Game.Steps() == 20 {
//				m.Turn(sim.TurnLeft)
//			}
//			for _, d := range s.Deaths {
//				fmt.Println("derez at", d.Cell)
//			}
//			if s.Scene == view.SceneResults {
//				break
//			}
//		}
//	}
package view
