package game

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pumpnet/pumpnet/netcode"
)

// fakeNet is an in-memory session for tests: nodes that are open find each
// other (at most maxPeers to a session, like the lobby), messages take a
// number of ticks per link, Reliable ones arrive in order, Sequenced ones
// can be lost or reordered (and then the older is dropped), a locked node
// neither finds nor is found, and a node can crash with some of its last
// messages lost. Time is the tick count the harness advances. No socket is
// opened.
type fakeNet struct {
	clock    int
	latency  int            // ticks, default for every link
	linkLat  map[string]int // "from>to": ticks
	jitter   int            // extra 0..jitter ticks for Sequenced messages
	loss     float64        // probability a Sequenced message is lost
	rng      *rand.Rand
	maxPeers int
	nodes    []*fakeNode
	seq      uint64
	sent     map[Mode]int // messages sent per mode
	bytes    map[Mode]int
	kinds    map[byte]int // messages sent per kind
}

func newFakeNet() *fakeNet {
	return &fakeNet{latency: 1, linkLat: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2)), maxPeers: MaxPeers,
		sent: map[Mode]int{}, bytes: map[Mode]int{}, kinds: map[byte]int{}}
}

type fakeNode struct {
	net    *fakeNet
	self   Member
	open   bool
	closed bool
	links  map[string]*fakeNode
	inbox  []fakeMsg
	newest map[string]uint64 // last Sequenced seq delivered, per sender
	relDue map[string]int    // last Reliable due tick, per sender
	opens  []bool            // SetOpen calls, in order
	frozen bool              // hung: sends nothing, receives nothing, keeps its links
	drops  []string          // Drop calls, in order
}

type fakeMsg struct {
	due  int
	seq  uint64
	mode Mode
	in   Incoming
}

func (n *fakeNet) node(id, name string) *fakeNode {
	nd := &fakeNode{net: n, self: Member{ID: id, Name: name}, open: true, links: map[string]*fakeNode{},
		newest: map[string]uint64{}, relDue: map[string]int{}}
	n.nodes = append(n.nodes, nd)
	return nd
}

// discover links every pair of open nodes not yet linked, as the lobby's
// discovery does; each side gets PeerJoined.
func (n *fakeNet) discover() {
	for i, a := range n.nodes {
		for _, b := range n.nodes[i+1:] {
			if !a.open || !b.open || a.closed || b.closed || a.frozen || b.frozen || a.links[b.self.ID] != nil ||
				len(a.links) >= n.maxPeers-1 || len(b.links) >= n.maxPeers-1 {
				continue
			}
			a.links[b.self.ID], b.links[a.self.ID] = b, a
			a.push(fakeMsg{due: n.clock, in: Incoming{Kind: PeerJoined, From: b.self}})
			b.push(fakeMsg{due: n.clock, in: Incoming{Kind: PeerJoined, From: a.self}})
		}
	}
}

func (nd *fakeNode) push(m fakeMsg) {
	nd.net.seq++
	m.seq = nd.net.seq
	i := len(nd.inbox)
	for i > 0 && nd.inbox[i-1].due > m.due {
		i--
	}
	nd.inbox = slices.Insert(nd.inbox, i, m)
}

func (n *fakeNet) lat(from, to string) int {
	if l, ok := n.linkLat[from+">"+to]; ok {
		return l
	}
	return n.latency
}

// leave takes nd off the network: its peers get PeerLeft once the messages
// it sent them have arrived, except those to the peers in lose, which are
// lost.
func (nd *fakeNode) leave(reason error, lose ...string) {
	if nd.closed {
		return
	}
	nd.closed = true
	n := nd.net
	for id, peer := range nd.links {
		delete(peer.links, nd.self.ID)
		due := n.clock
		kept := peer.inbox[:0]
		for _, m := range peer.inbox {
			if m.in.From.ID == nd.self.ID && m.in.Kind == Message {
				if slices.Contains(lose, id) {
					continue
				}
				due = max(due, m.due)
			}
			kept = append(kept, m)
		}
		peer.inbox = kept
		peer.push(fakeMsg{due: due, in: Incoming{Kind: PeerLeft, From: nd.self, Reason: reason}})
	}
	nd.links = map[string]*fakeNode{}
	nd.inbox = nil
}

func (nd *fakeNode) Self() Member { return nd.self }

func (nd *fakeNode) Poll(handle func(Incoming)) {
	for len(nd.inbox) > 0 && nd.inbox[0].due <= nd.net.clock && !nd.closed {
		m := nd.inbox[0]
		nd.inbox = nd.inbox[1:]
		if m.mode == Sequenced {
			if m.seq < nd.newest[m.in.From.ID] {
				continue // newest wins
			}
			nd.newest[m.in.From.ID] = m.seq
		}
		handle(m.in)
	}
}

func (nd *fakeNode) Send(to []string, mode Mode, data []byte) error {
	if nd.closed {
		return errors.New("fake: closed")
	}
	if nd.frozen {
		return nil
	}
	n := nd.net
	for _, id := range to {
		peer := nd.links[id]
		if peer == nil {
			continue
		}
		n.sent[mode]++
		n.bytes[mode] += len(data)
		if len(data) > 0 {
			n.kinds[data[0]]++
		}
		due := n.clock + n.lat(nd.self.ID, id)
		if mode == Sequenced {
			if n.rng.Float64() < n.loss {
				continue
			}
			if n.jitter > 0 {
				due += n.rng.IntN(n.jitter + 1)
			}
		} else {
			due = max(due, peer.relDue[nd.self.ID])
			peer.relDue[nd.self.ID] = due
		}
		peer.push(fakeMsg{due: due, mode: mode, in: Incoming{Kind: Message, From: nd.self, Data: slices.Clone(data)}})
	}
	return nil
}

func (nd *fakeNode) SetOpen(open bool) {
	nd.open = open
	nd.opens = append(nd.opens, open)
}

func (nd *fakeNode) Stats(string) (netcode.Stats, bool) { return netcode.Stats{}, false }

// Drop closes the link to peer id, as closing a connection does: what the
// peer sent that has not arrived is lost, both ends get PeerLeft (the
// other end after the link's latency, if it is not frozen).
func (nd *fakeNode) Drop(id string) {
	peer := nd.links[id]
	if peer == nil {
		return
	}
	nd.drops = append(nd.drops, id)
	delete(nd.links, id)
	delete(peer.links, nd.self.ID)
	kept := nd.inbox[:0]
	for _, m := range nd.inbox {
		if m.in.From.ID != id {
			kept = append(kept, m)
		}
	}
	nd.inbox = kept
	nd.push(fakeMsg{due: nd.net.clock, in: Incoming{Kind: PeerLeft, From: peer.self, Reason: errors.New("fake: dropped")}})
	peer.push(fakeMsg{due: nd.net.clock + nd.net.lat(nd.self.ID, id), in: Incoming{Kind: PeerLeft, From: nd.self, Reason: errors.New("fake: dropped by peer")}})
}

// freeze hangs nd as a killed process does whose connections nobody
// closed: it sends nothing more, what was sent to it is never read, and
// its peers are told nothing (the harness no longer updates its game).
func (nd *fakeNode) freeze() { nd.frozen = true }

func (nd *fakeNode) Close() error {
	nd.leave(errors.New("fake: left"))
	return nil
}

// harness runs games over a fakeNet in lockstep and checks, after every
// tick, that no two of them ever had different states at the same step.
type harness struct {
	t        *testing.T
	net      *fakeNet
	games    []*Game
	nodes    map[*Game]*fakeNode
	digests  map[[2]int]uint64 // (round, step) -> digest
	seen     map[[2]int]string // who recorded it first
	events   map[*Game][]Event
	checked  int // digests compared
	recorded map[*Game][2]int
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, net: newFakeNet(), nodes: map[*Game]*fakeNode{},
		digests: map[[2]int]uint64{}, seen: map[[2]int]string{}, events: map[*Game][]Event{},
		recorded: map[*Game][2]int{}}
}

// add starts a game on a new node with the given ID.
func (h *harness) add(id string, cfg Config) *Game {
	h.t.Helper()
	nd := h.net.node(id, "name-"+id)
	g, err := New(cfg, nd)
	if err != nil {
		h.t.Fatal(err)
	}
	h.games = append(h.games, g)
	h.nodes[g] = nd
	return g
}

func (h *harness) alive() []*Game {
	var out []*Game
	for _, g := range h.games {
		if nd := h.nodes[g]; !nd.closed && !nd.frozen {
			out = append(out, g)
		}
	}
	return out
}

// tick advances the clock one tick and updates every live game.
func (h *harness) tick() {
	h.t.Helper()
	h.net.clock++
	h.net.discover()
	for _, g := range h.alive() {
		g.Update()
		h.events[g] = append(h.events[g], g.Events()...)
		for _, e := range h.events[g][max(0, len(h.events[g])-8):] {
			if e.Kind == EventProblem && e.Tick == g.Tick() {
				h.t.Logf("%s: problem: %v", g.Self().ID, e.Err)
			}
		}
		h.record(g)
	}
}

// record compares every step g has applied with what the others had.
func (h *harness) record(g *Game) {
	h.t.Helper()
	r := g.round
	if r == nil {
		return
	}
	check := func(step int, d uint64) {
		k := [2]int{r.start.round, step}
		if old, ok := h.digests[k]; ok {
			h.checked++
			if old != d {
				h.t.Fatalf("round %d step %d: %s has digest %016x, %s had %016x", k[0], k[1], g.Self().ID, d, h.seen[k], old)
			}
			return
		}
		h.digests[k], h.seen[k] = d, g.Self().ID
	}
	check(r.sim.Steps(), r.sim.Digest()) // the live state, computed by this peer's sim
	k := [2]int{r.start.round, len(r.history)}
	if h.recorded[g] == k {
		return
	}
	from := 0
	if h.recorded[g][0] == r.start.round {
		from = min(h.recorded[g][1], len(r.history))
	}
	for i, rec := range r.history[from:] {
		check(from+i+1, rec.digest)
	}
	h.recorded[g] = k
}

// run ticks until cond holds, failing after limit ticks.
func (h *harness) run(limit int, what string, cond func() bool) {
	h.t.Helper()
	for range limit {
		if cond() {
			return
		}
		h.tick()
	}
	if !cond() {
		h.t.Fatalf("%s: not reached after %d ticks", what, limit)
	}
}

func (h *harness) ticks(n int) {
	h.t.Helper()
	for range n {
		h.tick()
	}
}

// allIn returns a condition: every game of gs (default: every live game)
// is in scene, in round.
func (h *harness) allIn(scene Scene, round int, gs ...*Game) func() bool {
	return func() bool {
		if len(gs) == 0 {
			gs = h.alive()
		}
		for _, g := range gs {
			if g.Scene() != scene || g.Round() != round {
				return false
			}
		}
		return true
	}
}

// eventsOf returns g's events of one kind.
func (h *harness) eventsOf(g *Game, kind EventKind) []Event {
	var out []Event
	for _, e := range h.events[g] {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// sameResults checks that every game in gs reports the same last result.
func sameResults(t *testing.T, gs ...*Game) Result {
	t.Helper()
	want := gs[0].Result()
	for _, g := range gs[1:] {
		if got := g.Result(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s's result %+v, %s's %+v", g.Self().ID, got, gs[0].Self().ID, want)
		}
	}
	return want
}
