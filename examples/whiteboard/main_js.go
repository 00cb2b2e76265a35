//go:build js

package main

import (
	"context"
	"fmt"
	"os"
	"syscall/js"
	"time"

	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

// main, in a browser, opens the whiteboard on the server whose signaling
// address the page sets in the global pumpnetConnect
// ("https://host/signal#fingerprint"; examples/web writes it). What the
// client logs goes to the browser's console.
func main() {
	target := js.Global().Get("pumpnetConnect")
	if target.Type() != js.TypeString || target.String() == "" {
		fmt.Fprintln(os.Stderr, "whiteboard: the page sets no pumpnetConnect (the signaling URL#fingerprint)")
		return
	}
	if err := browse(target.String()); err != nil {
		fmt.Fprintln(os.Stderr, "whiteboard:", err)
	}
}

// browse runs the window on the server at target (a signaling URL with
// the server's fingerprint as fragment) until it quits. It blocks.
func browse(target string) error {
	c, err := room.Connect(target, &room.ClientConfig{Log: os.Stdout})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf("whiteboard: connecting to %s\n", target)
	// The window draws its own status line: the page's loading note goes.
	if el := js.Global().Get("document").Call("getElementById", "status"); !el.IsNull() {
		el.Call("remove")
	}
	g := newGame(context.Background(), c, clientOptions{}, os.Stdout)
	if err := play(g); err != nil {
		return err
	}
	if c.State() == room.Connected {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.Leave(ctx)
	}
	return g.err
}
