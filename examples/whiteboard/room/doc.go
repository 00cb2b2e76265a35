// Package room is the whiteboard on the network, without a window: the
// server (Listen, Serve) and a client (Connect) that keeps a copy of the
// board and turns pen strokes into messages. The window in
// examples/whiteboard draws a Client; the tests drive Clients directly, and
// the headless server command runs Serve, so neither needs a display.
//
// The server numbers players "1", "2", ... as they join (at most
// board.MaxPlayers at once; others are told the whiteboard is full),
// colours them with board.ColourFor, sends each newcomer "initial" (the
// whole board, the newcomer included) and then everyone "players". It
// relays each "startline" and "drawpoint" to everyone, the sender
// included, with the sender's id, after applying it to its own board; a
// "drawpoint" without a "startline" is dropped. When a player leaves,
// everyone gets "players" without them, and drops their drawing. Both ends
// use Codec(), whose limits hold the largest board.
//
// # A complete program
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"time"
//
//		"github.com/pumpnet/pumpnet/examples/whiteboard/board"
//		"github.com/pumpnet/pumpnet/examples/whiteboard/room"
//	)
//
//	func main() {
//		srv, err := room.Listen("127.0.0.1:0", nil)
//		if err != nil {
//			panic(err)
//		}
//		defer srv.Close("bye")
//		cl, err := room.Connect(srv.ConnectString(), nil)
//		if err != nil {
//			panic(err)
//		}
//		defer cl.Close()
//		cl.PenDown(board.Point{10, 10}) // queued until connected
//		cl.PenUp(board.Point{50, 40})
//		for len(cl.Board().Lines("1")) == 0 || len(cl.Board().Lines("1")[0]) < 2 {
//			srv.Pump()
//			cl.Pump()
//			time.Sleep(time.Millisecond)
//		}
//		// Prints: connected 1 player [[[10 10] [50 40]]]
//		fmt.Println(cl.Status(0), cl.PlayersLabel(), cl.Board().Lines("1"))
//		cl.Leave(context.Background())
//	}
package room
