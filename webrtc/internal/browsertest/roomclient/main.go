//go:build js && wasm

// Command roomclient is the browser side of the lobby room test: built
// with GOOS=js GOARCH=wasm, it runs in a page as a lobby session that
// joins a rendezvous room by its code (lobby.Config.Rendezvous and Room),
// connects to the native member it finds there over the browser's
// RTCPeerConnection, sends it a chat and a request, answers its request,
// and writes what it saw as JSON into the page's #result element.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"syscall/js"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby"
)

// Result is what the page reports; the test decodes it.
type Result struct {
	Error  string `json:"error,omitempty"`
	ID     string `json:"id"`     // this session's identity
	Added  string `json:"added"`  // the peer added: name
	PeerID string `json:"peerID"` // and identity
	Chat   string `json:"chat"`   // the native member's chat
	Reply  string `json:"reply"`  // its reply to this member's request
	Asked  bool   `json:"asked"`  // it asked this member, who replied
}

type room struct {
	s *lobby.Session
	r *Result
}

func (m *room) PeerAdded(p *lobby.Peer) {
	m.r.Added, m.r.PeerID = p.Name, p.Fingerprint().String()
	m.s.Send(engine.Msg{"action": "chat", "text": "hello from the browser"}, engine.To(p))
	p.Request(context.Background(), engine.Msg{"action": "ask", "text": "browser's question"}, func(rep engine.Msg, err error) {
		if err != nil {
			m.r.Reply = "error: " + err.Error()
			return
		}
		m.r.Reply = fmt.Sprint(rep["text"])
	}, engine.Timeout(30*time.Second))
}

func (m *room) Network_chat(p *lobby.Peer, msg engine.Msg) { m.r.Chat = fmt.Sprint(msg["text"]) }

func (m *room) Network_ask(p *lobby.Peer, msg engine.Msg) {
	p.Reply(engine.Msg{"action": "answer", "text": fmt.Sprintf("re: %v from the browser", msg["text"])})
	m.r.Asked = true
}

func main() {
	r := run()
	b, _ := json.Marshal(r)
	el := js.Global().Get("document").Call("getElementById", "result")
	el.Set("textContent", string(b))
	el.Call("setAttribute", "data-done", "1")
	select {}
}

func run() (r Result) {
	q, err := url.ParseQuery(js.Global().Get("location").Get("search").String()[1:])
	if err != nil {
		r.Error = err.Error()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := lobby.Join(ctx, lobby.Config{DisplayName: "browser", ServiceType: "test-game",
		Rendezvous: q.Get("rdv"), Room: q.Get("room")})
	if err != nil {
		r.Error = "join: " + err.Error()
		return
	}
	// The session stays open (main blocks after reporting), so that the
	// native member's last messages are not cut off by a close.
	r.ID = s.ID().String()
	m := &room{s: s, r: &r}
	if err := s.Register(m); err != nil {
		r.Error = err.Error()
		return
	}
	for ctx.Err() == nil && (r.Chat == "" || r.Reply == "" || !r.Asked) {
		s.PumpWait(ctx, 50*time.Millisecond)
	}
	if ctx.Err() != nil {
		r.Error = "timed out"
	}
	go func() {
		for {
			s.PumpWait(context.Background(), 0) // keep answering
		}
	}()
	return r
}
