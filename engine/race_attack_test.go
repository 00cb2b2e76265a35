//go:build race

package engine

// raceEnabled: real-time latency tests skip under the race detector, which
// slows every goroutine of the process (attacker, server and client alike)
// on the same cores.
const raceEnabled = true
