//go:build !js

package webrtc

import (
	"testing"

	"github.com/pumpnet/pumpnet/internal/leaktest"
)

// Every goroutine a test starts (servers, peer connections, handshake
// watchers, stalled attackers) must end with it.
func TestMain(m *testing.M) { leaktest.Main(m) }
