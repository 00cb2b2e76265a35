package board

import (
	"cmp"
	"slices"
)

// Canvas size in pixels, and the bounds that keep a board within one
// message.
const (
	Width  = 640
	Height = 480

	// MaxPoints bounds the points one player's lines hold together.
	MaxPoints = 4096
	// MaxPlayers bounds the players a server admits.
	MaxPlayers = 16
)

// Point is a position on the canvas, [x, y] on the wire.
type Point [2]int

// Clamp returns p moved onto the canvas: 0 <= x < Width, 0 <= y < Height.
func Clamp(p Point) Point {
	return Point{min(max(p[0], 0), Width-1), min(max(p[1], 0), Height-1)}
}

// Colour is an RGB colour, [r, g, b] on the wire, each 0..255.
type Colour [3]int

// ColourFor is PodSixNet's colour for player number id:
// [(id+1)%3*84, (id+2)%3*84, (id+3)%3*84]. Players 1, 2, 3 get purple-red
// [168 0 84], blue [0 84 168] and green [84 168 0]; the cycle repeats.
func ColourFor(id int) Colour {
	return Colour{(id + 1) % 3 * 84, (id + 2) % 3 * 84, (id + 3) % 3 * 84}
}

// clampColour keeps a colour from the network within 0..255.
func clampColour(c Colour) Colour {
	for i := range c {
		c[i] = min(max(c[i], 0), 255)
	}
	return c
}

type player struct {
	colour Colour
	lines  [][]Point
	points int // total over lines
}

// Board is every player's colour and lines. The zero value is not usable:
// call New. A Board is not safe for concurrent use; in the examples it
// belongs to the goroutine that pumps the connection.
type Board struct {
	players map[string]*player
	version uint64
}

// New returns an empty board.
func New() *Board { return &Board{players: make(map[string]*player)} }

// Version counts the changes made to the board, so a view can redraw only
// when it changed.
func (b *Board) Version() uint64 { return b.version }

// Len returns the number of players.
func (b *Board) Len() int { return len(b.players) }

// Join adds a player with no lines. It returns false (and changes nothing)
// if id is already on the board.
func (b *Board) Join(id string, c Colour) bool {
	if _, ok := b.players[id]; ok {
		return false
	}
	b.players[id] = &player{colour: clampColour(c)}
	b.version++
	return true
}

// Leave removes a player and their drawing. It returns false if id was
// not on the board.
func (b *Board) Leave(id string) bool {
	if _, ok := b.players[id]; !ok {
		return false
	}
	delete(b.players, id)
	b.version++
	return true
}

// Has reports whether id is on the board.
func (b *Board) Has(id string) bool {
	_, ok := b.players[id]
	return ok
}

// IDs returns the players' IDs in numeric order ("2" before "10"), the
// order they are drawn in.
func (b *Board) IDs() []string {
	ids := make([]string, 0, len(b.players))
	for id := range b.players {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

// compareIDs orders decimal IDs numerically (shorter first, then by bytes),
// and any other strings in some fixed order.
func compareIDs(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// Colour returns a player's colour (ok false if id is not on the board).
func (b *Board) Colour(id string) (c Colour, ok bool) {
	p, ok := b.players[id]
	if !ok {
		return Colour{}, false
	}
	return p.colour, true
}

// Lines returns a player's lines, oldest first (nil if id is not on the
// board). The slices belong to the board: read them, do not keep or change
// them.
func (b *Board) Lines(id string) [][]Point {
	if p, ok := b.players[id]; ok {
		return p.lines
	}
	return nil
}

// Points returns the number of points in a player's lines.
func (b *Board) Points(id string) int {
	if p, ok := b.players[id]; ok {
		return p.points
	}
	return 0
}

// StartLine begins a new line for player id at pt (clamped to the canvas),
// dropping the player's oldest lines if they would hold more than
// MaxPoints. It returns false if id is not on the board.
func (b *Board) StartLine(id string, pt Point) bool {
	p, ok := b.players[id]
	if !ok {
		return false
	}
	p.lines = append(p.lines, []Point{Clamp(pt)})
	p.points++
	p.trim()
	b.version++
	return true
}

// DrawPoint extends player id's newest line to pt (clamped to the canvas),
// dropping the player's oldest lines if they would hold more than
// MaxPoints. It returns false, changing nothing, if id is not on the
// board, has no line yet (a drawpoint without a startline), or the newest
// line already holds MaxPoints points.
func (b *Board) DrawPoint(id string, pt Point) bool {
	p, ok := b.players[id]
	if !ok || len(p.lines) == 0 {
		return false
	}
	last := len(p.lines) - 1
	if len(p.lines[last]) >= MaxPoints {
		return false
	}
	p.lines[last] = append(p.lines[last], Clamp(pt))
	p.points++
	p.trim()
	b.version++
	return true
}

// trim drops the oldest lines while the player holds more than MaxPoints
// points. The newest line holds at most MaxPoints, so it always stays.
func (p *player) trim() {
	drop := 0
	for p.points > MaxPoints {
		p.points -= len(p.lines[drop])
		drop++
	}
	if drop > 0 {
		p.lines = slices.Delete(p.lines, 0, drop)
	}
}

// Snapshot returns every player's colour and lines, for the "initial"
// message. The lines are the board's own slices: encode the snapshot
// before the board changes again.
func (b *Board) Snapshot() map[string]PlayerState {
	out := make(map[string]PlayerState, len(b.players))
	for id, p := range b.players {
		lines := p.lines
		if lines == nil {
			lines = [][]Point{} // "lines": [] on the wire, as PodSixNet sends
		}
		out[id] = PlayerState{Colour: p.colour, Lines: lines}
	}
	return out
}

// Restore replaces the board with a snapshot from an "initial" message.
// Every line goes through StartLine and DrawPoint, so points are clamped,
// empty lines skipped and MaxPoints enforced, whatever the sender sent.
func (b *Board) Restore(s map[string]PlayerState) {
	clear(b.players)
	for id, ps := range s {
		b.players[id] = &player{colour: clampColour(ps.Colour)}
		for _, line := range ps.Lines {
			if len(line) == 0 {
				continue
			}
			b.StartLine(id, line[0])
			for _, pt := range line[1:] {
				b.DrawPoint(id, pt)
			}
		}
	}
	b.version++
}

// SetPlayers makes the board's players those listed (a "players" message):
// unlisted players leave, with their drawings; new ones join with their
// colour and no lines; listed players keep their lines and take the listed
// colour. It reports whether anything changed.
func (b *Board) SetPlayers(players map[string]Colour) bool {
	changed := false
	for id := range b.players {
		if _, ok := players[id]; !ok {
			delete(b.players, id)
			changed = true
		}
	}
	for id, c := range players {
		c = clampColour(c)
		if p, ok := b.players[id]; ok {
			if p.colour != c {
				p.colour, changed = c, true
			}
			continue
		}
		b.players[id] = &player{colour: c}
		changed = true
	}
	if changed {
		b.version++
	}
	return changed
}

// Players returns every player's colour, for the "players" message.
func (b *Board) Players() map[string]Colour {
	out := make(map[string]Colour, len(b.players))
	for id, p := range b.players {
		out[id] = p.colour
	}
	return out
}
