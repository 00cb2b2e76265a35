package sim

import "fmt"

// NumColours is the number of player colours; colours are numbered
// 0..NumColours-1 and the renderer owns the palette.
const NumColours = 8

// FreeColour returns the colour a player claiming want gets when the colours
// in used are already taken: want itself if it is free, otherwise the next
// free colour after it, wrapping from NumColours-1 to 0. A want outside
// 0..NumColours-1 means "no preference" and takes the lowest free colour.
// ok is false when every colour is taken. Values in used that are out of
// range are ignored.
func FreeColour(used []int, want int) (colour int, ok bool) {
	var taken [NumColours]bool
	for _, c := range used {
		if c >= 0 && c < NumColours {
			taken[c] = true
		}
	}
	if want < 0 || want >= NumColours {
		want = 0
	}
	for k := range NumColours {
		c := (want + k) % NumColours
		if !taken[c] {
			return c, true
		}
	}
	return 0, false
}

// AssignColours resolves colour claims listed in the order they were made:
// the first claim of a colour wins and each later claimant gets the next free
// colour after the one it asked for (see FreeColour). It returns one colour
// per claim, all distinct, or an error wrapping ErrConfig if there are more
// than NumColours claims.
func AssignColours(claims []int) ([]int, error) {
	if len(claims) > NumColours {
		return nil, fmt.Errorf("%w: %d colour claims, at most %d", ErrConfig, len(claims), NumColours)
	}
	out := make([]int, 0, len(claims))
	for _, want := range claims {
		c, _ := FreeColour(out, want) // cannot fail: fewer than NumColours taken
		out = append(out, c)
	}
	return out, nil
}
