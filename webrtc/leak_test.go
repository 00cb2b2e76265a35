//go:build !js

package webrtc

import (
	"flag"
	"os"
	"testing"

	"github.com/pumpnet/pumpnet/internal/leaktest"
)

// Every goroutine a test starts (servers, peer connections, handshake
// watchers, stalled attackers) must end with it. Not while fuzzing: go
// test's fuzzing coordinator keeps a goroutine of its own (os/signal) to
// the end. Nor in a NAT test's helper process (this binary re-executed
// inside a rig namespace as a peer or the public host): it exits when its
// part is done, with its HTTP client's idle connections still open.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run())
	}
	if os.Getenv("PUMPNET_WEBRTC_NAT_ROLE") != "" {
		os.Exit(m.Run())
	}
	leaktest.Main(m)
}
