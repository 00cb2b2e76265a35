//go:build !race

package lobby

const raceEnabled = false
