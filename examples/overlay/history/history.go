package history

import (
	"math"

	"github.com/pumpnet/pumpnet/netcode"
)

// Peer is one connection to show: a name to tell it by, and its latest
// statistics (engine.Peer.Stats, engine.Client.Stats).
type Peer struct {
	Name  string
	Stats netcode.Stats
}

// Ring holds the newest samples, up to a fixed capacity: pushing onto a
// full ring drops the oldest. The zero value holds nothing; use NewRing.
type Ring struct {
	buf   []float64
	start int // index of the oldest sample
	n     int
}

// NewRing returns a ring for capacity samples (at least 1).
func NewRing(capacity int) *Ring { return &Ring{buf: make([]float64, max(capacity, 1))} }

// Cap returns how many samples the ring holds when full.
func (r *Ring) Cap() int { return len(r.buf) }

// Len returns how many samples the ring holds.
func (r *Ring) Len() int { return r.n }

// Push adds a sample, dropping the oldest if the ring is full. NaN and
// infinite values are ignored.
func (r *Ring) Push(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// At returns sample i, oldest first (0 <= i < Len).
func (r *Ring) At(i int) float64 {
	if i < 0 || i >= r.n {
		panic("history: Ring.At index out of range")
	}
	return r.buf[(r.start+i)%len(r.buf)]
}

// Last returns the newest sample (ok false if the ring is empty).
func (r *Ring) Last() (v float64, ok bool) {
	if r.n == 0 {
		return 0, false
	}
	return r.At(r.n - 1), true
}

// MinMax returns the smallest and largest samples (ok false if the ring
// is empty).
func (r *Ring) MinMax() (lo, hi float64, ok bool) {
	if r.n == 0 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range r.n {
		v := r.At(i)
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, true
}

// Track is the history of one peer: its latest statistics and its RTT, in
// milliseconds, sampled at a fixed number of updates.
type Track struct {
	Name  string
	Stats netcode.Stats // the latest
	RTT   *Ring         // milliseconds, oldest first
}

// Table keeps a Track per peer from frame to frame. The zero value is not
// usable: call NewTable. Not safe for concurrent use (it belongs to the
// game's Update).
type Table struct {
	tracks  []*Track
	spare   []*Track // the previous frame's slice, reused
	samples int
	every   int
	tick    int
}

// NewTable returns a table whose tracks keep samples RTT samples, one
// every `every` calls to Update (at 60 updates per second, every = 6 and
// samples = 120 show the last 12 seconds). Values below 1 mean 1.
func NewTable(samples, every int) *Table {
	return &Table{samples: max(samples, 1), every: max(every, 1)}
}

// Update records the peers' statistics for this frame. Peers are told
// apart by name (two peers with the same name, by their order among
// those); a peer absent from peers is forgotten, with its history; a new
// peer gets a track with its first sample at once. Every `every` updates,
// each track takes an RTT sample. The tracks follow the order of peers.
func (t *Table) Update(peers []Peer) {
	sample := t.tick%t.every == 0
	t.tick++
	old := t.tracks
	next := t.spare[:0]
	for _, p := range peers {
		var tr *Track
		for i, o := range old {
			if o != nil && o.Name == p.Name {
				tr, old[i] = o, nil
				break
			}
		}
		isNew := tr == nil
		if isNew {
			tr = &Track{Name: p.Name, RTT: NewRing(t.samples)}
		}
		tr.Stats = p.Stats
		if sample || isNew {
			tr.RTT.Push(ms(p.Stats.RTT.Seconds()))
		}
		next = append(next, tr)
	}
	clear(old)
	t.tracks, t.spare = next, old
}

func ms(seconds float64) float64 { return seconds * 1000 }

// Tracks returns the tracks in the order of the last Update. The slice and
// tracks belong to the table: read them during the frame, do not keep
// them.
func (t *Table) Tracks() []*Track { return t.tracks }
