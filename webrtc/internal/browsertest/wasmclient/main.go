//go:build js && wasm

// Command wasmclient is the browser side of the browser test: built with
// GOOS=js GOARCH=wasm, it runs in a page, dials the test's server with the
// webrtc package (on the browser's RTCPeerConnection), exchanges messages
// on all four delivery modes, and writes what it saw as JSON into the
// page's #result element.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"syscall/js"
	"time"

	"github.com/pumpnet/pumpnet/webrtc"
)

// Result is what the page reports; the test decodes it.
type Result struct {
	Error             string `json:"error,omitempty"`
	ServerFingerprint string `json:"serverFingerprint"`
	Ordered           []int  `json:"ordered"`    // echo numbers on channel 0, in arrival order
	Unordered         int    `json:"unordered"`  // echoes on channel 1
	Unreliable        int    `json:"unreliable"` // echoes on channel 2
	Sequenced         []int  `json:"sequenced"`  // echo numbers on channel 3, in arrival order
	RTTMillis         float64
	CloseCode         uint64 `json:"closeCode"`
	CloseReason       string `json:"closeReason"`
	CloseRemote       bool   `json:"closeRemote"`
}

// N is how many messages the page sends per channel.
const N = 50

func main() {
	r := run()
	b, _ := json.Marshal(r)
	doc := js.Global().Get("document")
	el := doc.Call("getElementById", "result")
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
	fp, err := webrtc.ParseFingerprint(q.Get("fp"))
	if err != nil {
		r.Error = err.Error()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := &webrtc.Config{Channels: []webrtc.DeliveryMode{webrtc.ReliableOrdered, webrtc.ReliableUnordered, webrtc.Unreliable, webrtc.UnreliableSequenced}}
	c, err := webrtc.Dial(ctx, q.Get("signal"), cfg, webrtc.DialOptions{Fingerprint: fp})
	if err != nil {
		r.Error = "dial: " + err.Error()
		return
	}
	defer c.Close()
	r.ServerFingerprint = c.PeerFingerprint().String()
	for i := range N {
		for ch := uint8(0); ch < 4; ch++ {
			// Unreliable messages are paced a little, as a game sends them.
			if err := c.Send(ch, binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
				r.Error = fmt.Sprintf("send %d on %d: %v", i, ch, err)
				return
			}
		}
		if i%10 == 9 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := c.Send(0, []byte("done")); err != nil {
		r.Error = "send done: " + err.Error()
		return
	}
	// Echoes arrive until the server closes with a reason.
	for {
		for m, ok := c.Receive(); ok; m, ok = c.Receive() {
			if len(m.Data) != 4 {
				r.Error = fmt.Sprintf("echo of %d bytes on %d", len(m.Data), m.Channel)
				return
			}
			v := int(binary.BigEndian.Uint32(m.Data))
			switch m.Channel {
			case 0:
				r.Ordered = append(r.Ordered, v)
			case 1:
				r.Unordered++
			case 2:
				r.Unreliable++
			case 3:
				r.Sequenced = append(r.Sequenced, v)
			}
		}
		if c.Err() != nil {
			break
		}
		select {
		case <-c.Wake():
		case <-ctx.Done():
			r.Error = "no close from the server: " + ctx.Err().Error()
			return
		}
	}
	r.RTTMillis = float64(c.Stats().RTT) / float64(time.Millisecond)
	var ce *webrtc.CloseError
	if errors.As(c.Err(), &ce) {
		r.CloseCode, r.CloseReason, r.CloseRemote = uint64(ce.Code), ce.Reason, ce.Remote
	}
	return r
}
