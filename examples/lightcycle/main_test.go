package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// These tests link package ui and so Ebitengine: run them under xvfb-run.
// The flags themselves are tested in internal/cli, without a display.

func TestOfflineConfig(t *testing.T) {
	o, err := parseFlags([]string{"-local", "-bots", "5", "-name", "ann", "-seed", "42", "-mute"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := offlineConfig(o)
	if cfg.Robots != 5 || cfg.Name != "ann" || cfg.Seed != 42 || cfg.Watch {
		t.Errorf("offline config = %+v", cfg)
	}
	if o, _ := parseFlags([]string{"-local"}, &bytes.Buffer{}); offlineConfig(o).Robots != 3 || o.SeedSet || o.Name == "" {
		t.Errorf("-local alone: %d robots, seedSet %v, name %q; want 3 robots, a clock seed and the login name", offlineConfig(o).Robots, o.SeedSet, o.Name)
	}
	if o, _ := parseFlags([]string{"-local", "-bots", "0"}, &bytes.Buffer{}); offlineConfig(o).Robots != 0 {
		t.Error("-bots 0 is not a practice game")
	}
}

func TestLANConfig(t *testing.T) {
	o, err := parseFlags([]string{"-name", "bob", "-colour", "2", "-bots", "3", "-autopilot"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := lanConfig(o)
	if cfg.Name != "bob" || cfg.Colour != 2 || cfg.Bots != 3 || !cfg.Autopilot || !cfg.Watchers || cfg.Seed != 0 {
		t.Errorf("LAN config = %+v (want watchers on and the host's own seed per round)", cfg)
	}
	o, _ = parseFlags([]string{"-lock", "-seed", "9"}, &bytes.Buffer{})
	if cfg := lanConfig(o); cfg.Watchers || cfg.Seed != 9 || cfg.Bots != 0 {
		t.Errorf("-lock -seed 9: %+v (want no watchers, seed 9, no robots by default)", cfg)
	}
	o, _ = parseFlags([]string{"-tps", "240"}, &bytes.Buffer{})
	if cfg := lanConfig(o); cfg.HostTimeout != 4*90 || cfg.BeatTicks != 60 || cfg.SyncTicks != 240 {
		t.Errorf("-tps 240: host timeout %d, beat %d, sync %d ticks; want the default seconds at 4 times the rate", cfg.HostTimeout, cfg.BeatTicks, cfg.SyncTicks)
	}
}

// run runs the lightcycle binary with args in env and returns its exit
// status, stdout and stderr.
func run(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("%s %q: %v", bin, args, err)
	return 0, "", ""
}

// envWithout returns the environment without the named variables.
func envWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return env
}

// TestHelpWithoutDisplay: on a machine without a display, -h prints the
// flags and how to play headless, bad flags and -headless say what to do,
// and a plain start says there is no display: no Ebitengine panic with a
// goroutine trace. This guards the initialisation order that
// internal/cli relies on (see its doc).
func TestHelpWithoutDisplay(t *testing.T) {
	bin := netnstest.Build(t, "lightcycle")
	env := envWithout("DISPLAY", "WAYLAND_DISPLAY")
	for _, tt := range []struct {
		args   []string
		status int
		out    []string // in stdout
		err    []string // in stderr
	}{
		{[]string{"-h"}, 0, []string{"Usage:", "-bots", "-local", "go run ./examples/lightcycle/headless"}, nil},
		{[]string{"-bots", "9"}, 2, nil, []string{"-bots 9: want 0..7", "lightcycle -h"}},
		{[]string{"-headless"}, 2, nil, []string{"go run ./examples/lightcycle/headless"}},
		{nil, 1, nil, []string{"no display", "xvfb-run"}},
	} {
		status, out, errs := run(t, bin, env, tt.args...)
		bad := status != tt.status || strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine")
		for _, w := range tt.out {
			bad = bad || !strings.Contains(out, w)
		}
		for _, w := range tt.err {
			bad = bad || !strings.Contains(errs, w)
		}
		if bad {
			t.Errorf("lightcycle %q without a display: status %d (want %d)\nstdout:\n%s\nstderr:\n%s", tt.args, status, tt.status, out, errs)
		}
	}
}

// TestQuietUnderABareXServer: under an X server without access control
// (Xvfb as started by hand, no ~/.Xauthority), the game starts without
// the X client library's "XGB: ... Could not get authority info" lines.
func TestQuietUnderABareXServer(t *testing.T) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skipf("needs Xvfb: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command(xvfb, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "800x800x24")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { _ = x.Process.Kill(); _ = x.Wait() })
	num := make(chan string, 1)
	go func() {
		b := make([]byte, 16)
		n, _ := r.Read(b)
		num <- strings.TrimSpace(string(b[:n]))
	}()
	var display string
	select {
	case display = <-num:
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	if display == "" {
		t.Fatal("Xvfb gave no display number")
	}
	bin := netnstest.Build(t, "lightcycle")
	home := t.TempDir()
	env := append(envWithout("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "HOME"), "DISPLAY=:"+display, "HOME="+home)
	status, out, errs := run(t, bin, env, "-local", "-mute", "-frames", "30")
	if status != 0 || strings.Contains(errs, "XGB") || strings.Contains(errs, "authority") {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, out, errs)
	}
	if _, err := os.Stat(filepath.Join(home, ".Xauthority")); err == nil {
		t.Fatal("an .Xauthority appeared in the empty home")
	}
}
