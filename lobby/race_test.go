//go:build race

package lobby

// raceEnabled: the race detector is on. Its ThreadSanitizer runtime crashes
// (SIGSEGV in __tsan::SlotLock, or "ThreadSanitizer: CHECK failed") in the
// largest synctest bubbles of these tests, a Go bug (golang/go#78156,
// synctest with -race, open in go1.26); those cases run without -race
// (CI runs the lobby's tests once more without it).
const raceEnabled = true
