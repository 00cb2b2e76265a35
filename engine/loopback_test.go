package engine

import (
	"context"
	"testing"
	"time"
)

// TestLoopbackChat runs a server and two clients on real sockets over
// 127.0.0.1: messages in every delivery mode, a broadcast, and a request.
func TestLoopbackChat(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := map[Mode]int{}
	if err := HandleFunc(srv, "chat", func(p *Peer, m chatMsg) {
		got[Mode(m.N)]++
		srv.Send(chatMsg{Action: "chat", Text: m.Text})
	}); err != nil {
		t.Fatal(err)
	}
	srv.Handle("time", func(p *Peer, m Msg) { p.Reply(Msg{"action": "time", "ok": true}) })

	var cls []*Client
	heard := make([]int, 2)
	for i := range 2 {
		cl, err := Connect(srv.ConnectString(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		HandleFunc(cl, "chat", func(_ *Client, m chatMsg) { heard[i]++ })
		cls = append(cls, cl)
	}
	// Both clients must be channels before the broadcasts start.
	for deadline := time.Now().Add(10 * time.Second); len(srv.Peers()) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("clients never connected")
		}
		srv.Pump()
		for _, c := range cls {
			c.Pump()
		}
		time.Sleep(time.Millisecond)
	}
	for _, mode := range []Mode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced} {
		if err := cls[0].Send(chatMsg{Action: "chat", Text: mode.String(), N: int(mode)}, mode); err != nil {
			t.Fatal(err)
		}
	}
	replied := false
	cls[1].Request(context.Background(), Msg{"action": "time"}, func(r Msg, err error) {
		if err != nil || r["ok"] != true {
			t.Errorf("reply %v %v", r, err)
		}
		replied = true
	}, Timeout(5*time.Second))
	deadline := time.Now().Add(10 * time.Second)
	for !(replied && heard[0] >= 2 && heard[1] >= 2 && got[ReliableOrdered] == 1 && got[ReliableUnordered] == 1) {
		if time.Now().After(deadline) {
			t.Fatalf("server got %v, clients heard %v, replied %v", got, heard, replied)
		}
		srv.Pump()
		for _, c := range cls {
			c.Pump()
		}
		time.Sleep(time.Millisecond)
	}
}
