package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// These tests link package ui and so Ebitengine: run them under xvfb-run.

func TestParseFlags(t *testing.T) {
	var out bytes.Buffer
	o, err := parseFlags([]string{"-local", "-bots", "5", "-name", "ann", "-seed", "42", "-mute"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !o.local || o.bots != 5 || o.name != "ann" || o.seed != 42 || !o.seedSet || !o.mute || o.headless {
		t.Errorf("options = %+v", o)
	}
	cfg := offlineConfig(o)
	if cfg.Robots != 5 || cfg.Name != "ann" || cfg.Seed != 42 || cfg.Watch {
		t.Errorf("offline config = %+v", cfg)
	}
	if o, _ := parseFlags([]string{"-local"}, &out); offlineConfig(o).Robots != 3 || o.seedSet {
		t.Errorf("-local alone: %d robots, seedSet %v; want 3 robots and a clock seed", offlineConfig(o).Robots, o.seedSet)
	}
	if o, _ := parseFlags([]string{"-local", "-bots", "0"}, &out); offlineConfig(o).Robots != 0 {
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
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-bots", "8"}, {"-bots", "-2"}, {"-watch"}, {"-name", ""}, {"-name", strings.Repeat("x", 64)},
		{"stray"}, {"-nosuchflag"}, {"-colour", "8"}, {"-colour", "-1"}, {"-local", "-lock"},
		{"-local", "-autopilot"}, {"-local", "-iface", "eth0"}, {"-players", "0"}, {"-players", "9"}, {"-tps", "0"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestHelpExplainsFlags(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"-local", "-bots", "-name", "-seed", "-headless", "-watch", "-mute", "-colour", "-lock",
		"-iface", "-autopilot", "-players", "-tps", "Esc", "F3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h output lacks %q", want)
		}
	}
}

func TestHeadlessHintNamesTheHeadlessBinary(t *testing.T) {
	if o, _ := parseFlags([]string{"-headless"}, &bytes.Buffer{}); !o.headless {
		t.Fatal("-headless not parsed")
	}
	if !strings.HasPrefix(headlessHint, "headless mode: see examples/lightcycle/headless") {
		t.Errorf("hint = %q", headlessHint)
	}
}
