package flagval

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var d Duration
	fs.Var(&d, "lag", "")
	if err := fs.Parse([]string{"-lag", "50ms"}); err != nil || time.Duration(d) != 50*time.Millisecond {
		t.Fatalf("50ms: %v, %v", d, err)
	}
	for in, want := range map[string]string{
		"50":   `"50" needs a unit: write a duration such as 50ms or 50s`,
		"soon": `not a duration`,
		"-1s":  `cannot be negative`,
	} {
		err := fs.Parse([]string{"-lag", in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("-lag %s: %v; want %q", in, err, want)
		}
	}
}

func TestPercent(t *testing.T) {
	var p Percent
	for in, want := range map[string]float64{"5%": 0.05, "5": 0.05, " 12.5% ": 0.125, "0": 0, "100%": 1} {
		if err := p.Set(in); err != nil || p.Fraction() != want {
			t.Errorf("Set(%q): %v, fraction %v; want %v", in, err, p.Fraction(), want)
		}
	}
	for _, in := range []string{"0.05x", "-1", "101%", "NaN", ""} {
		if err := p.Set(in); err == nil || !strings.Contains(err.Error(), "such as 5%") {
			t.Errorf("Set(%q): %v; want a hint", in, err)
		}
	}
}
