//go:build !js

package webrtc

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// allModes is the engine's channel list.
var allModes = []DeliveryMode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced}

func loopbackOnly(a netip.Addr) bool { return a.IsLoopback() }

func testConfig() Config {
	return Config{Channels: allModes, IPFilter: loopbackOnly}
}

// listen starts a Server on 127.0.0.1 and closes it at the end of the test.
func listen(t *testing.T, sc *ServerConfig) *Server {
	t.Helper()
	if sc == nil {
		sc = &ServerConfig{Config: testConfig()}
	}
	s, err := Listen("127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pair dials s and accepts the connection.
func pair(t *testing.T, s *Server, cfg *Config) (client, server *Conn) {
	t.Helper()
	if cfg == nil {
		c := testConfig()
		cfg = &c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := Dial(ctx, s.SignalURL(), cfg, DialOptions{Fingerprint: s.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = s.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// recv waits for the next message on c.
func recv(t *testing.T, c *Conn, timeout time.Duration) (Message, bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if m, ok := c.Receive(); ok {
			return m, true
		}
		select {
		case <-c.Wake():
		case <-deadline:
			return Message{}, false
		}
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}
