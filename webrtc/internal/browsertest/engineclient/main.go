//go:build js && wasm

// Command engineclient is the browser side of the engine browser test:
// built with GOOS=js GOARCH=wasm, it runs in a page as an engine.Client
// (engine.Connect with the page's signaling URL, over the browser's
// RTCPeerConnection), sends numbered lines in reliable and unreliable
// modes to the test's engine server, which relays them to a native client,
// collects the native client's lines, and writes what it saw as JSON into
// the page's #result element.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"syscall/js"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// Line is the test's message (the native side sends the same).
type Line struct {
	Action string `msgpack:"action"`
	Text   string `msgpack:"text"`
}

// Result is what the page reports; the test decodes it.
type Result struct {
	Error      string   `json:"error,omitempty"`
	Reliable   []string `json:"reliable"`   // native lines sent reliably, in arrival order
	Unreliable int      `json:"unreliable"` // native lines sent unreliably that arrived
	RTTMillis  float64  `json:"rttMillis"`
}

// N is how many reliable lines each side sends.
const N = 20

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
	cl, err := engine.Connect(q.Get("signal")+"#"+q.Get("fp"), nil)
	if err != nil {
		r.Error = "connect: " + err.Error()
		return
	}
	defer cl.Close()
	ended := ""
	cl.Handle("disconnected", func(m engine.Msg) { ended = fmt.Sprint(m["reason"]) })
	engine.HandleFunc(cl, "line", func(_ *engine.Client, m Line) {
		switch {
		case strings.HasPrefix(m.Text, "native-rel-"):
			r.Reliable = append(r.Reliable, m.Text)
		case strings.HasPrefix(m.Text, "native-unrel-"):
			r.Unreliable++
		}
	})
	for i := range N {
		cl.Send(&Line{Action: "line", Text: fmt.Sprintf("browser-rel-%d", i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for i := 0; ctx.Err() == nil && ended == ""; i++ {
		if cl.Connected() {
			// Unreliable lines may be lost: keep sending until the test's
			// deadline; the native side counts what arrives.
			cl.Send(&Line{Action: "line", Text: fmt.Sprintf("browser-unrel-%d", i)}, engine.Unreliable)
		}
		if len(r.Reliable) == N && r.Unreliable > 0 && i > 40 {
			break
		}
		cl.PumpWait(ctx, 50*time.Millisecond)
	}
	r.RTTMillis = float64(cl.Stats().RTT) / float64(time.Millisecond)
	if len(r.Reliable) < N || r.Unreliable == 0 {
		r.Error = fmt.Sprintf("got %d of %d reliable lines and %d unreliable (ended: %q, ctx: %v)", len(r.Reliable), N, r.Unreliable, ended, ctx.Err())
	}
	return
}
