package overlay

import (
	"image"
	"image/color"
	"os"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/pumpnet/pumpnet/netcode"
)

// TestMain runs the tests inside Ebitengine's game loop (from the first
// Update), as Ebitengine's own tests do, so that images can be drawn and
// read back. It needs a display: CI runs it under xvfb-run.
func TestMain(m *testing.M) {
	g := &testLoop{m: m, code: 1}
	if err := ebiten.RunGame(g); err != nil {
		panic(err)
	}
	os.Exit(g.code)
}

type testLoop struct {
	m    *testing.M
	code int
}

func (g *testLoop) Update() error {
	g.code = g.m.Run()
	return ebiten.Termination
}

func (*testLoop) Draw(*ebiten.Image)         {}
func (*testLoop) Layout(int, int) (int, int) { return 320, 240 }

// render draws o on a white 640×480 image and returns its pixels.
func render(o *Overlay) *image.RGBA {
	screen := ebiten.NewImage(640, 480)
	defer screen.Deallocate()
	screen.Fill(color.White)
	o.Draw(screen)
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	screen.ReadPixels(img.Pix)
	return img
}

func count(img *image.RGBA, r image.Rectangle, f func(color.RGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if f(img.RGBAAt(x, y)) {
				n++
			}
		}
	}
	return n
}

func white(c color.RGBA) bool { return c.R == 255 && c.G == 255 && c.B == 255 }
func dark(c color.RGBA) bool  { return c.R < 80 && c.G < 80 && c.B < 80 }
func green(c color.RGBA) bool { return c.G > 150 && c.R < 150 && c.B < 150 }

func peer(name string, rtt time.Duration) Peer {
	return Peer{Name: name, Stats: netcode.Stats{RTT: rtt, Jitter: time.Millisecond, BytesInPerSec: 3100, BytesOutPerSec: 2800}}
}

func TestHiddenDrawsNothing(t *testing.T) {
	o := New(Options{})
	o.Update([]Peer{peer("server", 20*time.Millisecond)})
	img := render(o)
	if n := count(img, img.Rect, func(c color.RGBA) bool { return !white(c) }); n != 0 {
		t.Fatalf("hidden overlay changed %d pixels", n)
	}
}

func TestVisibleDrawsPanelAndGraph(t *testing.T) {
	o := New(Options{Visible: true, SampleEvery: 1, Samples: 60})
	for i := range 60 {
		o.Update([]Peer{peer("server", time.Duration(10+i%20)*time.Millisecond), peer("ann", 40*time.Millisecond)})
	}
	img := render(o)
	// The panel sits in the top right corner, dark, with the RTT graphs
	// (green) in it; the rest of the screen is untouched.
	topRight := image.Rect(640-8-260, 8, 640-8, 8+150)
	if n := count(img, topRight, dark); n < topRight.Dx()*topRight.Dy()/3 {
		t.Errorf("panel: %d dark pixels of %d", n, topRight.Dx()*topRight.Dy())
	}
	if n := count(img, topRight, green); n < 100 {
		t.Errorf("graph: %d green pixels", n)
	}
	if n := count(img, image.Rect(0, 200, 300, 480), func(c color.RGBA) bool { return !white(c) }); n != 0 {
		t.Errorf("overlay drew %d pixels outside its panel", n)
	}
	// Text is drawn: the panel has light pixels besides the graph.
	if n := count(img, topRight, func(c color.RGBA) bool { return c.R > 200 && c.G > 200 && c.B > 200 }); n < 100 {
		t.Errorf("text: %d light pixels", n)
	}
}

func TestManyPeersFitTheScreen(t *testing.T) {
	o := New(Options{Visible: true})
	var peers []Peer
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		peers = append(peers, peer(n, 5*time.Millisecond))
	}
	o.Update(peers)
	img := render(o)
	// The panel stops above the bottom margin.
	if n := count(img, image.Rect(0, 480-8, 640, 480), func(c color.RGBA) bool { return !white(c) }); n != 0 {
		t.Fatalf("panel runs off the screen: %d pixels in the bottom margin", n)
	}
}

func TestKeysToggle(t *testing.T) {
	pressed := map[ebiten.Key]bool{}
	o := New(Options{Keys: []ebiten.Key{ebiten.KeyF3, ebiten.KeyTab}})
	o.justPressed = func(k ebiten.Key) bool { return pressed[k] }
	o.Update(nil)
	if o.Visible() {
		t.Fatal("visible before any key")
	}
	pressed[ebiten.KeyTab] = true
	o.Update(nil)
	if !o.Visible() {
		t.Fatal("Tab did not show the overlay")
	}
	pressed[ebiten.KeyF3] = true // both at once: one toggle
	o.Update(nil)
	if o.Visible() {
		t.Fatal("F3 with Tab did not hide it exactly once")
	}
	clear(pressed)
	pressed[ebiten.KeyA] = true
	o.Update(nil)
	if o.Visible() {
		t.Fatal("an unrelated key toggled")
	}

	if d := New(Options{}); len(d.keys) != 1 || d.keys[0] != ebiten.KeyF3 {
		t.Fatalf("default keys %v", d.keys)
	}
	none := New(Options{Keys: []ebiten.Key{}})
	none.justPressed = func(ebiten.Key) bool { return true }
	none.Update(nil)
	if none.Visible() {
		t.Fatal("an overlay without keys toggled")
	}
	none.Toggle()
	if !none.Visible() {
		t.Fatal("Toggle")
	}
	none.SetVisible(false)
	if none.Visible() {
		t.Fatal("SetVisible")
	}
}

// renderOn draws o with DrawIn (or Draw, if r is empty) on a 640×480
// image filled with bg and returns its pixels.
func renderOn(o *Overlay, bg color.Color, r image.Rectangle) *image.RGBA {
	screen := ebiten.NewImage(640, 480)
	defer screen.Deallocate()
	screen.Fill(bg)
	if r.Empty() {
		o.Draw(screen)
	} else {
		o.DrawIn(screen, float64(r.Min.X), float64(r.Min.Y), float64(r.Dx()), float64(r.Dy()))
	}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	screen.ReadPixels(img.Pix)
	return img
}

// TestPanelIsOpaque: nothing behind the panel shows through it: drawn over
// white and over black, every pixel of the panel is the same.
func TestPanelIsOpaque(t *testing.T) {
	o := New(Options{Visible: true, SampleEvery: 1})
	for i := range 30 {
		o.Update([]Peer{peer("server", time.Duration(10+i)*time.Millisecond)})
	}
	w, h, shown := o.Size(624, 464)
	if !shown || w < minPanelW || h < 50 {
		t.Fatalf("Size = %v, %v, %v", w, h, shown)
	}
	panel := image.Rect(640-8-int(w), 8, 640-8, 8+int(h))
	a, b := renderOn(o, color.White, image.Rectangle{}), renderOn(o, color.Black, image.Rectangle{})
	diff := 0
	for y := panel.Min.Y + 1; y < panel.Max.Y-1; y++ {
		for x := panel.Min.X + 1; x < panel.Max.X-1; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				diff++
			}
		}
	}
	if diff > 0 {
		t.Errorf("%d pixels of the panel %v depend on what is behind it", diff, panel)
	}
}

// TestDrawInStaysInItsRectangle: DrawIn draws the panel where it is told,
// clipped to it, and nowhere else; with no peers it shows NoPeers.
func TestDrawInStaysInItsRectangle(t *testing.T) {
	o := New(Options{Visible: true, NoPeers: "offline game: no network"})
	o.Update(nil)
	r := image.Rect(100, 300, 300, 330) // lower than the panel wants
	img := renderOn(o, color.White, r)
	outside := 0
	for y := range 480 {
		for x := range 640 {
			if !(image.Point{x, y}).In(r) && !white(img.RGBAAt(x, y)) {
				outside++
			}
		}
	}
	if outside > 0 {
		t.Errorf("%d pixels drawn outside %v", outside, r)
	}
	if n := count(img, r, dark); n < r.Dx()*r.Dy()/2 {
		t.Errorf("the panel is not in %v (%d dark pixels)", r, n)
	}
	if o.title(nil) != "offline game: no network (F3)" {
		t.Errorf("title %q", o.title(nil))
	}
	o.SetVisible(false)
	if _, _, shown := o.Size(640, 480); shown {
		t.Error("hidden, Size says shown")
	}
}
