// Package overlay is an in-game network overlay that any Ebitengine game
// can draw on top of its screen: for each peer, its RTT and jitter, loss,
// bandwidth in (↓) and out (↑), and a scrolling graph of its RTT. A key
// (F3 unless Options.Keys says otherwise) shows and hides it.
//
// The statistics come from netcode.Stats, which engine.Client.Stats and
// engine.Peer.Stats return. The history behind the graph, its scaling
// and the text live in examples/overlay/history, which has no graphics, so
// most of the overlay is tested without a display; this package only
// reads the keys and draws. Like every package that imports Ebitengine,
// its tests need a display (xvfb-run -a go test).
//
// # A complete program
//
// A client whose window shows the overlay for its connection (the
// server's connect string on the command line):
//
//	package main
//
//	import (
//		"os"
//
//		"github.com/hajimehoshi/ebiten/v2"
//		"github.com/pumpnet/pumpnet/engine"
//		"github.com/pumpnet/pumpnet/examples/overlay"
//	)
//
//	type game struct {
//		cl *engine.Client
//		ov *overlay.Overlay
//	}
//
//	func (g *game) Update() error {
//		g.cl.Pump()
//		g.ov.Update([]overlay.Peer{{Name: "server", Stats: g.cl.Stats()}})
//		return nil
//	}
//
//	func (g *game) Draw(screen *ebiten.Image) {
//		// ... the game ...
//		g.ov.Draw(screen)
//	}
//
//	func (g *game) Layout(int, int) (int, int) { return 640, 480 }
//
//	func main() {
//		cl, err := engine.Connect(os.Args[1], nil)
//		if err != nil {
//			panic(err)
//		}
//		defer cl.Close()
//		g := &game{cl: cl, ov: overlay.New(overlay.Options{Keys: []ebiten.Key{ebiten.KeyF3, ebiten.KeyTab}})}
//		if err := ebiten.RunGame(g); err != nil {
//			panic(err)
//		}
//	}
package overlay
