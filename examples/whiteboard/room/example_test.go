package room_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

// A server and one headless player in one program: the player's stroke
// comes back from the server with the player's id.
func Example() {
	srv, err := room.Listen("127.0.0.1:0", nil)
	if err != nil {
		panic(err)
	}
	defer func() {
		srv.Close("bye")
		srv.Pump()
	}()
	cl, err := room.Connect(srv.ConnectString(), nil)
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	cl.PenDown(board.Point{10, 10}) // queued until connected
	cl.PenUp(board.Point{50, 40})
	for lines := cl.Board().Lines("1"); len(lines) == 0 || len(lines[0]) < 2; lines = cl.Board().Lines("1") {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	fmt.Println(cl.Status(0), cl.PlayersLabel(), cl.Board().Lines("1"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cl.Leave(ctx)
	// Output: connected 1 player [[[10 10] [50 40]]]
}
