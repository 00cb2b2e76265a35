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

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-bots", "8"}, {"-bots", "-2"}, {"-watch"}, {"-name", ""}, {"-name", strings.Repeat("x", 64)},
		{"stray"}, {"-nosuchflag"},
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
	for _, want := range []string{"-local", "-bots", "-name", "-seed", "-headless", "-watch", "-mute", "Esc"} {
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
