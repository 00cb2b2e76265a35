//go:build race

package netcode

// raceEnabled widens real-time latency bounds: the race detector slows
// every goroutine of the process (attacker, server and client alike) about
// tenfold.
const raceEnabled = true
