package leaktest

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSettledReportsALeak(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := make(chan struct{})
	go func() { <-stop }() // leaked until the end of this test
	var out bytes.Buffer
	if settled(before, 50*time.Millisecond, &out) {
		t.Fatal("a goroutine still running was not reported")
	}
	if !strings.Contains(out.String(), "1 goroutines leaked") || !strings.Contains(out.String(), "TestSettledReportsALeak") {
		t.Errorf("report: %.300s", out.String())
	}
	close(stop)
	out.Reset()
	if !settled(before, 5*time.Second, &out) {
		t.Errorf("the goroutine ended, yet: %.300s", out.String())
	}
}
