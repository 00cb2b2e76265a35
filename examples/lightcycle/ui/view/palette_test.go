package view

import (
	"image/color"
	"math"
	"testing"
)

func TestPaletteKeepsTheSpecifiedColours(t *testing.T) {
	want := map[int]RGB{
		0: {1.0, 0.42, 0.19}, // red-orange
		5: {0, 0.57, 1.0},    // blue
		6: {0.68, 0.26, 1.0}, // purple
	}
	for i, c := range want {
		if Palette[i] != c {
			t.Errorf("Palette[%d] (%s) = %v, want %v", i, ColourNames[i], Palette[i], c)
		}
	}
	names := []string{"red-orange", "orange", "yellow", "light green", "cyan", "blue", "purple", "violet"}
	for i, n := range names {
		if ColourNames[i] != n {
			t.Errorf("ColourNames[%d] = %q, want %q", i, ColourNames[i], n)
		}
	}
}

// TestPaletteColoursAreDistinct: players must tell each other apart.
func TestPaletteColoursAreDistinct(t *testing.T) {
	for i := range Palette {
		for j := i + 1; j < len(Palette); j++ {
			a, b := Palette[i], Palette[j]
			d := math.Sqrt((a.R-b.R)*(a.R-b.R) + (a.G-b.G)*(a.G-b.G) + (a.B-b.B)*(a.B-b.B))
			if d < 0.2 {
				t.Errorf("%s and %s are too close (distance %.2f)", ColourNames[i], ColourNames[j], d)
			}
		}
		if c := Palette[i]; max(c.R, c.G, c.B) < 0.9 {
			t.Errorf("%s is too dark to glow: %v", ColourNames[i], c)
		}
	}
}

func TestColourOutOfRangeIsGrey(t *testing.T) {
	for _, i := range []int{-1, 8, 100} {
		if Colour(i) != Grey {
			t.Errorf("Colour(%d) = %v, want Grey", i, Colour(i))
		}
	}
	if Colour(5) != Palette[5] {
		t.Errorf("Colour(5) = %v, want %v", Colour(5), Palette[5])
	}
}

func TestRGBConversions(t *testing.T) {
	if got, want := Palette[0].NRGBA(0.5), (color.NRGBA{255, 107, 48, 128}); got != want {
		t.Errorf("NRGBA = %v, want %v", got, want)
	}
	if got := (RGB{0.5, 0.6, 2}).Scale(2); got != (RGB{1, 1, 1}) {
		t.Errorf("Scale clamps: got %v", got)
	}
	if got := (RGB{0, 0, 0}).Mix(White, 0.25); got != (RGB{0.25, 0.25, 0.25}) {
		t.Errorf("Mix = %v", got)
	}
}

// hue returns c's hue in degrees, 0..360.
func hue(c RGB) float64 {
	hi, lo := max(c.R, c.G, c.B), min(c.R, c.G, c.B)
	if hi == lo {
		return 0
	}
	var h float64
	switch hi {
	case c.R:
		h = math.Mod((c.G-c.B)/(hi-lo), 6)
	case c.G:
		h = (c.B-c.R)/(hi-lo) + 2
	default:
		h = (c.R-c.G)/(hi-lo) + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h
}

// TestPaletteHuesApart: bright, saturated trails side by side (and
// bloomed) are told apart by hue; orange and yellow were 15° apart and
// hard to tell. Every pair must be at least 20° apart.
func TestPaletteHuesApart(t *testing.T) {
	for i := range Palette {
		for j := i + 1; j < len(Palette); j++ {
			d := math.Abs(hue(Palette[i]) - hue(Palette[j]))
			d = math.Min(d, 360-d)
			if d < 20 {
				t.Errorf("%s (%.0f°) and %s (%.0f°) are only %.1f° apart", ColourNames[i], hue(Palette[i]), ColourNames[j], hue(Palette[j]), d)
			}
		}
	}
}

// TestHeadsCarryTheirColour: a head is lighter than its trail but keeps
// its hue, so heads are not all alike.
func TestHeadsCarryTheirColour(t *testing.T) {
	for i := range Palette {
		h, c := HeadColour(i), Palette[i]
		if h == White || h.R+h.G+h.B <= c.R+c.G+c.B {
			t.Errorf("%s: head %v is white or not lighter than the trail %v", ColourNames[i], h, c)
		}
		if d := math.Abs(hue(h) - hue(c)); math.Min(d, 360-d) > 1 {
			t.Errorf("%s: head hue %.0f°, trail %.0f°", ColourNames[i], hue(h), hue(c))
		}
	}
}
