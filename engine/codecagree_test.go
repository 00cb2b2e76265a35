package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/netcode"
)

// Issue 12, strict connections: a client and a server agree on the codec
// when connecting. A msgpack client and a JSON server (and the reverse)
// are closed before either sees the other: the client's "disconnected"
// error names both codecs, it gets no stream of decode errors, and the
// server's game never sees the client (no OnConnect, no "connected", no
// "error"). Matching codecs connect and exchange a message. Real sockets,
// through Listen and Connect.
func TestCodecAgreementAtConnect(t *testing.T) {
	mp, js := codec.Default(), codec.JSON(codec.Limits{})
	for _, tc := range []struct {
		name     string
		srv, cli codec.Codec
	}{
		{"msgpack client, json server", js, mp},
		{"json client, msgpack server", mp, js},
		{"json both", js, js},
		{"msgpack both", mp, mp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := Listen("127.0.0.1:0", &ServerConfig{Codec: tc.srv})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			var srvEvents []string
			var chats []string
			srv.OnConnect(func(*Peer) { srvEvents = append(srvEvents, "OnConnect") })
			srv.Handle("connected", func(*Peer, Msg) { srvEvents = append(srvEvents, "connected") })
			srv.Handle("error", func(_ *Peer, err error) { srvEvents = append(srvEvents, "error: "+err.Error()) })
			srv.Handle("chat", func(_ *Peer, m Msg) { chats = append(chats, m["text"].(string)) })

			cl, err := Connect(srv.ConnectString(), &ClientConfig{Codec: tc.cli})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			var r recorder
			if err := cl.Register(&r); err != nil {
				t.Fatal(err)
			}
			if err := cl.Send(Msg{"action": "chat", "text": "hi"}); err != nil {
				t.Fatal(err)
			}
			match := tc.srv.Name() == tc.cli.Name()
			deadline := time.Now().Add(15 * time.Second)
			for !r.has("disconnected") && !(match && r.has("connected") && len(chats) == 1) {
				if time.Now().After(deadline) {
					t.Fatalf("neither disconnected nor greeted: client events %v, server events %v", r.events, srvEvents)
				}
				srv.Pump()
				cl.Pump()
				time.Sleep(time.Millisecond)
			}
			if match {
				if len(srvEvents) != 2 || srvEvents[0] != "OnConnect" || srvEvents[1] != "connected" || chats[0] != "hi" {
					t.Fatalf("matching codecs: server events %v, chats %v", srvEvents, chats)
				}
				return
			}
			// Let the server run a while: nothing may reach its game.
			for range 50 {
				srv.Pump()
				time.Sleep(2 * time.Millisecond)
			}
			if len(srvEvents) != 0 || len(chats) != 0 {
				t.Errorf("the server's game saw a client of another codec: events %v, chats %v", srvEvents, chats)
			}
			if len(r.disc) != 1 {
				t.Fatalf("client: %d disconnected events", len(r.disc))
			}
			err = r.disc[0].Err
			var ce *netcode.CloseError
			if !errors.As(err, &ce) || ce.Code != netcode.CodeConfigMismatch {
				t.Fatalf("client disconnected with %v, want a CloseError with CodeConfigMismatch", err)
			}
			for _, want := range []string{"client \"" + ApplicationProtocol(tc.cli) + "\"", "server \"" + ApplicationProtocol(tc.srv) + "\""} {
				if !strings.Contains(err.Error(), want) || !strings.Contains(r.disc[0].Reason, want) {
					t.Errorf("client's disconnected (%q, err %q) does not name %s", r.disc[0].Reason, err, want)
				}
			}
			// One "error" (the failed connect), then "disconnected": no
			// decode errors.
			if len(r.errs) != 1 || strings.Join(r.events, " ") != "error disconnected" {
				t.Errorf("client events %v, errors %v; want [error disconnected]", r.events, r.errs)
			}
			if st := srv.Endpoint().Stats(); st.HandshakesFailed == 0 {
				t.Errorf("server endpoint: HandshakesFailed = 0, want the mismatch counted")
			}
		})
	}
}

// An endpoint made for another codec than the client's is a configuration
// error at Connect, not a connection closed later.
func TestConnectChecksEndpointCodec(t *testing.T) {
	ep, err := netcode.Listen("127.0.0.1:0", EndpointConfig(netcode.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	_, err = Connect("127.0.0.1:1", &ClientConfig{Endpoint: ep, Codec: codec.JSON(codec.Limits{}), InsecureAcceptAnyServer: true})
	if err == nil || !strings.Contains(err.Error(), "codec json") {
		t.Fatalf("Connect with a msgpack endpoint and the JSON codec = %v, want an error naming the codec", err)
	}
	nc := netcode.Config{Application: ApplicationProtocol(codec.JSON(codec.Limits{}))}
	ep2, err := netcode.Listen("127.0.0.1:0", EndpointConfig(nc))
	if err != nil {
		t.Fatal(err)
	}
	defer ep2.Close()
	c, err := Connect("127.0.0.1:1", &ClientConfig{Endpoint: ep2, Codec: codec.JSON(codec.Limits{}), InsecureAcceptAnyServer: true})
	if err != nil {
		t.Fatalf("Connect with a JSON endpoint and the JSON codec: %v", err)
	}
	c.Close()
}

// A peer that sends no application protocol (parameters version 0, as
// pumpnet did before strict connections) meets an engine server with a
// clear close at connect naming what each side sent, within the handshake,
// not a hang or a stream of decode errors.
func TestOldFormatPeerGetsClearError(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	old := netcode.Config{Channels: engineChannels} // no Application: version 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := netcode.Dial(ctx, srv.Addr().String(), &old, netcode.DialOptions{Fingerprint: srv.Fingerprint()})
	if err == nil {
		c.Close()
		t.Fatal("an old-format peer connected to an engine server")
	}
	var ce *netcode.CloseError
	if !errors.As(err, &ce) || ce.Code != netcode.CodeConfigMismatch ||
		!strings.Contains(ce.Reason, "client none") || !strings.Contains(ce.Reason, `server "`+ApplicationProtocol(nil)+`"`) {
		t.Fatalf("old-format peer: %v, want CodeConfigMismatch naming both sides", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("old-format peer told after %v", el)
	}
}
