//go:build unix

package harness

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user + system, every thread) the
// process has used so far, from getrusage(RUSAGE_SELF).
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
