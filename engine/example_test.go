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
	err = engine.HandleFunc(srv, "chat", func(p *engine.Peer, m Chat) {
		if err := srv.Send(Chat{Action: "chat", Text: "echo: " + m.Text}); err != nil {
			fmt.Println(err)
		}
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
	err = engine.HandleFunc(cl, "chat", func(_ *engine.Client, m Chat) {
		fmt.Println(m.Text)
		done = true
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := cl.Send(Chat{Action: "chat", Text: "hello"}); err != nil { // queued until connected
		fmt.Println(err)
		return
	}
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
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Handle("chat", func(p *engine.Peer, m engine.Msg) {
		if err := p.Send(m); err != nil {
			fmt.Println(err)
		}
	}); err != nil {
		fmt.Println(err)
		return
	}

	cl, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := cl.Register(Listener{}); err != nil {
		fmt.Println(err)
		return
	}
	if err := cl.Send(engine.Msg{"action": "chat", "text": "hi"}); err != nil {
		fmt.Println(err)
		return
	}
	got := false
	if err := cl.Handle("chat", func(engine.Msg) { got = true }); err != nil {
		fmt.Println(err)
		return
	}
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
	if err := srv.Shutdown(ctx, "server closed"); err != nil {
		fmt.Println(err)
	}
	for deadline := time.Now().Add(5 * time.Second); cl.Connected() && time.Now().Before(deadline); {
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output:
	// connected
	// chat: hi
	// disconnected: server closed
}
