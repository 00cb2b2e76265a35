//go:build !unix && !windows

package benchmarks

import "time"

// processCPU cannot be measured here: CPU metrics are not reported.
func processCPU() time.Duration { return -1 }
