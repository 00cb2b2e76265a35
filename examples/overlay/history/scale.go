package history

import "math"

// Scale is the range of values a graph spans, from Lo at its bottom to Hi
// at its top.
type Scale struct {
	Lo, Hi float64
}

// NiceScale returns a scale that holds lo..hi with round ends: both are
// multiples of a step of 1, 2 or 5 times a power of ten, chosen so the
// span is about four steps. A span below minSpan is widened upwards to
// minSpan first (so that a flat, quiet RTT is not drawn as wild noise);
// minSpan <= 0 means 1. A scale of non-negative values never goes below
// zero. NaN or infinite ends give 0..minSpan.
func NiceScale(lo, hi, minSpan float64) Scale {
	if minSpan <= 0 || math.IsNaN(minSpan) || math.IsInf(minSpan, 0) {
		minSpan = 1
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		lo, hi = 0, minSpan
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if hi-lo < minSpan {
		hi = lo + minSpan
	}
	step := niceStep((hi - lo) / 4)
	// Rounded so that 0.1-steps print as 0.3, not 0.30000000000000004.
	s := Scale{Lo: round6(math.Floor(lo/step) * step), Hi: round6(math.Ceil(hi/step) * step)}
	if lo >= 0 && s.Lo < 0 {
		s.Lo = 0
	}
	return s
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// niceStep returns the smallest of 1, 2, 5 times a power of ten that is at
// least x (x > 0).
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// Y maps v to a pixel row in a graph whose top is at top and which is
// height pixels tall: Hi at top, Lo at top+height. Values outside the
// scale are clamped to the graph.
func (s Scale) Y(v, top, height float64) float64 {
	span := s.Hi - s.Lo
	if span <= 0 {
		return top + height
	}
	f := (v - s.Lo) / span
	f = min(max(f, 0), 1)
	return top + height*(1-f)
}

// Vertex is a point of a plotted graph, in pixels.
type Vertex struct{ X, Y float64 }

// Plot appends to dst the points of r's samples drawn in the rectangle at
// (x, y), w by h pixels, on scale s, and returns it. The newest sample is at
// the right edge and each older one dx = w/(r.Cap()-1) further left, so a
// graph scrolls left as samples arrive and a full ring spans the width.
func Plot(dst []Vertex, r *Ring, s Scale, x, y, w, h float64) []Vertex {
	n := r.Len()
	dx := w
	if c := r.Cap(); c > 1 {
		dx = w / float64(c-1)
	}
	for i := range n {
		dst = append(dst, Vertex{X: x + w - float64(n-1-i)*dx, Y: s.Y(r.At(i), y, h)})
	}
	return dst
}
