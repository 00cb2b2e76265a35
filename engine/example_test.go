package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

type Chat struct {
	Action string `msgpack:"action"`
	Text   string `msgpack:"text"`
}

// A server that echoes chat lines to everyone, and a client, in one
// process over 127.0.0.1.
func Example() {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	engine.HandleFunc(srv, "chat", func(ch *engine.Channel, m Chat) {
		srv.SendAll(Chat{Action: "chat", Text: "echo: " + m.Text})
	})

	cl, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	done := false
	engine.HandleFunc(cl, "chat", func(_ *engine.Client, m Chat) {
		fmt.Println(m.Text)
		done = true
	})
	cl.Send(Chat{Action: "chat", Text: "hello"}) // queued until connected
	for deadline := time.Now().Add(5 * time.Second); !done && time.Now().Before(deadline); {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output: echo: hello
}

// Listener is a PodSixNet-style listener: its Network_<action> methods are
// found once, at Register.
type Listener struct{}

func (Listener) Network_connected(m engine.Msg)    { fmt.Println("connected") }
func (Listener) Network_chat(m Chat)               { fmt.Println("chat:", m.Text) }
func (Listener) Network_disconnected(m engine.Msg) { fmt.Println("disconnected:", m["reason"]) }

func ExampleClient_Register() {
	srv, _ := engine.Listen("127.0.0.1:0", nil)
	srv.Handle("chat", func(ch *engine.Channel, m engine.Msg) { ch.Send(m) })

	cl, _ := engine.Connect(srv.ConnectString(), nil)
	if err := cl.Register(Listener{}); err != nil {
		fmt.Println(err)
		return
	}
	cl.Send(engine.Msg{"action": "chat", "text": "hi"})
	got := false
	cl.Handle("chat", func(engine.Msg) { got = true })
	for deadline := time.Now().Add(5 * time.Second); !got && time.Now().Before(deadline); {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Shutdown, not Close: the client's echo is acknowledged first, so the
	// client sees a normal close (Close would tell it that unacknowledged
	// data was discarded).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx, "server closed")
	for deadline := time.Now().Add(5 * time.Second); cl.Connected() && time.Now().Before(deadline); {
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output:
	// connected
	// chat: hi
	// disconnected: server closed
}
