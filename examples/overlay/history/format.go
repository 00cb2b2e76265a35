package history

import (
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// Format returns one line about a connection:
//
//	RTT 12.3 ms ±0.8  loss 0.0%  ↓ 3.1 kB/s ↑ 2.8 kB/s
//
// the smoothed round-trip time and its jitter in milliseconds, the recent
// loss, and the bytes per second received (↓) and sent (↑) on the wire.
func Format(s netcode.Stats) string {
	return fmt.Sprintf("RTT %s ms ±%s  loss %.1f%%  ↓ %s ↑ %s",
		millis(s.RTT), millis(s.Jitter), 100*min(max(s.Loss, 0), 1), Rate(s.BytesInPerSec), Rate(s.BytesOutPerSec))
}

// millis formats d in milliseconds with one decimal.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

// Rate formats bytes per second with SI units: "512 B/s", "3.1 kB/s",
// "12.0 MB/s", "1.2 GB/s".
func Rate(bytesPerSec uint64) string {
	v := float64(bytesPerSec)
	switch {
	case bytesPerSec < 1000:
		return fmt.Sprintf("%d B/s", bytesPerSec)
	case v < 999.95e3:
		return fmt.Sprintf("%.1f kB/s", v/1e3)
	case v < 999.95e6:
		return fmt.Sprintf("%.1f MB/s", v/1e6)
	default:
		return fmt.Sprintf("%.1f GB/s", v/1e9)
	}
}
