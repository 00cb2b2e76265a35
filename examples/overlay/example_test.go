package overlay_test

import (
	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/overlay"
)

// game is any Ebitengine game with a connection.
type game struct {
	cl *engine.Client
	ov *overlay.Overlay
}

func (g *game) Update() error {
	g.cl.Pump()
	g.ov.Update([]overlay.Peer{{Name: "server", Stats: g.cl.Stats()}})
	return nil
}

func (g *game) Draw(screen *ebiten.Image) {
	// ... the game's own drawing, then:
	g.ov.Draw(screen)
}

func (g *game) Layout(int, int) (int, int) { return 640, 480 }

// An overlay that F3 or Tab toggles, drawn over a game.
func ExampleNew() {
	cl, err := engine.Connect("dtls://127.0.0.1:31426#...", nil)
	if err != nil {
		return
	}
	defer cl.Close()
	g := &game{cl: cl, ov: overlay.New(overlay.Options{Keys: []ebiten.Key{ebiten.KeyF3, ebiten.KeyTab}})}
	_ = ebiten.RunGame(g)
}
