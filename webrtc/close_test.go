//go:build !js

package webrtc

import "testing"

// Close of a server that served a connection reports no error of its own
// making (the mux had already closed the socket: "use of closed network
// connection" surfaced through engine.Server.Shutdown).
func TestServerCloseIsClean(t *testing.T) {
	s, err := Listen("127.0.0.1:0", &ServerConfig{Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	pair(t, s, nil)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
