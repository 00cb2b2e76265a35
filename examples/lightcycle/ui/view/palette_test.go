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
