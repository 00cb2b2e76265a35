// Package lan puts networked lightcycle (package game) on the screen: its
// Match implements view.Match over a *game.Game, so package ui draws a LAN
// game exactly as it draws an offline one.
//
// It maps the game's seat table and round to the screen's seats (the
// humans, the robots the host will seat, and in a round those who watch
// it), its crash events to derez effects, and its joins, leaves, host
// changes, results and problems to a status line and an optional log. Like
// package view it imports no graphics library, so it is tested without a
// display.
//
// A complete program: a LAN player without a window that readies up, lets
// the game's autopilot steer, and prints what happens (the window does the
// same through ui.Run):
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/engine"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/game"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui/lan"
//	)
//
//	func main() {
//		ctx := context.Background()
//		tr, err := game.JoinLAN(ctx, game.LANConfig{Name: "ann"})
//		if err != nil {
//			panic(err)
//		}
//		g, err := game.New(game.Config{Bots: 2, Autopilot: true}, tr)
//		if err != nil {
//			panic(err)
//		}
//		defer g.Close()
//		m := lan.New(g, 0, func(s string) { fmt.Println(s) })
//		engine.RunTicks(ctx, sim.TPS, func(uint64) {
//			m.Update()
//			m.Ready(true)
//		})
//	}
package lan
