//go:build !unix && !windows

package harness

import "time"

// ProcessCPU cannot be measured here: CPU metrics are not reported.
func ProcessCPU() time.Duration { return -1 }
