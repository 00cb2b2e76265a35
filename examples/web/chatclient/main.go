//go:build js

// Command chatclient is the chat example's client for the browser: built
// with GOOS=js GOARCH=wasm, it runs in the page examples/web serves, joins
// the chat room at the signaling address the page sets (the global
// pumpnetConnect, "https://host/signal#fingerprint") through the
// browser's RTCPeerConnection, and speaks the chat's protocol
// (examples/chat/chatroom). What arrives is appended to #log, one <div>
// per line ("who: message", "*** players: a, b"); #status says where the
// connection stands; the #chat form sends #line ("/nick NAME" renames).
// The nickname is the page's ?nick= parameter (default "browser").
package main

import (
	"net/url"
	"strings"
	"syscall/js"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/chat/chatroom"
	"github.com/pumpnet/pumpnet/examples/internal/termtext"
)

var doc = js.Global().Get("document")

func byID(id string) js.Value { return doc.Call("getElementById", id) }

// page is the chat's view on the page.
type page struct {
	log, status, line, send js.Value
}

// add appends a line to the log.
func (p *page) add(class, text string) {
	div := doc.Call("createElement", "div")
	div.Set("className", class)
	div.Set("textContent", text)
	p.log.Call("appendChild", div)
	div.Call("scrollIntoView", false)
}

func (p *page) setStatus(s string) { p.status.Set("textContent", s) }

func (p *page) enable(on bool) {
	p.line.Set("disabled", !on)
	p.send.Set("disabled", !on)
}

// view holds the client's handlers (engine.Client.Register).
type view struct {
	p    *page
	up   bool
	done bool
}

// Network_connected is the server's greeting.
func (v *view) Network_connected(engine.Msg) {
	v.up = true
	v.p.setStatus("connected")
	v.p.enable(true)
	v.p.line.Call("focus")
}

// Network_message shows a line of chat.
func (v *view) Network_message(m chatroom.ChatMsg) {
	v.p.add("message", termtext.Clean(m.Who, chatroom.MaxNickRunes)+": "+termtext.Clean(m.Message, chatroom.MaxMessageRunes))
}

// Network_players shows who is here.
func (v *view) Network_players(m chatroom.PlayersMsg) {
	names := make([]string, len(m.Players))
	for i, n := range m.Players {
		names[i] = termtext.Clean(n, chatroom.MaxNickRunes)
	}
	v.p.add("players", "*** players: "+strings.Join(names, ", "))
}

// Network_error shows an error of the connection.
func (v *view) Network_error(err error) {
	if v.up {
		v.p.add("error", "*** error: "+err.Error())
	}
}

// Network_disconnected ends the session.
func (v *view) Network_disconnected(d engine.Disconnected) {
	v.done = true
	v.p.enable(false)
	switch {
	case !v.up && d.Err != nil:
		v.p.setStatus("could not connect: " + d.Err.Error())
	case d.Reason != "":
		v.p.setStatus("disconnected: " + d.Reason)
	default:
		v.p.setStatus("disconnected")
	}
}

func main() {
	p := &page{log: byID("log"), status: byID("status"), line: byID("line"), send: byID("send")}
	target := js.Global().Get("pumpnetConnect")
	if target.Type() != js.TypeString || target.String() == "" {
		p.setStatus("the page sets no pumpnetConnect (the signaling URL#fingerprint)")
		return
	}
	nick := "browser"
	if q, err := url.ParseQuery(strings.TrimPrefix(js.Global().Get("location").Get("search").String(), "?")); err == nil && q.Get("nick") != "" {
		nick = q.Get("nick")
	}
	nick = termtext.Clean(nick, chatroom.MaxNickRunes)

	// The form hands typed lines to the pump loop.
	lines := make(chan string, 64)
	submit := js.FuncOf(func(this js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		text := p.line.Get("value").String()
		p.line.Set("value", "")
		select {
		case lines <- text:
		default: // the loop is behind: drop rather than block the page
		}
		return nil
	})
	defer submit.Release()
	byID("chat").Call("addEventListener", "submit", submit)

	p.setStatus("connecting...")
	cl, err := engine.Connect(target.String(), nil)
	if err != nil {
		p.setStatus("could not connect: " + err.Error())
		return
	}
	defer cl.Close()
	v := &view{p: p}
	if err := cl.Register(v); err != nil {
		p.setStatus(err.Error())
		return
	}
	if nick != "" {
		cl.Send(chatroom.NicknameMsg{Action: "nickname", Nickname: nick})
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !v.done {
		select {
		case line := <-lines:
			var err error
			if rest, ok := strings.CutPrefix(line, "/nick "); ok {
				if n := termtext.Clean(rest, chatroom.MaxNickRunes); n != "" {
					err = cl.Send(chatroom.NicknameMsg{Action: "nickname", Nickname: n})
				}
			} else if text := termtext.Clean(line, chatroom.MaxMessageRunes); text != "" {
				err = cl.Send(chatroom.ChatMsg{Action: "message", Message: text})
			}
			if err != nil {
				p.add("error", "*** error: "+err.Error())
			}
		case <-cl.Wake():
		case <-tick.C:
		}
		cl.Pump()
	}
	select {} // keep the page's handlers alive
}
