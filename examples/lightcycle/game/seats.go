package game

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// The lobby. Every peer tells every other its intent (the colour it wants,
// whether it is ready for the next round) when it changes and when a peer
// joins. The authority (the lowest ID connected, or a round's host during
// the round) keeps the seat table: who is in, their colours, their
// readiness, the scores. It resolves colour claims in the order they reached
// it, broadcasts the table when it changes and, when every human is ready,
// announces the round. The others keep the latest table as a replica, so
// whoever takes over carries on from it.
//
// A peer that joins an existing group hears a table from each peer first;
// it adopts the one furthest on (a later round, or a round being played),
// and acts as authority only once it has heard from everyone and no round
// it has not got is being played.

// intent returns the local player's intent.
func (g *Game) intent() intentMsg {
	m := intentMsg{want: g.want}
	if g.ready && g.scene != ScenePlay {
		m.readyFor = g.table.lastRound + 1
	}
	return m
}

func (g *Game) sendIntent(to []string) {
	m := g.intent()
	g.sendMsg(to, Reliable, &m)
}

func (g *Game) addClaim(id string) {
	g.claims = append(slices.DeleteFunc(g.claims, func(c string) bool { return c == id }), id)
}

func (g *Game) gotIntent(from string, m intentMsg) {
	old, had := g.intents[from]
	g.intents[from] = m
	if !had || old.want != m.want {
		g.addClaim(from)
	}
}

func (g *Game) gotTable(from string, t *tableMsg) {
	p := g.peers[from]
	p.heard = true
	adopt := from == g.authority() && from != g.self.ID
	switch {
	case t.progress() > g.table.progress():
		adopt = true // we are behind (we just joined, or missed an end)
	case t.playing != 0 && t.playing == g.table.playing && t.roundHost == from && from != g.table.roundHost:
		adopt = true // the round's new host
	}
	if !adopt {
		return
	}
	if g.scene == ScenePlay && g.round.host == g.self.ID && from != g.self.ID {
		return // we run this round and its table
	}
	oldNext := g.table.lastRound + 1
	g.table = *t
	for _, s := range t.scores {
		g.scores[s.id] = s.score
	}
	for _, s := range t.seats {
		if s.id != g.self.ID {
			g.names[s.id] = s.name
		}
	}
	if from == g.authority() {
		g.claims = g.claims[:0]
	}
	if g.ready && g.table.lastRound+1 != oldNext {
		g.sendIntent(g.ids) // ready for the next round, which moved
	}
}

// heardAll reports whether a table arrived from every connected peer.
func (g *Game) heardAll() bool {
	for _, p := range g.peers {
		if !p.heard {
			return false
		}
	}
	return true
}

// runTable is the authority's work, once per Update: keep the seat table,
// broadcast it when it changed, and announce a round when everyone is
// ready.
func (g *Game) runTable() {
	if g.authority() != g.self.ID {
		return
	}
	if g.scene != ScenePlay {
		if !g.heardAll() {
			return
		}
		if g.table.playing != 0 {
			if g.peers[g.table.roundHost] != nil {
				return // its host will send us the round
			}
			g.table.playing, g.table.roundHost = 0, "" // that round is gone
		}
	}
	g.table.seats = g.seatsNow()
	g.table.bots = g.cfg.Bots
	g.table.scores = g.table.scores[:0]
	for _, id := range sortedKeys(g.scores) {
		g.table.scores = append(g.table.scores, scoreEntry{id: id, score: g.scores[id]})
	}
	if len(g.table.scores) > maxScores {
		g.table.scores = g.table.scores[len(g.table.scores)-maxScores:]
	}
	b := g.table.append(nil)
	if !bytes.Equal(b, g.sent) {
		g.sent = b
		g.send(g.ids, Reliable, b)
	}
	if g.scene != ScenePlay && g.allReady() {
		g.startRound()
	}
}

// seatsNow computes the seat table: every human connected, keeping the
// colours already assigned, resolving pending claims in arrival order.
func (g *Game) seatsNow() []seatEntry {
	members := append([]string{g.self.ID}, g.ids...)
	slices.Sort(members)
	seats := make([]seatEntry, 0, len(members))
	for _, id := range members {
		colour := -1
		for _, s := range g.table.seats {
			if s.id == id {
				colour = s.colour
			}
		}
		in, _ := g.intentOf(id)
		seats = append(seats, seatEntry{id: id, name: g.Name(id), colour: colour, readyFor: in.readyFor})
	}
	find := func(id string) int {
		return slices.IndexFunc(seats, func(s seatEntry) bool { return s.id == id })
	}
	used := func(except int) []int {
		var u []int
		for k, s := range seats {
			if k != except && s.colour >= 0 {
				u = append(u, s.colour)
			}
		}
		return u
	}
	// Claims first, in the order they arrived: first claim wins.
	for _, id := range g.claims {
		if k := find(id); k >= 0 {
			in, _ := g.intentOf(id)
			seats[k].colour, _ = sim.FreeColour(used(k), in.want)
		}
	}
	g.claims = g.claims[:0]
	// Then anyone left without a colour, or holding one twice (tables
	// merged), in ID order.
	for k := range seats {
		dup := false
		for j := range k {
			dup = dup || seats[k].colour >= 0 && seats[j].colour == seats[k].colour
		}
		if dup {
			seats[k].colour = -1
		}
		if in, ok := g.intentOf(seats[k].id); ok && seats[k].colour < 0 {
			seats[k].colour, _ = sim.FreeColour(used(k), in.want)
		}
	}
	return seats
}

func (g *Game) intentOf(id string) (intentMsg, bool) {
	if id == g.self.ID {
		return g.intent(), true
	}
	in, ok := g.intents[id]
	return in, ok
}

func (g *Game) allReady() bool {
	next := g.table.lastRound + 1
	for _, s := range g.table.seats {
		if s.colour < 0 || s.readyFor != next {
			return false
		}
	}
	return len(g.table.seats) > 0
}

// startRound announces the next round: every human of the table and robots
// in the empty seats.
func (g *Game) startRound() {
	round := g.table.lastRound + 1
	start := startMsg{round: round, seed: g.roundSeed(round), delay: g.cfg.Countdown}
	var used []int
	for _, s := range g.table.seats {
		start.players = append(start.players, startPlayer{id: s.id, name: g.Name(s.id), colour: s.colour, score: g.scores[s.id]})
		used = append(used, s.colour)
	}
	bots := min(g.cfg.Bots, sim.MaxPlayers-len(start.players))
	for i := 1; i <= bots; i++ {
		c, _ := sim.FreeColour(used, -1)
		used = append(used, c)
		id := fmt.Sprintf("bot%d", i)
		start.players = append(start.players, startPlayer{id: id, name: fmt.Sprintf("robot %d", i), colour: c, robot: true, score: g.scores[id]})
	}
	slices.SortFunc(start.players, func(a, b startPlayer) int { return cmp.Compare(a.id, b.id) })
	g.sendMsg(g.ids, Reliable, &start)
	g.beginRound(&start, g.self.ID)
	for _, id := range g.ids {
		g.peers[id].follow(0, 0)
	}
	// The table now says the round is on.
	g.runTable()
}

func (g *Game) roundSeed(round int) uint64 {
	if g.cfg.Seed == 0 {
		return rand.Uint64()
	}
	x := g.cfg.Seed + uint64(round)*0x9e3779b97f4a7c15
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	return x ^ x>>29
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}
