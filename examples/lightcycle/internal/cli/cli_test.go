package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log"
	"strings"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

func TestConstantsAgree(t *testing.T) {
	if numColours != sim.NumColours || maxPeers != game.MaxPeers || defaultTPS != sim.TPS {
		t.Fatalf("numColours %d/%d maxPeers %d/%d defaultTPS %d/%d", numColours, sim.NumColours, maxPeers, game.MaxPeers, defaultTPS, sim.TPS)
	}
}

func TestParse(t *testing.T) {
	o, err := Parse([]string{"-local", "-bots", "5", "-name", "ann", "-seed", "42", "-mute"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Local || o.Bots != 5 || o.Name != "ann" || o.Seed != 42 || !o.SeedSet || !o.Mute || o.Headless {
		t.Errorf("options = %+v", o)
	}
	o, err = Parse([]string{"-rendezvous", "rdv.example.org:7777", "-create-room", "-public"}, io.Discard)
	if err != nil || o.Rendezvous != "rdv.example.org:7777" || !o.CreateRoom || !o.Public || o.Room != "" {
		t.Errorf("-rendezvous -create-room -public: %+v, %v", o, err)
	}
	if o, err := Parse([]string{"-rendezvous", "http://10.0.0.1:7777", "-room", "K7MW2Q"}, io.Discard); err != nil || o.Room != "K7MW2Q" || o.CreateRoom {
		t.Errorf("-rendezvous -room: %+v, %v", o, err)
	}
	if o, _ := Parse(nil, io.Discard); o.Bots != -1 || o.SeedSet || o.Name != "" || o.TPS != sim.TPS || o.Colour != 5 {
		t.Errorf("defaults = %+v", o)
	}
}

func TestParseRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-bots", "8"}, {"-bots", "-2"}, {"-bots", "x"}, {"-watch"}, {"-name", strings.Repeat("x", 64)},
		{"stray"}, {"-nosuchflag"}, {"-colour", "8"}, {"-colour", "-1"}, {"-local", "-lock"},
		{"-local", "-autopilot"}, {"-local", "-iface", "eth0"}, {"-players", "0"}, {"-players", "9"}, {"-tps", "0"},
		{"-room", "K7MW2Q"}, {"-create-room"}, {"-rendezvous", "rdv:7777"}, {"-rendezvous", "rdv:7777", "-room", "K7MW2Q", "-create-room"},
		{"-rendezvous", "rdv:7777", "-room", "K7MW2Q", "-public"}, {"-rendezvous", "rdv:7777", "-create-room", "-local"},
		{"-rendezvous", "rdv:7777", "-create-room", "-iface", "eth0"},
	} {
		if _, err := Parse(args, io.Discard); err == nil {
			t.Errorf("Parse(%q) accepted", args)
		}
	}
}

// TestHelpExplainsFlags: -h lists every flag, how to run, the keys, and
// no "(default -1)" for -bots.
func TestHelpExplainsFlags(t *testing.T) {
	var out bytes.Buffer
	if _, err := Parse([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	s := out.String()
	for _, want := range []string{"-local", "-bots", "-name", "-seed", "-headless", "-watch", "-mute", "-colour", "-lock",
		"-iface", "-autopilot", "-players", "-tps", "Esc", "F3", "go run ./examples/lightcycle/headless", "-bots 3"} {
		if !strings.Contains(s, want) {
			t.Errorf("-h output lacks %q", want)
		}
	}
	if strings.Contains(s, "(default -1)") || strings.Contains(s, `(default "")`) {
		t.Errorf("-h shows a meaningless default:\n%s", s)
	}
}

// TestEarly: what the init does before Ebitengine's, for each case.
func TestEarly(t *testing.T) {
	env := func(display string) func(string) string {
		return func(k string) string {
			if k == "DISPLAY" {
				return display
			}
			return ""
		}
	}
	for _, tt := range []struct {
		args    []string
		display string
		goos    string
		status  int
		stop    bool
		out     string // in stdout
		err     string // in stderr
	}{
		{[]string{"-h"}, "", "linux", 0, true, "Usage: go run ./examples/lightcycle", ""},
		{[]string{"-help"}, ":0", "linux", 0, true, "-bots", ""},
		{[]string{"-bots", "9"}, "", "linux", 2, true, "", "-bots 9: want 0..7"},
		{[]string{"-nosuch"}, ":0", "linux", 2, true, "", "flag provided but not defined"},
		{[]string{"-headless"}, "", "linux", 2, true, "", "go run ./examples/lightcycle/headless"},
		{nil, "", "linux", 1, true, "", "no display"},
		{[]string{"-local"}, "", "freebsd", 1, true, "", "xvfb-run"},
		{nil, ":99", "linux", 0, false, "", ""},
		{nil, "", "windows", 0, false, "", ""},
	} {
		var out, errb bytes.Buffer
		status, stop := Early(tt.args, &out, &errb, env(tt.display), tt.goos)
		if status != tt.status || stop != tt.stop || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) ||
			(tt.out == "" && out.Len() > 0) || (tt.err == "" && errb.Len() > 0) {
			t.Errorf("Early(%q, DISPLAY=%q, %s) = %d, %v\nstdout %q\nstderr %q", tt.args, tt.display, tt.goos, status, stop, out.String(), errb.String())
		}
	}
}

func TestAuthorityLinesHushed(t *testing.T) {
	var buf bytes.Buffer
	l := log.New(authorityFilter{&buf}, "XGB: ", 0)
	l.Printf("Could not get authority info: %v", errors.New("open /root/.Xauthority: no such file or directory"))
	l.Println("Trying connection without authority info...")
	l.Printf("A read error is unrecoverable: %s", "EOF")
	if got := buf.String(); got != "XGB: A read error is unrecoverable: EOF\n" {
		t.Errorf("logged %q", got)
	}
}
