package main

import (
	"bytes"
	"image"
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
)

// canvas is the board drawn on an image of its own, redrawn only when the
// board changed (Board.Version), so a frame costs one DrawImage while
// nobody draws.
//
// Lines are drawn as one quad per segment, lengthened by half the line's
// width at both ends so that segments overlap at the joints: for thin
// lines this looks like round joins at a fraction of the cost of
// vector.Path strokes (a full board, 65,536 points, redraws in a few
// milliseconds).
type canvas struct {
	img     *ebiten.Image
	version uint64
	drawn   bool
	vs      []ebiten.Vertex
	is      []uint16
	white   *ebiten.Image // a white pixel to draw the triangles with
}

func newCanvas() *canvas {
	w := ebiten.NewImage(3, 3)
	w.Fill(color.White)
	return &canvas{
		img:   ebiten.NewImage(board.Width, board.Height),
		white: w.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image),
	}
}

// lineWidth is the width of every line, in pixels.
const lineWidth = 2

// maxBatch bounds the vertices of one DrawTriangles call: uint16 indices
// address at most 65,536.
const maxBatch = 65536 - 4

// draw puts the board on screen, redrawing the canvas first if the board
// changed.
func (cv *canvas) draw(screen *ebiten.Image, b *board.Board) {
	if !cv.drawn || cv.version != b.Version() {
		cv.redraw(b)
		cv.version, cv.drawn = b.Version(), true
	}
	screen.DrawImage(cv.img, nil)
}

// redraw draws every player's lines in their colour, in ID order, on a
// white canvas. A line of one point (a click) is a dot.
func (cv *canvas) redraw(b *board.Board) {
	cv.img.Fill(color.White)
	for _, id := range b.IDs() {
		c, _ := b.Colour(id)
		clr := color.RGBA{uint8(c[0]), uint8(c[1]), uint8(c[2]), 255}
		for _, line := range b.Lines(id) {
			if len(line) == 1 {
				cv.segment(line[0], line[0], clr)
			}
			for i := 1; i < len(line); i++ {
				cv.segment(line[i-1], line[i], clr)
			}
		}
		cv.flush()
	}
}

// segment adds the quad of the segment a-b to the batch: lineWidth wide,
// lengthened by half of it at both ends (a zero-length segment is a
// square dot).
func (cv *canvas) segment(a, b board.Point, clr color.RGBA) {
	if len(cv.vs) >= maxBatch {
		cv.flush()
	}
	const h = lineWidth / 2.0
	x0, y0, x1, y1 := float32(a[0])+0.5, float32(a[1])+0.5, float32(b[0])+0.5, float32(b[1])+0.5
	dx, dy := x1-x0, y1-y0
	if l := float32(math.Hypot(float64(dx), float64(dy))); l > 0 {
		dx, dy = dx/l*h, dy/l*h
	} else {
		dx, dy = h, 0
	}
	// (dx, dy) runs along the segment, (-dy, dx) across it, both h long.
	r, g, bl := float32(clr.R)/255, float32(clr.G)/255, float32(clr.B)/255
	n := uint16(len(cv.vs))
	for _, p := range [4][2]float32{
		{x0 - dx - dy, y0 - dy + dx}, {x0 - dx + dy, y0 - dy - dx},
		{x1 + dx - dy, y1 + dy + dx}, {x1 + dx + dy, y1 + dy - dx},
	} {
		cv.vs = append(cv.vs, ebiten.Vertex{DstX: p[0], DstY: p[1], SrcX: 1, SrcY: 1, ColorR: r, ColorG: g, ColorB: bl, ColorA: 1})
	}
	cv.is = append(cv.is, n, n+1, n+2, n+1, n+3, n+2)
}

// flush draws the batch.
func (cv *canvas) flush() {
	if len(cv.is) == 0 {
		return
	}
	op := &ebiten.DrawTrianglesOptions{AntiAlias: true, ColorScaleMode: ebiten.ColorScaleModePremultipliedAlpha}
	cv.img.DrawTriangles(cv.vs, cv.is, cv.white, op)
	cv.vs, cv.is = cv.vs[:0], cv.is[:0]
}

var labelFace = func() text.Face {
	src, err := text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF))
	if err != nil {
		panic("whiteboard: the embedded Go Regular font does not load: " + err.Error())
	}
	return &text.GoTextFace{Source: src, Size: 15}
}()

// drawLabel writes s in black with its top left corner at (x, y).
func drawLabel(screen *ebiten.Image, s string, x, y float64) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(color.Black)
	text.Draw(screen, s, labelFace, op)
}
