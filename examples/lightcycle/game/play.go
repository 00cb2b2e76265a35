package game

import (
	"slices"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
)

// Rounds. The host announces a round (start: round, seed, players and the
// ticks until it starts, counted by each peer from when the announcement
// reached it). Every peer builds the same sim.Game from it. The host runs
// sim.Tick once per Update and keeps each step's record (outcome, binary
// form, digest after it); the others apply the records in order with
// sim.Game.Apply and check the digest. Every peer keeps the round's
// history, so any of them can take over.
//
// The host sends each peer the records it lacks: with Reliable outcomes,
// each record once, reliable and ordered; with Sequenced outcomes, one
// unreliable sequenced message holding every record the peer has not
// acknowledged (at most seqWindowBytes), when there is a new step and
// every ResendTicks (default: every Update) until it acknowledges.
// Peers acknowledge the last step they applied (sequenced) in both modes.
//
// A peer that cannot apply a record, or waits too long on a gap, asks for a
// resync; the host then rebuilds it: it sends the round's announcement
// again (with a new epoch) and every record from the first. A newcomer
// during a round is rebuilt the same way and watches.
//
// When the host leaves, every peer picks the same successor: the lowest ID
// among the round's humans still connected (this peer included), or the
// lowest ID connected if none is. The others send it a state report (their
// step, digest, announcement and last records). The successor waits for
// them (at most SyncTicks), adopts the records it lacks (so it continues
// exactly where the furthest peer was), then carries on as host; peers whose
// digest disagrees with its history are rebuilt. If it cannot reach the
// furthest peer's step, it abandons the round: everyone gets a result
// marked Abandoned, and nobody waits.

// maxPending bounds the records a follower keeps while waiting on a gap.
const maxPending = 256

// seqWindowBytes bounds the records in one sequenced message: with the
// headers they stay in one datagram.
const seqWindowBytes = 900

// beginRound sets up the round of an announcement from host.
func (g *Game) beginRound(m *startMsg, host string) {
	cfgs := make([]sim.PlayerConfig, len(m.players))
	for i, p := range m.players {
		cfgs[i] = sim.PlayerConfig{ID: p.id, Colour: p.colour, Robot: p.robot}
	}
	sg, err := sim.New(sim.Config{Seed: m.seed, Players: cfgs})
	if err != nil {
		g.problem("round %d from %.8s: %w", m.round, host, err)
		return
	}
	r := &roundState{
		start:     *m,
		sim:       sg,
		host:      host,
		startTick: g.tick + m.delay,
		digest0:   sg.Digest(),
		pending:   make(map[int]stepRecord),
		seat:      sg.Index(g.self.ID),
	}
	r.start.players = append([]startPlayer(nil), m.players...)
	r.board = &roundBoard{Game: sg, round: m.round, base: make(map[string]int, len(m.players))}
	for _, p := range m.players {
		r.board.base[p.id] = p.score
	}
	for _, p := range m.players {
		g.scores[p.id] = p.score
		if p.id != g.self.ID {
			g.names[p.id] = p.name
		}
		if !p.robot && p.id != g.self.ID && g.peers[p.id] == nil {
			_ = sg.Remove(p.id) // left before the round reached us
		}
	}
	g.round = r
	g.scene = ScenePlay
	g.ready = false
	g.table.lastRound = max(g.table.lastRound, m.round-1)
	g.table.playing, g.table.roundHost = m.round, host
	if g.tr != nil && !g.cfg.Watchers {
		g.tr.SetOpen(false)
	}
	g.sendIntent(g.ids)
	g.pilot.reset()
	g.emit(Event{Kind: EventRoundAnnounced, Round: m.round, Countdown: m.delay})
}

// play runs the round for one tick.
func (g *Game) play() {
	r := g.round
	if !r.started && g.tick >= r.startTick {
		r.started = true
		g.emit(Event{Kind: EventRoundStarted, Round: r.start.round})
	}
	if r.host != g.self.ID {
		g.checkGap()
		g.steer()
		return
	}
	if r.syncing {
		if g.tick < r.syncUntil && !g.allSynced() {
			return
		}
		g.finishSync()
	}
	if g.scene == ScenePlay && r.started && g.tick > r.startTick && !r.over {
		if o, ok := r.sim.Tick(); ok {
			bin, err := o.MarshalBinary()
			if err != nil {
				g.problem("step %d: %w", o.Step, err)
				return
			}
			r.history = append(r.history, stepRecord{out: o, bin: bin, digest: r.sim.Digest()})
			g.afterStep(o)
		}
	}
	if g.scene == ScenePlay {
		g.steer()
	}
}

// afterStep reports a step's crashes, ends the round or steers the
// autopilot.
func (g *Game) afterStep(o sim.Outcome) {
	r := g.round
	if len(o.Deaths) > 0 {
		players := r.sim.Players()
		for _, d := range o.Deaths {
			c := Crash{Player: d.Player, ID: players[d.Player].ID, Cell: d.Cell, Cause: d.Cause, Step: o.Step, Tick: g.tick}
			r.crashes = append(r.crashes, c)
			g.emit(Event{Kind: EventCrash, Round: r.start.round, Crash: c})
		}
	}
	if o.Over {
		g.endRound(false)
	}
}

// steer lets the autopilot decide, once per step, on the latest state.
func (g *Game) steer() {
	r := g.round
	if !g.cfg.Autopilot || r.seat < 0 || r.over || r.sim.Steps() == r.steered {
		return
	}
	r.steered = r.sim.Steps()
	if t, ok := g.pilot.decide(r.sim, r.seat); ok {
		g.Turn(t)
	}
}

// endRound ends the current round, with its result or abandoned.
func (g *Game) endRound(abandoned bool) {
	r := g.round
	r.over = true
	res := Result{Round: r.start.round, Abandoned: abandoned, Steps: r.sim.Steps(), Digest: r.sim.Digest()}
	players := r.sim.Players()
	if w, over := r.sim.Result(); !abandoned && over && w >= 0 {
		res.Winner = players[w].ID
		res.WinnerName = g.Name(res.Winner)
	}
	// Scores are the announced ones plus this round's win, whatever
	// tables arrived meanwhile (they may already count it).
	for _, p := range players {
		score := 0
		if k := slices.IndexFunc(r.start.players, func(sp startPlayer) bool { return sp.id == p.ID }); k >= 0 {
			score = r.start.players[k].score
		}
		if p.ID == res.Winner {
			score++
		}
		g.scores[p.ID] = score
		res.Scores = append(res.Scores, Score{ID: p.ID, Name: g.Name(p.ID), Robot: p.Robot, Score: score})
	}
	g.result = res
	g.table.lastRound = max(g.table.lastRound, r.start.round)
	g.table.playing, g.table.roundHost = 0, ""
	g.scene = SceneResults
	g.ready = false
	if g.tr != nil && !g.cfg.Watchers {
		g.tr.SetOpen(true)
	}
	g.sendIntent(g.ids)
	g.emit(Event{Kind: EventRoundOver, Round: r.start.round, Result: res})
}

// gotStart takes an announcement: a new round, or this round again (a
// rebuild) from its host.
func (g *Game) gotStart(from string, m *startMsg) {
	if g.scene == ScenePlay {
		if r := g.round; from != r.host || m.round < r.start.round {
			return
		}
	} else if m.round <= g.table.lastRound {
		return // a round this peer has seen to the end
	}
	g.beginRound(m, from)
}

// gotSteps takes records from the host.
func (g *Game) gotSteps(from string, m *stepsMsg) {
	r := g.round
	if r == nil || from != r.host || from == g.self.ID || m.round != r.start.round {
		return
	}
	r.ackDue = true
	if r.over {
		return
	}
	for _, rec := range m.steps {
		if s := rec.out.Step; s > r.sim.Steps() && len(r.pending) < maxPending {
			r.pending[s] = rec
		}
	}
	for !r.over {
		rec, ok := r.pending[r.sim.Steps()+1]
		if !ok {
			break
		}
		delete(r.pending, rec.out.Step)
		if !g.applyStep(rec) {
			clear(r.pending)
			g.askResync()
			break
		}
	}
	if r.over {
		clear(r.pending)
	}
	if len(r.pending) == 0 {
		r.gapSince = 0
	} else if r.gapSince == 0 {
		r.gapSince = g.tick
	}
}

// applyStep applies one record of the host's and checks the digest.
func (g *Game) applyStep(rec stepRecord) bool {
	r := g.round
	if err := r.sim.Apply(rec.out); err != nil {
		g.problem("%w", err)
		return false
	}
	if d := r.sim.Digest(); d != rec.digest {
		g.problem("round %d step %d: digest %016x, the host's %016x", r.start.round, rec.out.Step, d, rec.digest)
		return false
	}
	r.history = append(r.history, rec)
	g.afterStep(rec.out)
	return true
}

// checkGap asks for a resync when records wait on a gap too long.
func (g *Game) checkGap() {
	if r := g.round; !r.over && r.gapSince != 0 && g.tick-r.gapSince > g.cfg.SyncTicks {
		r.gapSince = g.tick
		r.resync = false
		g.askResync()
	}
}

func (g *Game) askResync() {
	r := g.round
	if r.resync {
		return
	}
	r.resync = true
	m := resyncMsg{round: r.start.round, epoch: r.start.epoch}
	g.sendMsg([]string{r.host}, Reliable, &m)
}

// rebuild sends peer id the whole round: the announcement (new epoch) and,
// from then on, every record from the first.
func (g *Game) rebuild(id string) {
	r, p := g.round, g.peers[id]
	if p == nil {
		return
	}
	m := r.start
	m.delay = max(0, r.startTick-g.tick)
	m.epoch = p.epoch + 1
	g.sendMsg([]string{id}, Reliable, &m)
	p.follow(0, m.epoch)
	p.synced = true
}

func (g *Game) gotAck(from string, m *ackMsg) {
	r, p := g.round, g.peers[from]
	if r == nil || r.host != g.self.ID || m.round != r.start.round || !p.tracked || m.epoch != p.epoch {
		return
	}
	p.acked = max(p.acked, min(m.step, len(r.history)))
}

func (g *Game) gotTurn(from string, m *turnMsg) {
	if r := g.round; g.scene == ScenePlay && r.host == g.self.ID && m.round == r.start.round {
		_ = r.sim.Turn(from, m.turn) // dead, left or a full queue: dropped
	}
}

// flushSteps sends every tracked peer the records it lacks.
func (g *Game) flushSteps() {
	r := g.round
	if r == nil || r.host != g.self.ID || g.tr == nil || r.syncing {
		return
	}
	n := len(r.history)
	for _, id := range g.ids {
		p := g.peers[id]
		if !p.tracked {
			continue
		}
		if g.cfg.Outcomes == Reliable {
			for p.sent < n {
				k := min(n, p.sent+maxSteps)
				m := stepsMsg{round: r.start.round, steps: r.history[p.sent:k]}
				g.sendMsg([]string{id}, Reliable, &m)
				p.sent = k
			}
			continue
		}
		// Every unacknowledged step goes in each message, sent when there
		// is a new step and every ResendTicks until acknowledged.
		if p.acked < n && (p.sentTop < n || g.tick-p.lastSend >= g.cfg.ResendTicks) {
			k, size := p.acked, 0
			for k < n && k-p.acked < maxSteps && (size == 0 || size+len(r.history[k].bin)+10 <= seqWindowBytes) {
				size += len(r.history[k].bin) + 10
				k++
			}
			m := stepsMsg{round: r.start.round, steps: r.history[p.acked:k]}
			g.sendMsg([]string{id}, Sequenced, &m)
			p.lastSend, p.sentTop = g.tick, max(p.sentTop, k)
		}
	}
}

// sendAck acknowledges the host's records, at most once per Update.
func (g *Game) sendAck() {
	r := g.round
	if r == nil || !r.ackDue || r.host == g.self.ID {
		return
	}
	r.ackDue = false
	m := ackMsg{round: r.start.round, epoch: r.start.epoch, step: r.sim.Steps()}
	g.sendMsg([]string{r.host}, Sequenced, &m)
}

// successor returns who takes over the round from a host that left: the
// lowest ID among the round's humans that are this peer or connected to
// it, or "" if there is none (only watchers are left).
func (g *Game) successor() string {
	next := ""
	for _, p := range g.round.start.players {
		if !p.robot && (p.id == g.self.ID || g.peers[p.id] != nil) && (next == "" || p.id < next) {
			next = p.id
		}
	}
	return next
}

// takeOver follows the host's departure during a round.
func (g *Game) takeOver() {
	r := g.round
	r.host = g.successor()
	if r.host == "" {
		// No player of the round is left to run it: watchers end it.
		r.host = g.self.ID
		g.endRound(true)
		return
	}
	r.resync = false
	clear(r.pending)
	r.gapSince = 0
	g.table.roundHost = r.host
	early := r.early
	r.early = nil
	if r.host != g.self.ID {
		g.sendSync(r.host)
		return
	}
	r.syncing = true
	r.syncUntil = g.tick + g.cfg.SyncTicks
	for _, p := range g.peers {
		p.tracked, p.synced = false, false
	}
	for _, id := range slices.Clone(g.ids) {
		if m := early[id]; m != nil && g.peers[id] != nil && g.round == r {
			g.gotSync(id, m)
		}
	}
}

// sendSync reports this peer's state of the round to its new host.
func (g *Game) sendSync(to string) {
	r := g.round
	start := r.start
	start.delay = max(0, r.startTick-g.tick)
	m := syncMsg{
		round:   r.start.round,
		epoch:   r.start.epoch,
		applied: r.sim.Steps(),
		digest:  r.sim.Digest(),
		start:   &start,
		tail:    r.history[max(0, len(r.history)-maxSteps):],
	}
	g.sendMsg([]string{to}, Reliable, &m)
}

func (g *Game) allSynced() bool {
	for _, p := range g.peers {
		if !p.synced {
			return false
		}
	}
	return true
}

// finishSync ends the wait for state reports: whoever has not reported is
// sent the whole round.
func (g *Game) finishSync() {
	g.round.syncing = false
	for _, id := range g.ids {
		if !g.peers[id].synced {
			g.rebuild(id)
		}
	}
}

// gotSync takes a peer's state report after this peer took over.
func (g *Game) gotSync(from string, m *syncMsg) {
	r, p := g.round, g.peers[from]
	if r == nil {
		return
	}
	if r.host != g.self.ID {
		// The sender noticed the host gone before this peer did (a host
		// that went silent is noticed a heartbeat apart): keep the report
		// for when this peer takes over.
		if g.scene == ScenePlay && m.round == r.start.round && len(r.early) < MaxPeers {
			if r.early == nil {
				r.early = make(map[string]*syncMsg)
			}
			r.early[from] = m
		}
		return
	}
	p.synced = true
	if r.over && g.result.Abandoned && m.round == r.start.round {
		a := abortMsg{round: r.start.round}
		g.sendMsg([]string{from}, Reliable, &a)
		return
	}
	if m.round != r.start.round {
		if m.round < r.start.round && !r.over {
			g.rebuild(from) // it has not got this round: it watches
		}
		return
	}
	if m.applied > r.sim.Steps() && !r.over {
		// The peer got further than this one: carry on from its records,
		// which the old host decided.
		for _, rec := range m.tail {
			if rec.out.Step != r.sim.Steps()+1 {
				continue
			}
			if !g.applyStep(rec) || r.over {
				break
			}
		}
		if m.applied > r.sim.Steps() && !r.over {
			g.problem("round %d: cannot carry on: %.8s is at step %d, this peer at %d", r.start.round, from, m.applied, r.sim.Steps())
			g.abortRound()
			return
		}
	}
	if m.applied <= len(r.history) && g.digestAt(m.applied) == m.digest {
		p.follow(m.applied, m.epoch)
		return
	}
	g.rebuild(from)
}

func (g *Game) digestAt(step int) uint64 {
	if step == 0 {
		return g.round.digest0
	}
	return g.round.history[step-1].digest
}

// abortRound ends the round without a result, everywhere.
func (g *Game) abortRound() {
	r := g.round
	m := abortMsg{round: r.start.round}
	g.sendMsg(g.ids, Reliable, &m)
	g.endRound(true)
}
