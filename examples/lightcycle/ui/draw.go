package ui

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/pumpnet/pumpnet/assets"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// background is the colour behind everything: a very dark blue.
var background = view.RGB{R: 0.02, G: 0.03, B: 0.063}

// Fonts, loaded once from the embedded Go fonts.
var (
	fontsOnce             sync.Once
	fontRegular, fontBold *text.GoTextFaceSource
)

func loadFonts() {
	fontsOnce.Do(func() {
		var err error
		if fontRegular, err = text.NewGoTextFaceSource(bytes.NewReader(assets.GoRegular)); err != nil {
			panic("ui: embedded Go Regular does not load: " + err.Error())
		}
		if fontBold, err = text.NewGoTextFaceSource(bytes.NewReader(assets.GoBold)); err != nil {
			panic("ui: embedded Go Bold does not load: " + err.Error())
		}
	})
}

// label is a line of text to draw.
type label struct {
	bold   bool
	size   float64 // pixels
	align  text.Align
	colour view.RGB
	alpha  float64
}

// draw draws s with its alignment point at (x, y) (y is the vertical
// centre of the line).
func (l label) draw(dst *ebiten.Image, s string, x, y float64) {
	loadFonts()
	src := fontRegular
	if l.bold {
		src = fontBold
	}
	face := &text.GoTextFace{Source: src, Size: l.size}
	op := &text.DrawOptions{}
	op.PrimaryAlign = l.align
	op.SecondaryAlign = text.AlignCenter
	op.GeoM.Translate(x, y)
	alpha := l.alpha
	if alpha == 0 {
		alpha = 1
	}
	op.ColorScale.ScaleWithColor(l.colour.NRGBA(alpha))
	text.Draw(dst, s, face, op)
}

// fitSize returns the largest font size, at most size, at which s fits in
// width pixels (bold or regular).
func fitSize(s string, bold bool, size, width float64) float64 {
	loadFonts()
	src := fontRegular
	if bold {
		src = fontBold
	}
	if w := text.Advance(s, &text.GoTextFace{Source: src, Size: size}); w > width && w > 0 {
		return size * width / w
	}
	return size
}

// glowText draws s centred at (x, y) with a soft halo in colour c: the
// text is drawn small on a scratch layer, scaled up blurred and added to
// the screen, then drawn sharp in white tinted by c on top. strength
// (0..1) scales the halo.
func (g *Game) glowText(screen *ebiten.Image, s string, x, y, size float64, c view.RGB, strength float64) {
	b := screen.Bounds()
	w, h := max(1, b.Dx()/glowDiv), max(1, b.Dy()/glowDiv)
	if g.textGlow == nil || g.textGlow.Bounds().Dx() != w || g.textGlow.Bounds().Dy() != h {
		if g.textGlow != nil {
			g.textGlow.Deallocate()
		}
		g.textGlow = ebiten.NewImage(w, h)
	}
	// Only the region around the text is composited.
	loadFonts()
	tw := text.Advance(s, &text.GoTextFace{Source: fontBold, Size: size})
	r := image.Rect(int((x-tw/2-size)*glowScale), int((y-1.5*size)*glowScale), int((x+tw/2+size)*glowScale)+1, int((y+1.5*size)*glowScale)+1).
		Intersect(g.textGlow.Bounds())
	if r.Empty() {
		return
	}
	g.textGlow.Clear()
	layer := g.textGlow.SubImage(r).(*ebiten.Image)
	label{bold: true, size: size * glowScale, align: text.AlignCenter, colour: c}.draw(layer, s, x*glowScale, y*glowScale)
	for _, d := range [][2]float64{{0, 0}, {-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Translate(float64(r.Min.X)+d[0]*0.6, float64(r.Min.Y)+d[1]*0.6)
		op.GeoM.Scale(glowDiv, glowDiv)
		op.Filter = ebiten.FilterLinear
		op.Blend = ebiten.BlendLighter
		op.ColorScale.ScaleAlpha(float32(0.5 * strength))
		screen.DrawImage(layer, op)
	}
	label{bold: true, size: size, align: text.AlignCenter, colour: c.Mix(view.White, 0.55)}.draw(screen, s, x, y)
}

// line strokes from (x0, y0) to (x1, y1), extended by half the width at
// both ends so that lines meeting at a corner join without a notch.
func line(dst *ebiten.Image, x0, y0, x1, y1, width float64, c color.Color) {
	dx, dy := x1-x0, y1-y0
	if n := math.Hypot(dx, dy); n > 0 {
		dx, dy = dx/n*width/2, dy/n*width/2
		x0, y0, x1, y1 = x0-dx, y0-dy, x1+dx, y1+dy
	} else {
		vector.DrawFilledRect(dst, float32(x0-width/2), float32(y0-width/2), float32(width), float32(width), c, false)
		return
	}
	vector.StrokeLine(dst, float32(x0), float32(y0), float32(x1), float32(y1), float32(width), c, false)
}

// fillRect fills r.
func fillRect(dst *ebiten.Image, r view.Rect, c color.Color) {
	vector.DrawFilledRect(dst, float32(r.X), float32(r.Y), float32(r.W), float32(r.H), c, false)
}

// strokeRect outlines r.
func strokeRect(dst *ebiten.Image, r view.Rect, width float64, c color.Color) {
	vector.StrokeRect(dst, float32(r.X), float32(r.Y), float32(r.W), float32(r.H), float32(width), c, false)
}

// circle fills a circle, drawn as a pre-rendered anti-aliased disc (see
// sprite) so it costs one batched quad.
func circle(dst *ebiten.Image, x, y, r float64, c color.Color) {
	drawSprite(dst, discSprite(), x, y, r, c)
}

// ring strokes a circle of radius r (the middle of the stroke) with a
// stroke about width wide, drawn as a pre-rendered ring.
func ring(dst *ebiten.Image, x, y, r, width float64, c color.Color) {
	outer := r + width/2
	drawSprite(dst, ringSprite(width/outer), x, y, outer, c)
}

// Anti-aliased shapes are pre-rendered once into textures and drawn as
// scaled quads: Ebitengine's own anti-aliasing renders each shape through
// an offscreen buffer the size of the shape, which costs a texture and a
// flush per shape and made a frame of this game ten times slower.
const spriteRadius = 128 // radius of the pre-rendered shapes, in texels

var (
	spriteMu sync.Mutex
	disc     *ebiten.Image
	rings    = map[int]*ebiten.Image{} // by stroke width in 1/32 of the radius
)

func discSprite() *ebiten.Image {
	spriteMu.Lock()
	defer spriteMu.Unlock()
	if disc == nil {
		disc = renderSprite(func(d float64) float64 { return coverage(spriteRadius - d) })
	}
	return disc
}

// ringSprite returns a ring whose stroke is frac of its outer radius.
func ringSprite(frac float64) *ebiten.Image {
	k := max(1, min(32, int(math.Round(frac*32))))
	spriteMu.Lock()
	defer spriteMu.Unlock()
	if img := rings[k]; img != nil {
		return img
	}
	inner := spriteRadius * (1 - float64(k)/32)
	img := renderSprite(func(d float64) float64 {
		return coverage(spriteRadius-d) * coverage(d-inner)
	})
	rings[k] = img
	return img
}

// coverage turns a signed distance from an edge (positive inside, in
// texels) into pixel coverage with a one-texel soft edge.
func coverage(inside float64) float64 { return math.Max(0, math.Min(1, inside+0.5)) }

// renderSprite renders a white shape, centred, whose opacity at distance d
// from the centre is alpha(d).
func renderSprite(alpha func(d float64) float64) *ebiten.Image {
	n := 2*spriteRadius + 4
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	c := float64(n) / 2
	for y := range n {
		for x := range n {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c)
			img.SetNRGBA(x, y, color.NRGBA{255, 255, 255, uint8(math.Round(255 * alpha(d)))})
		}
	}
	return ebiten.NewImageFromImage(img)
}

// drawSprite draws a pre-rendered shape of spriteRadius scaled to radius r,
// centred at (x, y), tinted c.
func drawSprite(dst, sprite *ebiten.Image, x, y, r float64, c color.Color) {
	if r <= 0 {
		return
	}
	half := float64(sprite.Bounds().Dx()) / 2
	k := r / spriteRadius
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(-half, -half)
	op.GeoM.Scale(k, k)
	op.GeoM.Translate(x, y)
	op.Filter = ebiten.FilterLinear
	op.ColorScale.ScaleWithColor(c)
	dst.DrawImage(sprite, op)
}

// glowLayer returns a cleared off-screen image at a quarter of the
// screen's resolution. Shapes drawn on it (with coordinates scaled by
// glowScale) and composited with addGlow become a soft bloom, because the
// upscale blurs them.
func (g *Game) glowLayer(screen *ebiten.Image) *ebiten.Image {
	b := screen.Bounds()
	w, h := max(1, b.Dx()/glowDiv), max(1, b.Dy()/glowDiv)
	if g.glow == nil || g.glow.Bounds().Dx() != w || g.glow.Bounds().Dy() != h {
		if g.glow != nil {
			g.glow.Deallocate()
		}
		g.glow = ebiten.NewImage(w, h)
	}
	g.glow.Clear()
	return g.glow
}

const (
	glowDiv   = 4
	glowScale = 1.0 / glowDiv
)

// addGlow adds the glow layer onto the screen, scaled up with linear
// filtering and added to what is there (lighter blending), twice: once
// sharp-ish and once spread wider.
func addGlow(screen, glow *ebiten.Image, strength float64) {
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(glowDiv, glowDiv)
	op.Filter = ebiten.FilterLinear
	op.Blend = ebiten.BlendLighter
	op.ColorScale.ScaleAlpha(float32(strength))
	screen.DrawImage(glow, op)
	// A wider, fainter pass: the same layer scaled 1.03× about the centre
	// smears it a little further out.
	b := screen.Bounds()
	op2 := &ebiten.DrawImageOptions{}
	op2.GeoM.Scale(glowDiv, glowDiv)
	op2.GeoM.Translate(-float64(b.Dx())/2, -float64(b.Dy())/2)
	op2.GeoM.Scale(1.01, 1.01)
	op2.GeoM.Translate(float64(b.Dx())/2, float64(b.Dy())/2)
	op2.Filter = ebiten.FilterLinear
	op2.Blend = ebiten.BlendLighter
	op2.ColorScale.ScaleAlpha(float32(strength * 0.5))
	screen.DrawImage(glow, op2)
}

// drawBike draws a side view of a lightcycle facing right, length long,
// with its axle line starting at (x, y): wheels with glowing rims, a dark
// shell outlined in c over them, and a white light strip.
func drawBike(dst *ebiten.Image, x, y, length float64, c view.RGB) {
	n := max(8, int(math.Round(length)))
	sprite := bikeSprite(c, n)
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(-bikeMargin*float64(n), -bikeTop*float64(n))
	op.GeoM.Scale(length/float64(n), length/float64(n))
	op.GeoM.Translate(x, y)
	op.Filter = ebiten.FilterLinear
	dst.DrawImage(sprite, op)
}

// bikeGlow draws the bloom of drawBike's bike on the glow layer (scaled by
// glowScale), brighter as pulse goes from 0 to 1.
func bikeGlow(glow *ebiten.Image, x, y, length float64, c view.RGB, pulse float64) {
	n := max(8, int(math.Round(length)))
	sprite := bikeGlowSprite(c, n)
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(-bikeMargin*float64(n)*glowScale, -bikeTop*float64(n)*glowScale)
	op.GeoM.Scale(length/float64(n), length/float64(n))
	op.GeoM.Translate(x*glowScale, y*glowScale)
	op.Filter = ebiten.FilterLinear
	op.ColorScale.ScaleAlpha(float32(0.4 + 0.5*pulse))
	glow.DrawImage(sprite, op)
}

// Bike sprite geometry, in bike lengths: the margin around the bike, and
// the heights above and below the axles.
const (
	bikeMargin = 0.08
	bikeTop    = 0.3
	bikeBottom = 0.25
)

type bikeKey struct {
	c    view.RGB
	n    int
	glow bool
}

var bikes = map[bikeKey]*ebiten.Image{}

// bikeSprite renders a bike of length n pixels in colour c once, with
// Ebitengine's anti-aliasing, and keeps it.
func bikeSprite(c view.RGB, n int) *ebiten.Image {
	return cachedBike(bikeKey{c, n, false}, func(img *ebiten.Image, l float64) {
		bikeShape(img, bikeMargin*l, bikeTop*l, l, 0, c.Scale(0.2).NRGBA(1), c.NRGBA(1), true)
	})
}

// bikeGlowSprite renders the bike's outline with wide strokes, at
// glowScale, once: the source of its bloom.
func bikeGlowSprite(c view.RGB, n int) *ebiten.Image {
	return cachedBike(bikeKey{c, n, true}, func(img *ebiten.Image, l float64) {
		l *= glowScale
		bikeShape(img, bikeMargin*l, bikeTop*l, l, 0.09, nil, c.NRGBA(1), false)
	})
}

func cachedBike(k bikeKey, render func(img *ebiten.Image, l float64)) *ebiten.Image {
	spriteMu.Lock()
	defer spriteMu.Unlock()
	if img := bikes[k]; img != nil {
		return img
	}
	if len(bikes) >= 64 { // the window was resized a few times: start again
		for _, img := range bikes {
			img.Deallocate()
		}
		clear(bikes)
	}
	l := float64(k.n)
	scale := 1.0
	if k.glow {
		scale = glowScale
	}
	img := ebiten.NewImage(max(1, int(math.Ceil(l*scale*(1+2*bikeMargin)))), max(1, int(math.Ceil(l*scale*(bikeTop+bikeBottom)))))
	render(img, l)
	bikes[k] = img
	return img
}

// Bike outline, facing right, in bike lengths from the rear axle line:
// the shell, and the centres of the wheels (radius wheelR).
var (
	bikeShell = [][2]float64{
		{-0.02, -0.02}, {0, -0.1}, {0.1, -0.16}, {0.3, -0.17}, {0.4, -0.215}, {0.58, -0.215},
		{0.66, -0.165}, {0.88, -0.15}, {0.99, -0.09}, {1.02, -0.01}, {0.86, -0.045}, {0.17, -0.045},
	}
	bikeStrip = [][2]float64{{0.04, -0.09}, {0.3, -0.115}, {0.7, -0.115}, {0.95, -0.075}}
	wheelX    = [2]float64{0.17, 0.83}
)

const wheelR = 0.15

// bikeShape draws the bike of length l with its axle line starting at
// (x, y), anti-aliased. With filled it draws the sprite: dark wheels and
// shell in body, rims and outline in rim, a light strip. Without, it
// strokes the outline only, widened by widen bike lengths, for the glow.
func bikeShape(img *ebiten.Image, x, y, l, widen float64, body, rim color.Color, filled bool) {
	px := func(pt [2]float64) (float32, float32) { return float32(x + pt[0]*l), float32(y + pt[1]*l) }
	for _, u := range wheelX {
		cx, cy := px([2]float64{u, 0})
		if filled {
			vector.DrawFilledCircle(img, cx, cy, float32(wheelR*l), body, true)
			vector.StrokeCircle(img, cx, cy, float32(0.075*l), float32(0.016*l), rim, true)
		}
		vector.StrokeCircle(img, cx, cy, float32(wheelR*l), float32(l*(0.035+widen)), rim, true)
	}
	var shell vector.Path
	for i, pt := range bikeShell {
		fx, fy := px(pt)
		if i == 0 {
			shell.MoveTo(fx, fy)
		} else {
			shell.LineTo(fx, fy)
		}
	}
	shell.Close()
	if filled {
		fillPath(img, &shell, body, true)
	}
	strokePath(img, &shell, float32(l*(0.022+widen)), rim, true)
	if filled {
		var strip vector.Path
		for i, pt := range bikeStrip {
			fx, fy := px(pt)
			if i == 0 {
				strip.MoveTo(fx, fy)
			} else {
				strip.LineTo(fx, fy)
			}
		}
		strokePath(img, &strip, float32(0.018*l), color.NRGBA{255, 255, 255, 230}, true)
		for _, u := range wheelX {
			cx, cy := px([2]float64{u, 0})
			vector.DrawFilledCircle(img, cx, cy, float32(0.03*l), color.NRGBA{255, 255, 255, 230}, true)
		}
	}
}

var (
	whiteTex = func() *ebiten.Image {
		img := ebiten.NewImage(3, 3)
		img.Fill(color.White)
		return img
	}()
	whiteSub = whiteTex.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image)
)

// fillPath fills a closed path with c.
func fillPath(dst *ebiten.Image, p *vector.Path, c color.Color, antialias bool) {
	vs, is := p.AppendVerticesAndIndicesForFilling(nil, nil)
	drawPath(dst, vs, is, c, ebiten.FillRuleNonZero, antialias)
}

// strokePath strokes a path with c.
func strokePath(dst *ebiten.Image, p *vector.Path, width float32, c color.Color, antialias bool) {
	op := &vector.StrokeOptions{Width: width, LineJoin: vector.LineJoinRound}
	vs, is := p.AppendVerticesAndIndicesForStroke(nil, nil, op)
	drawPath(dst, vs, is, c, ebiten.FillRuleFillAll, antialias)
}

func drawPath(dst *ebiten.Image, vs []ebiten.Vertex, is []uint16, c color.Color, rule ebiten.FillRule, antialias bool) {
	r, g, b, a := c.RGBA()
	for i := range vs {
		vs[i].SrcX, vs[i].SrcY = 1, 1
		vs[i].ColorR = float32(r) / 0xffff
		vs[i].ColorG = float32(g) / 0xffff
		vs[i].ColorB = float32(b) / 0xffff
		vs[i].ColorA = float32(a) / 0xffff
	}
	op := &ebiten.DrawTrianglesOptions{FillRule: rule, AntiAlias: antialias}
	dst.DrawTriangles(vs, is, whiteSub, op)
}
