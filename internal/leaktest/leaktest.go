// Package leaktest fails a test binary whose goroutines outlive its tests:
// every server, client, reader and process a test starts must be stopped
// by it (STYLE.md: every goroutine has one owner that stops it and waits
// for it). Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { leaktest.Main(m) }
package leaktest

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Grace is how long Main waits for goroutines to end after the tests pass.
const Grace = 5 * time.Second

// Main runs the tests and exits. If they passed but more goroutines are
// running than before them, once Grace has passed, it prints every
// goroutine's stack and exits with status 1.
func Main(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 && !settled(before, Grace, os.Stderr) {
		code = 1
	}
	os.Exit(code)
}

// settled waits up to grace for the goroutine count to fall back to
// before; if it does not, it writes the count and every stack to w and
// reports false.
func settled(before int, grace time.Duration, w io.Writer) bool {
	deadline := time.Now().Add(grace)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n := runtime.NumGoroutine()
	if n <= before {
		return true
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	fmt.Fprintf(w, "%d goroutines leaked (%d before the tests, %d after):\n%s\n", n-before, before, n,
		strings.TrimSpace(stacks))
	return false
}
