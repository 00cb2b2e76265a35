package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// TestNoLANSaysWhatToDo: in a network namespace with no interface but a
// loopback (a machine offline), joining the LAN fails with the cause and
// what to do about it: connect, -iface, or -local. The test creates the
// namespace and deletes it; without root it skips.
func TestNoLANSaysWhatToDo(t *testing.T) {
	netnstest.Skip(t)
	bin := netnstest.Build(t, "lightcycle-headless")
	ns := fmt.Sprintf("pumpnet-nolan-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, bin, "-name", "ann", "-rounds", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("joined a LAN with no network; stderr:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still running after 30 s; stderr:\n%s", stderr.String())
	}
	s := stderr.String()
	t.Logf("stderr: %s", s)
	for _, want := range []string{"no network interface to find players on", "-iface", "-local"} {
		if !strings.Contains(s, want) {
			t.Errorf("stderr lacks %q:\n%s", want, s)
		}
	}
}
