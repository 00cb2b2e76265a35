//go:build !js

package webrtc_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

func loopback(a netip.Addr) bool { return a.IsLoopback() }

type line struct {
	Action string `msgpack:"action"`
	Text   string `msgpack:"text"`
	From   string `msgpack:"from"`
}

// The two transports' engine channel lists agree.
func TestEngineConfigMatchesTheEngine(t *testing.T) {
	native := engine.EndpointConfig(netcode.Config{}).Channels
	web := webrtc.EngineConfig(webrtc.Config{}).Channels
	if len(native) != len(web) {
		t.Fatalf("engine channels %v, webrtc.EngineConfig %v", native, web)
	}
	for i := range native {
		if uint8(native[i]) != uint8(web[i]) {
			t.Fatalf("channel %d: engine %v, webrtc %v", i, native[i], web[i])
		}
	}
}

// One engine.Server takes a native client (netcode) and a WebRTC client
// in the same game: each hears the other through the server, in reliable
// and unreliable modes; requests, Stats and disconnects work the same.
func TestServerTakesNativeAndWebRTCClients(t *testing.T) {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	wcfg := webrtc.EngineConfig(webrtc.Config{IPFilter: loopback})
	wsrv, err := webrtc.Listen("127.0.0.1:0", &webrtc.ServerConfig{Config: wcfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(wsrv); err != nil {
		t.Fatal(err)
	}
	// The server relays every line to the others, in the mode it came in
	// on (the text says which); it answers "who" requests.
	srv.OnConnect(func(p *engine.Peer) {
		switch p.Conn().(type) {
		case *netcode.Conn:
			p.Name = "native"
		case *webrtc.Conn:
			p.Name = "browser"
		}
	})
	var gone []string
	srv.OnDisconnect(func(p *engine.Peer, _ error) { gone = append(gone, p.Name) })
	engine.HandleFunc(srv, "line", func(p *engine.Peer, m line) {
		mode := engine.ReliableOrdered
		if m.Text == "unreliable" {
			mode = engine.Unreliable
		}
		m.From = p.Name
		if err := srv.Send(&m, engine.Except(p), mode); err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	srv.Handle("who", func(p *engine.Peer, m engine.Msg) { p.Reply(engine.Msg{"action": "you", "name": p.Name}) })

	native, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	browser, err := engine.Connect("webrtc "+wsrv.SignalURL(), &engine.ClientConfig{
		Dial: func(ctx context.Context) (netcode.Transport, error) {
			c, err := webrtc.Dial(ctx, wsrv.SignalURL(), &wcfg, webrtc.DialOptions{Fingerprint: wsrv.Fingerprint()})
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer browser.Close()
	heard := map[*engine.Client][]string{}
	for _, c := range []*engine.Client{native, browser} {
		engine.HandleFunc(c, "line", func(_ *engine.Client, m line) { heard[c] = append(heard[c], m.From+": "+m.Text) })
	}
	pump := func(d time.Duration, cond func() bool) bool {
		for deadline := time.Now().Add(d); time.Now().Before(deadline); {
			srv.Pump()
			native.Pump()
			browser.Pump()
			if cond() {
				return true
			}
			time.Sleep(time.Millisecond)
		}
		return false
	}
	if !pump(20*time.Second, func() bool { return native.Connected() && browser.Connected() && len(srv.Peers()) == 2 }) {
		t.Fatalf("not connected: native %v, browser %v, server peers %d", native.Connected(), browser.Connected(), len(srv.Peers()))
	}
	for _, c := range []*engine.Client{native, browser} {
		c.Send(&line{Action: "line", Text: "reliable"})
	}
	// Unreliable messages may be lost: send until one arrives each way.
	want := func(c *engine.Client, s string) bool { return slices.Contains(heard[c], s) }
	ok := pump(20*time.Second, func() bool {
		for _, c := range []*engine.Client{native, browser} {
			c.Send(&line{Action: "line", Text: "unreliable"}, engine.Unreliable)
		}
		return want(native, "browser: reliable") && want(browser, "native: reliable") &&
			want(native, "browser: unreliable") && want(browser, "native: unreliable")
	})
	if !ok {
		t.Fatalf("native heard %q, browser heard %q", heard[native], heard[browser])
	}
	var name string
	var reqErr error
	browser.Request(context.Background(), engine.Msg{"action": "who"}, func(r engine.Msg, err error) {
		name, _ = r["name"].(string)
		reqErr = err
	}, engine.Timeout(10*time.Second))
	if !pump(15*time.Second, func() bool { return name != "" || reqErr != nil }) || name != "browser" {
		t.Fatalf("the browser's request: %q, %v", name, reqErr)
	}
	if !pump(10*time.Second, func() bool { return browser.Stats().RTT > 0 }) {
		t.Errorf("browser client stats %+v: no RTT", browser.Stats())
	}
	for _, p := range srv.Peers() {
		if p.Fingerprint().IsZero() {
			t.Errorf("peer %s has no fingerprint", p.Name)
		}
	}
	browser.Shutdown(context.Background(), "bye")
	if !pump(10*time.Second, func() bool { return len(gone) == 1 }) || gone[0] != "browser" {
		t.Fatalf("disconnects seen: %q", gone)
	}
	// Closing the engine server closes the WebRTC listener it served.
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := wsrv.Accept(ctx); !errors.Is(err, webrtc.ErrServerClosed) {
		t.Errorf("Accept on the served listener after the engine server closed: %v", err)
	}
}
