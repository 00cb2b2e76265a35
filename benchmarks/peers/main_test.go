package peers

import (
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
)

// helperEnv is the environment variable that makes this test binary a
// helper process (harness.Main): Peers_Throughput's senders ("tput") and
// Peers_Scale's clients ("scale") run in one, so that this process holds
// only the side being measured.
const helperEnv = "PUMPNET_PEERS_HELPER"

func TestMain(m *testing.M) {
	harness.Main(m, helperEnv, map[string]harness.Role{"tput": peersTput, "scale": peersScale})
}
