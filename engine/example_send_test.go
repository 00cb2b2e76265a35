package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// Position is an unreliable state message.
type Position struct {
	Action string `msgpack:"action"`
	X, Y   int
}

// Send's options: a delivery mode, and on a server To or Except. A chat
// server echoes each line to everyone but its author; positions go
// unreliably.
func ExampleServer_Send() {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	err = engine.HandleFunc(srv, "chat", func(p *engine.Peer, m Chat) {
		if err := srv.Send(&m, engine.Except(p)); err != nil { // all but the author
			fmt.Println(err)
		}
		if err := srv.Send(&Position{Action: "pos", X: 1, Y: 2}, engine.To(p), engine.Unreliable); err != nil {
			fmt.Println(err)
		}
		// A mode given twice is an error, not a silent choice.
		fmt.Println(srv.Send(&m, engine.Unreliable, engine.ReliableOrdered))
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	cl, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	done := false
	engine.HandleFunc(cl, "chat", func(_ *engine.Client, m Chat) { fmt.Println("echo to the author?", m.Text) })
	engine.HandleFunc(cl, "pos", func(_ *engine.Client, m Position) {
		fmt.Println("position", m.X, m.Y)
		done = true
	})
	cl.Send(&Chat{Action: "chat", Text: "hi"})
	for deadline := time.Now().Add(5 * time.Second); !done && time.Now().Before(deadline); {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output:
	// engine: bad send option: two delivery modes (unreliable, then reliable-ordered)
	// position 1 2
}

// Score is a typed reply.
type Score struct {
	Action string `msgpack:"action"`
	Points int    `msgpack:"points"`
}

// RequestFunc decodes the reply into a struct; the Timeout option bounds
// the wait.
func ExampleRequestFunc() {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	srv.Handle("score", func(p *engine.Peer, m engine.Msg) {
		p.Reply(&Score{Action: "score", Points: 42})
	})
	cl, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	done := false
	err = engine.RequestFunc(context.Background(), cl, engine.Msg{"action": "score"}, func(s Score, err error) {
		fmt.Println(s.Points, err)
		done = true
	}, engine.Timeout(2*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	for deadline := time.Now().Add(5 * time.Second); !done && time.Now().Before(deadline); {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output: 42 <nil>
}
