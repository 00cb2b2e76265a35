package main

import (
	"bytes"
	"image"
	"image/color"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
)

// canvas is the board drawn on an image of its own, redrawn only when the
// board changed (Board.Version), so a frame costs one DrawImage while
// nobody draws.
type canvas struct {
	img     *ebiten.Image
	version uint64
	drawn   bool
	vs      []ebiten.Vertex
	is      []uint16
	white   *ebiten.Image // a white pixel to draw the strokes' triangles with
}

func newCanvas() *canvas {
	w := ebiten.NewImage(3, 3)
	w.Fill(color.White)
	return &canvas{
		img:   ebiten.NewImage(board.Width, board.Height),
		white: w.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image),
	}
}

var stroke = &vector.StrokeOptions{Width: 2, LineJoin: vector.LineJoinRound, LineCap: vector.LineCapRound}

// Batches of triangles stay below what uint16 indices can address; long
// lines are stroked in pieces of chunkPoints points.
const (
	flushVertices = 40000
	chunkPoints   = 128
)

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
				vector.DrawFilledCircle(cv.img, float32(line[0][0]), float32(line[0][1]), 1.5, clr, true)
				continue
			}
			for start := 0; start < len(line)-1; start += chunkPoints - 1 {
				cv.strokeLine(line[start:min(start+chunkPoints, len(line))], clr)
			}
		}
		cv.flush(clr)
	}
}

// strokeLine adds the triangles of one polyline to the batch.
func (cv *canvas) strokeLine(pts []board.Point, clr color.RGBA) {
	if len(cv.vs) > flushVertices {
		cv.flush(clr)
	}
	var path vector.Path
	path.MoveTo(float32(pts[0][0]), float32(pts[0][1]))
	for _, p := range pts[1:] {
		path.LineTo(float32(p[0]), float32(p[1]))
	}
	cv.vs, cv.is = path.AppendVerticesAndIndicesForStroke(cv.vs, cv.is, stroke)
}

// flush draws the batch in clr.
func (cv *canvas) flush(clr color.RGBA) {
	if len(cv.is) == 0 {
		return
	}
	r, g, b, a := float32(clr.R)/255, float32(clr.G)/255, float32(clr.B)/255, float32(clr.A)/255
	for i := range cv.vs {
		cv.vs[i].SrcX, cv.vs[i].SrcY = 1, 1
		cv.vs[i].ColorR, cv.vs[i].ColorG, cv.vs[i].ColorB, cv.vs[i].ColorA = r, g, b, a
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
