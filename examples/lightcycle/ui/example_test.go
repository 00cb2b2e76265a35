package ui_test

import (
	"log"

	"github.com/pumpnet/pumpnet/examples/lightcycle/ui"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/offline"
)

// Play offline against three robots in a window. (Not run by go test: it
// needs a display and a player.)
func ExampleRun() {
	m := offline.New(offline.Config{Name: "ann", Robots: 3, Seed: 1})
	if err := ui.Run(ui.Config{Match: m}); err != nil {
		log.Fatal(err)
	}
}
