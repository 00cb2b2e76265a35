package benchmarks

import (
	"testing"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
)

// helperEnv is the environment variable that makes this test binary a
// helper process (harness.Main): Throughput's senders ("tput"), Scale's
// clients ("scale"), IdleMemory's dialers ("idle") and its engine server
// ("idle-server", for the engine-client row) run in one, so that this
// process holds only the side being measured.
const helperEnv = "PUMPNET_BENCH_HELPER"

func TestMain(m *testing.M) {
	harness.Main(m, helperEnv, map[string]harness.Role{"idle": idleClients, "idle-server": idleServer})
}
