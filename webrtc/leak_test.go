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
// the end.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run())
	}
	leaktest.Main(m)
}
