//go:build !js

package engine

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

// Connect with a signaling URL: a native build explains what to do; with
// the browser build's dialer (webdial_js.go, the same code installed here)
// the client connects over WebRTC, the fragment pinning the server's key.
func TestConnectSignalURL(t *testing.T) {
	if _, err := Connect("http://127.0.0.1:1/#"+strings.Repeat("ab", 32), nil); err == nil || !strings.Contains(err.Error(), "ClientConfig.Dial") {
		t.Fatalf("native Connect with a signaling URL: %v, want an error pointing to ClientConfig.Dial", err)
	}
	if _, err := Connect("http://127.0.0.1:1/#nothex", nil); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("bad fragment: %v", err)
	}

	loop := func(a netip.Addr) bool { return a.IsLoopback() }
	webDial = func(url string, fp netcode.Fingerprint, insecure bool) func(ctx context.Context) (netcode.Transport, error) {
		cfg := webrtc.EngineConfig(webrtc.Config{IPFilter: loop})
		return func(ctx context.Context) (netcode.Transport, error) {
			c, err := webrtc.Dial(ctx, url, &cfg, webrtc.DialOptions{Fingerprint: fp, InsecureAcceptAnyServer: insecure})
			if err != nil {
				return nil, err
			}
			return c, nil
		}
	}
	defer func() { webDial = nil }()

	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	wsrv, err := webrtc.Listen("127.0.0.1:0", &webrtc.ServerConfig{Config: webrtc.EngineConfig(webrtc.Config{IPFilter: loop})})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(wsrv); err != nil {
		t.Fatal(err)
	}
	srv.Handle("ping", func(p *Peer, m Msg) { p.Send(Msg{"action": "pong"}) })

	// The wrong key is refused; the right one connects.
	var wrong netcode.Fingerprint
	wrong[0] = 1
	for _, tc := range []struct {
		fp   netcode.Fingerprint
		want bool
	}{{wrong, false}, {wsrv.Fingerprint(), true}} {
		c, err := Connect(wsrv.SignalURL()+"#"+tc.fp.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		pong, ended := false, false
		c.Handle("pong", func(Msg) { pong = true })
		c.Handle("disconnected", func(Msg) { ended = true })
		c.Send(Msg{"action": "ping"})
		for deadline := time.Now().Add(20 * time.Second); !pong && !ended && time.Now().Before(deadline); {
			srv.Pump()
			c.Pump()
			time.Sleep(time.Millisecond)
		}
		c.Close()
		if pong != tc.want {
			t.Errorf("pinning %v: got the pong %v, want %v (ended %v)", tc.fp, pong, tc.want, ended)
		}
	}
}
