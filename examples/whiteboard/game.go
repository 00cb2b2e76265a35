package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/pumpnet/pumpnet/examples/overlay"
	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

// game is the whiteboard window: an Ebitengine Game around a room.Client.
// Update pumps the connection, reads the mouse and keys; Draw draws the
// board, the status lines and the network overlay.
type game struct {
	ctx context.Context
	c   *room.Client
	out io.Writer
	ov  *overlay.Overlay
	cv  *canvas

	peers []overlay.Peer // for the overlay, reused each frame

	tick   int
	status string // last status printed to out

	scribble   *scribble // nil unless -scribble
	ticks      int       // quit after this many updates (0: never)
	screenshot string    // save the last frame here
	shotTaken  bool
	err        error // what went wrong saving the screenshot
}

func newGame(ctx context.Context, c *room.Client, o clientOptions, out io.Writer) *game {
	g := &game{
		ctx:        ctx,
		c:          c,
		out:        out,
		ov:         overlay.New(overlay.Options{Visible: o.overlay}),
		cv:         newCanvas(),
		ticks:      o.ticks,
		screenshot: o.screenshot,
	}
	if o.scribble {
		g.scribble = newScribble(board.Point{
			120 + rand.IntN(board.Width-240), 120 + rand.IntN(board.Height-200),
		})
	}
	return g
}

// play runs the window until the game ends. It must be called on the main
// thread, once per process (Ebitengine's rules).
func play(g *game) error {
	ebiten.SetWindowSize(board.Width, board.Height)
	ebiten.SetWindowTitle("pumpnet whiteboard")
	return ebiten.RunGame(g)
}

// Update runs once per frame (60 a second): it pumps the connection (the
// handlers run here, on the game's goroutine), turns mouse input into
// strokes, and feeds the overlay.
func (g *game) Update() error {
	if g.done() || inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		return ebiten.Termination
	}
	g.tick++
	g.pen()
	g.c.Pump()
	g.peers = g.peers[:0]
	if g.c.State() == room.Connected {
		g.peers = append(g.peers, overlay.Peer{Name: "server", Stats: g.c.Stats()})
	}
	g.ov.Update(g.peers)
	if s := g.c.Status(0); s != g.status {
		g.status = s
		fmt.Fprintf(g.out, "whiteboard: %s\n", s)
	}
	return nil
}

// done reports whether the game should quit: ctx ended, or -ticks frames
// passed (and the last one was saved, with -screenshot).
func (g *game) done() bool {
	if g.ctx.Err() != nil {
		return true
	}
	if g.ticks > 0 && g.tick >= g.ticks {
		return g.screenshot == "" || g.shotTaken || g.err != nil
	}
	return false
}

// pen sends strokes: mouse down starts a line, dragging extends it,
// release ends it. With -scribble, the star is drawn instead once the
// connection is up.
func (g *game) pen() {
	if g.scribble != nil {
		if g.c.State() == room.Connected {
			g.report(g.scribble.step(g.c))
		}
		return
	}
	x, y := ebiten.CursorPosition()
	pt := board.Point{x, y}
	switch {
	case inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft):
		g.report(g.c.PenDown(pt))
	case inpututil.IsMouseButtonJustReleased(ebiten.MouseButtonLeft):
		g.report(g.c.PenUp(pt))
	case ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft):
		g.report(g.c.PenMove(pt))
	}
}

func (g *game) report(err error) {
	if err != nil {
		fmt.Fprintf(g.out, "whiteboard: %v\n", err)
	}
}

// Draw draws the board, the status lines and the overlay.
func (g *game) Draw(screen *ebiten.Image) {
	g.cv.draw(screen, g.c.Board())
	drawLabel(screen, g.c.Status(g.tick), 10, 8)
	drawLabel(screen, g.c.PlayersLabel(), 10, 28)
	g.ov.Draw(screen)
	if g.screenshot != "" && g.ticks > 0 && g.tick >= g.ticks && !g.shotTaken && g.err == nil {
		g.err = savePNG(screen, g.screenshot)
		g.shotTaken = true
	}
}

// Layout keeps the board 640×480 whatever the window's size.
func (g *game) Layout(int, int) (int, int) { return board.Width, board.Height }

// savePNG writes the screen's pixels to path.
func savePNG(screen *ebiten.Image, path string) error {
	b := screen.Bounds()
	img := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	screen.ReadPixels(img.Pix)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// scribble draws a five-pointed star, one point per frame, as a player
// would with the mouse: down at the first point, drag, up at the last.
type scribble struct {
	pts  []board.Point
	next int
}

// starSteps is the number of points per edge of the star.
const starSteps = 12

func newScribble(centre board.Point) *scribble {
	const radius = 80
	corner := func(k int) (float64, float64) {
		a := -math.Pi/2 + float64(k%5)*2*math.Pi/5
		return float64(centre[0]) + radius*math.Cos(a), float64(centre[1]) + radius*math.Sin(a)
	}
	var pts []board.Point
	for e := range 5 { // a pentagram visits every second corner
		x0, y0 := corner(2 * e)
		x1, y1 := corner(2 * (e + 1))
		for s := range starSteps {
			f := float64(s) / starSteps
			pts = append(pts, board.Point{int(math.Round(x0 + f*(x1-x0))), int(math.Round(y0 + f*(y1-y0)))})
		}
	}
	pts = append(pts, pts[0])
	return &scribble{pts: pts}
}

// step sends the next stroke of the star, if any is left.
func (s *scribble) step(c *room.Client) error {
	switch i := s.next; {
	case i >= len(s.pts):
		return nil
	case i == 0:
		s.next++
		return c.PenDown(s.pts[i])
	case i == len(s.pts)-1:
		s.next++
		return c.PenUp(s.pts[i])
	default:
		s.next++
		return c.PenMove(s.pts[i])
	}
}
