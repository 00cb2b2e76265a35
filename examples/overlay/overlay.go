package overlay

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/pumpnet/pumpnet/examples/overlay/history"
)

// Peer is one connection the overlay shows: a name and its statistics
// (engine.Peer.Stats or engine.Client.Stats).
type Peer = history.Peer

// Options configures an Overlay. The zero value works: F3 toggles an
// overlay that starts hidden and graphs the last 12 seconds of RTT.
type Options struct {
	// Keys toggle the overlay. Nil means F3; an empty, non-nil slice means
	// no key (the game calls Toggle or SetVisible itself).
	Keys []ebiten.Key
	// Visible shows the overlay from the start.
	Visible bool
	// Samples is the length of the RTT graph in samples. Default 120.
	Samples int
	// SampleEvery is the number of Update calls between two RTT samples.
	// Default 6: ten samples a second at Ebitengine's 60 ticks per second,
	// so the default graph spans 12 seconds.
	SampleEvery int
	// Face draws the text. Default: Go Regular, 12 pixels.
	Face text.Face
	// NoPeers is the title while there are no peers. Default "network: no
	// peers"; an offline game says why ("offline game: no network").
	NoPeers string
}

// Overlay shows per-peer network statistics on top of a game's screen:
// RTT, jitter, loss, bandwidth in and out, and a scrolling RTT graph. Call
// Update once per frame from the game's Update and Draw last from its
// Draw. An Overlay belongs to the game's goroutine: it is not safe for
// concurrent use.
type Overlay struct {
	keys    []ebiten.Key
	visible bool
	table   *history.Table
	face    text.Face
	lineH   float64
	noPeers string

	justPressed func(ebiten.Key) bool // inpututil.IsKeyJustPressed; tests replace it
	plot        []history.Vertex      // reused by Draw
}

// New returns an overlay configured by o.
func New(o Options) *Overlay {
	keys := o.Keys
	if keys == nil {
		keys = []ebiten.Key{ebiten.KeyF3}
	}
	if o.Samples <= 0 {
		o.Samples = 120
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = 6
	}
	face := o.Face
	if face == nil {
		face = defaultFace()
	}
	m := face.Metrics()
	if o.NoPeers == "" {
		o.NoPeers = "network: no peers"
	}
	return &Overlay{
		noPeers:     o.NoPeers,
		keys:        append([]ebiten.Key(nil), keys...),
		visible:     o.Visible,
		table:       history.NewTable(o.Samples, o.SampleEvery),
		face:        face,
		lineH:       m.HAscent + m.HDescent + 2,
		justPressed: inpututil.IsKeyJustPressed,
	}
}

var (
	goRegular     *text.GoTextFaceSource
	goRegularOnce sync.Once
)

func defaultFace() text.Face {
	goRegularOnce.Do(func() {
		s, err := text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF))
		if err != nil {
			panic(fmt.Sprintf("overlay: the embedded Go Regular font does not load: %v", err))
		}
		goRegular = s
	})
	return &text.GoTextFace{Source: goRegular, Size: 12}
}

// Visible reports whether the overlay is shown.
func (o *Overlay) Visible() bool { return o.visible }

// SetVisible shows or hides the overlay.
func (o *Overlay) SetVisible(v bool) { o.visible = v }

// Toggle shows the overlay if it is hidden, and hides it if it is shown.
func (o *Overlay) Toggle() { o.visible = !o.visible }

// Update toggles the overlay when one of its keys was just pressed, and
// records the peers' statistics (also while hidden, so the graph is full
// when it is shown). Peers are told apart by Name; a peer missing from
// peers is forgotten. Call it once per frame from the game's Update.
func (o *Overlay) Update(peers []Peer) {
	for _, k := range o.keys {
		if o.justPressed(k) {
			o.Toggle()
			break
		}
	}
	o.table.Update(peers)
}

// Layout of the panel, in pixels.
const (
	margin    = 8
	pad       = 6
	graphH    = 36
	gap       = 8
	minPanelW = 260
)

var (
	// The panel is opaque: text behind it must not show through.
	panelColour  = color.RGBA{12, 14, 20, 255}
	borderColour = color.RGBA{70, 80, 100, 255}
	graphBack    = color.RGBA{40, 40, 40, 255}
	textColour   = color.RGBA{255, 255, 255, 255}
	dimColour    = color.RGBA{170, 170, 170, 255}
	rttColour    = color.RGBA{80, 220, 100, 255}
)

// title is the panel's first line.
func (o *Overlay) title(tracks []*history.Track) string {
	title := "network"
	if len(tracks) == 0 {
		title = o.noPeers
	}
	if len(o.keys) > 0 {
		title += " (" + o.keys[0].String() + ")"
	}
	return title
}

// size returns the panel's size within maxW×maxH and how many peers fit.
func (o *Overlay) size(tracks []*history.Track, maxW, maxH float64) (w, h float64, fit int) {
	w = max(minPanelW, text.Advance(o.title(tracks), o.face)+2*pad)
	for _, tr := range tracks {
		w = max(w, text.Advance(history.Format(tr.Stats), o.face)+2*pad, text.Advance(tr.Name, o.face)+2*pad)
	}
	w = max(0, min(w, maxW))
	block := 2*o.lineH + graphH + gap
	// How many peers fit: the title, the blocks, and a "+N more" line.
	fit = len(tracks)
	avail := maxH - 2*pad - o.lineH
	if float64(fit)*block > avail {
		fit = max(int((avail-o.lineH)/block), 0)
	}
	h = 2*pad + o.lineH + float64(fit)*block
	if fit < len(tracks) {
		h += o.lineH
	}
	return w, h, fit
}

// Size returns the size in pixels the panel takes when drawn with DrawIn
// in at most maxW×maxH (peers that do not fit are counted in a last line),
// and whether it is shown. A game uses it to make room for the panel
// beside its play area.
func (o *Overlay) Size(maxW, maxH float64) (w, h float64, shown bool) {
	w, h, _ = o.size(o.table.Tracks(), maxW, maxH)
	return w, h, o.visible
}

// Draw draws the overlay, if it is shown, in the top right corner of
// screen: a title, then for each peer its name, a line of statistics
// (history.Format) and its RTT graph with the graph's scale. Peers that do
// not fit the screen's height are counted in a last line. Call it last in
// the game's Draw. The panel is opaque.
func (o *Overlay) Draw(screen *ebiten.Image) {
	if !o.visible {
		return
	}
	sb := screen.Bounds()
	w, h, _ := o.size(o.table.Tracks(), float64(sb.Dx()-2*margin), float64(sb.Dy()-2*margin))
	o.DrawIn(screen, float64(sb.Max.X-margin)-w, float64(sb.Min.Y+margin), w, h)
}

// DrawIn draws the overlay, if it is shown, in the rectangle at (x, y),
// w×h pixels (Size says how large it wants to be), clipped to it.
func (o *Overlay) DrawIn(screen *ebiten.Image, x, y, w, h float64) {
	if !o.visible || w < 1 || h < 1 {
		return
	}
	r := image.Rect(int(x), int(y), int(x+w), int(y+h)).Intersect(screen.Bounds())
	if r.Empty() {
		return
	}
	dst := screen.SubImage(r).(*ebiten.Image)
	tracks := o.table.Tracks()
	_, _, fit := o.size(tracks, w, h)
	vector.DrawFilledRect(dst, float32(x), float32(y), float32(w), float32(h), panelColour, false)
	vector.StrokeRect(dst, float32(x)+0.5, float32(y)+0.5, float32(w)-1, float32(h)-1, 1, borderColour, false)

	cx, cy := x+pad, y+pad
	o.text(dst, o.title(tracks), cx, cy, dimColour)
	cy += o.lineH
	for _, tr := range tracks[:fit] {
		o.text(dst, tr.Name, cx, cy, textColour)
		cy += o.lineH
		o.text(dst, history.Format(tr.Stats), cx, cy, textColour)
		cy += o.lineH
		o.graph(dst, tr, cx, cy+2, w-2*pad, graphH-4)
		cy += graphH + gap
	}
	if fit < len(tracks) {
		o.text(dst, fmt.Sprintf("+%d more", len(tracks)-fit), cx, cy, dimColour)
	}
}

// graph draws a track's RTT samples in the rectangle at (x, y), w by h,
// with the scale's ends written in a column at its left.
func (o *Overlay) graph(screen *ebiten.Image, tr *history.Track, x, y, w, h float64) {
	lo, hi, ok := tr.RTT.MinMax()
	if !ok {
		vector.DrawFilledRect(screen, float32(x), float32(y), float32(w), float32(h), graphBack, false)
		return
	}
	s := history.NiceScale(lo, hi, 1)
	top, bottom := fmt.Sprintf("%g ms", s.Hi), fmt.Sprintf("%g ms", s.Lo)
	o.text(screen, top, x, y-2, dimColour)
	o.text(screen, bottom, x, y+h-o.lineH+2, dimColour)
	label := max(text.Advance(top, o.face), text.Advance(bottom, o.face)) + 4
	x, w = x+label, w-label
	vector.DrawFilledRect(screen, float32(x), float32(y), float32(w), float32(h), graphBack, false)
	o.plot = history.Plot(o.plot[:0], tr.RTT, s, x, y, w, h)
	for i := 1; i < len(o.plot); i++ {
		a, b := o.plot[i-1], o.plot[i]
		vector.StrokeLine(screen, float32(a.X), float32(a.Y), float32(b.X), float32(b.Y), 1.5, rttColour, true)
	}
	if len(o.plot) == 1 {
		p := o.plot[0]
		vector.DrawFilledCircle(screen, float32(p.X), float32(p.Y), 1.5, rttColour, true)
	}
}

func (o *Overlay) text(screen *ebiten.Image, s string, x, y float64, c color.Color) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	text.Draw(screen, s, o.face, op)
}
