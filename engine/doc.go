// Package engine is the PodSixNet model in Go: what game code touches.
//
// A Server accepts clients and gives each a Channel (Channel.Value holds the
// game's state for that player). A Client connects to a server. Both
// dispatch messages to handlers by the message's "action": methods named
// Network_<action> on registered listeners (found by reflection once, at
// Register; the catch-all Network gets every message too), handlers added
// with Handle, and typed handlers added with HandleFunc, which decode
// straight into a struct. Every handler runs inside Pump, on the goroutine
// that calls it — once per frame from Ebitengine's Update, or from a
// headless server's tick loop — so game code needs no locks.
//
// # A complete program
//
//	package main
//
//	import (
//		"fmt"
//		"os"
//		"time"
//
//		"github.com/pumpnet/pumpnet/engine"
//	)
//
//	type Chat struct {
//		Action string `msgpack:"action"`
//		Text   string `msgpack:"text"`
//	}
//
//	func main() {
//		srv, err := engine.Listen("127.0.0.1:0", nil)
//		if err != nil {
//			fmt.Println(err)
//			os.Exit(1)
//		}
//		defer srv.Close()
//		engine.HandleFunc(srv, "chat", func(ch *engine.Channel, m Chat) {
//			srv.SendAll(Chat{Action: "chat", Text: "echo: " + m.Text})
//		})
//
//		cl, err := engine.Connect(srv.ConnectString(), nil)
//		if err != nil {
//			fmt.Println(err)
//			os.Exit(1)
//		}
//		defer cl.Close()
//		done := false
//		engine.HandleFunc(cl, "chat", func(_ *engine.Client, m Chat) {
//			fmt.Println(m.Text)
//			done = true
//		})
//		cl.Send(Chat{Action: "chat", Text: "hello"}) // queued until connected
//		for !done {
//			srv.Pump()
//			cl.Pump()
//			time.Sleep(time.Millisecond)
//		}
//	}
//
// # Events
//
// Besides the peer's messages, handlers receive built-in events:
// "connected" (a client: the server's greeting; a server: a new client),
// "socketConnect" (a client: the secure connection is up), "disconnected"
// (always the last event of a connection, whatever ended it; its reason
// says why) and "error" (a Go error: match it with errors.Is/As). A panic in
// a server handler is recovered, reported as an "error" event, and closes
// only that client's channel.
//
// # Sending
//
// Send queues a message (a Msg map or a struct with an Action field) and
// returns at once; Pump flushes everything queued, packed into one datagram
// per peer per frame where it fits (and a timer flushes within 5 ms when the
// game does not pump). A client's messages sent before its connection is up
// wait, in order. Each send may pick a delivery mode: ReliableOrdered (the
// default), ReliableUnordered, Unreliable, UnreliableSequenced. Servers send
// to one channel (Channel.Send), a list (SendTo) or all (SendAll).
//
// # Requests
//
// Request sends a message whose handler may answer with Reply (or later
// with ReplyTo and the RequestID it kept); the callback runs inside Pump
// with the reply, ErrRequestTimeout, or ErrRemote when the peer had no
// handler. A server handler can Forward a request to another channel; the
// final answer reaches the original requester.
//
// # Loops
//
// A game calls Pump once per frame. A headless server either sleeps until
// traffic arrives (PumpWait) or runs a fixed-rate simulation with RunTicks,
// which schedules ticks against a fixed start so the rate never drifts.
//
// # Wire format
//
// Each message travels in one netcode message: a kind byte (0 message,
// 1 request, 2 reply, 3 failed request), a varint request ID for kinds 1-3,
// then the codec payload (msgpack by default). The engine opens one netcode
// channel per delivery mode, numbered as the Mode constants.
package engine
