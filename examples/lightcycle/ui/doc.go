// Package ui is lightcycle's screen, drawn with Ebitengine: the lobby
// (glowing bikes, colour choice, ready-up), the play scene (the board
// rotated so the local bike starts at the bottom heading up, trails in each
// player's colour with a white head, derez effects and sounds) and the
// results (winner or draw, scores, next round).
//
// The screen draws a view.Match and sends it the player's input; it does
// not know whether the match is played offline (package offline) or over
// the network. Everything that can be computed without a display (palette,
// rotation, input mapping, effect timing, layout) lives in package view and
// is tested there; this package only reads devices and draws.
//
// Importing this package imports Ebitengine, whose initialisation needs a
// display (DESIGN.md decision 5): a program that must also run headless
// keeps its headless path in a package or binary that does not import ui.
// Its tests run under xvfb-run.
//
// A complete program that plays offline against three robots:
//
//	package main
//
//	import (
//		"log"
//
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui"
//		"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
//	)
//
//	func main() {
//		m := offline.New(offline.Config{Name: "ann", Robots: 3, Seed: 1})
//		if err := ui.Run(ui.Config{Match: m}); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// Controls: ←/→ or A/D turn (and pick a colour in the lobby), a click or
// touch on the left or right half of the screen turns that way, a gamepad's
// d-pad, shoulder buttons or left stick turn; Enter, Space, a click on the
// button or the gamepad's A button readies up; M mutes; F11 toggles full
// screen; Esc quits.
package ui
