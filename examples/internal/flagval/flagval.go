// Package flagval holds the flag values the examples share, so that every
// command spells durations and percentages the same way and says what it
// wants when given something else.
package flagval

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a flag value for a time.Duration: "50ms", "1.5s", "2m". A
// bare number is refused with a hint (the flag package says only "parse
// error").
type Duration time.Duration

// String returns the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// Set parses s.
func (d *Duration) Set(s string) error {
	s = strings.TrimSpace(s)
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			return fmt.Errorf("%q needs a unit: write a duration such as %sms or %ss", s, s, s)
		}
		return fmt.Errorf("%q is not a duration: write one such as 50ms, 1.5s or 2m", s)
	}
	if v < 0 {
		return fmt.Errorf("%q: a duration here cannot be negative", s)
	}
	*d = Duration(v)
	return nil
}

// Percent is a flag value for a share of something, written "5%" or "5"
// (both five percent), from 0 to 100. Fraction gives it as 0..1.
type Percent float64

// String returns the percentage with its % sign.
func (p Percent) String() string { return strconv.FormatFloat(float64(p), 'f', -1, 64) + "%" }

// Set parses s.
func (p *Percent) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || !(v >= 0 && v <= 100) {
		return fmt.Errorf("%q: want a percentage from 0%% to 100%%, such as 5%%", s)
	}
	*p = Percent(v)
	return nil
}

// Fraction returns p as a fraction from 0 to 1.
func (p Percent) Fraction() float64 { return float64(p) / 100 }
