//go:build !race

package benchmarks

// raceEnabled is true under -race, whose runtime changes what memory
// measurements see (heap, stacks, sync.Pool).
const raceEnabled = false
