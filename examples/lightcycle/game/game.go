package game

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/netcode"
)

// localID is the local player's ID in Local mode.
const localID = "local"

// maxEvents bounds the events kept for a caller that does not drain them.
const maxEvents = 1024

// Game is one instance of networked lightcycle: the lobby (colours, ready
// up, seat locking), rounds (the host runs the simulation, the others follow
// its outcomes) and results, driven one tick at a time by Update.
//
// A Game belongs to the goroutine that calls Update (Ebitengine's Update at
// 60 TPS, or engine.RunTicks in a headless run); no method blocks and none
// is safe for concurrent use. Everything it returns is a copy or a
// read-only view that stays valid until the next Update.
type Game struct {
	cfg   Config
	tr    Transport // nil in Local mode
	self  Member
	tick  int
	scene Scene

	peers map[string]*peerState // connected peers
	ids   []string              // their IDs, sorted

	ready   bool
	want    int
	intents map[string]intentMsg // other peers' latest intents
	claims  []string             // colour claims in arrival order, for the authority
	table   tableMsg             // the seat table (the authority's, or ours)
	sent    []byte               // the last table this peer broadcast
	scores  map[string]int
	names   map[string]string

	round  *roundState // the current or last round; nil before the first
	result Result      // the last round's result
	pilot  autopilot
	events []Event
	buf    []byte

	lastBeat int // tick of the last heartbeat sent
}

// peerState is what this peer knows of another.
type peerState struct {
	Member
	heard   bool // a table from it arrived since it joined
	lastMsg int  // local tick of the last message from it (or of its joining)
	tracked bool // host: it follows the round; steps go to it
	acked   int  // host: steps it applied (as it acknowledged)
	sent    int  // host: steps sent to it (Reliable)
	synced  bool // new host: its state report arrived
	epoch   int  // host: the epoch of the round it follows

	// Sequenced outcomes (host): the newest step sent, and when the last
	// message went.
	sentTop  int
	lastSend int
}

// follow makes the host send p the round's steps after step acked.
func (p *peerState) follow(acked, epoch int) {
	p.tracked, p.acked, p.sent, p.epoch, p.sentTop = true, acked, acked, epoch, acked
}

// roundState is one round as this peer sees it.
type roundState struct {
	start     startMsg
	sim       *sim.Game
	board     *roundBoard // sim, with the session's round number and scores
	host      string      // the round's authority
	startTick int         // local tick at which the countdown ends
	started   bool
	history   []stepRecord // every step so far, in order
	digest0   uint64       // digest before the first step
	pending   map[int]stepRecord
	seat      int // index of this peer in sim's players, -1: watching
	over      bool
	crashes   []Crash
	gapSince  int // follower: tick since which records wait on a gap
	steered   int // the step the autopilot last decided on
	ackDue    bool
	resync    bool // a resync was asked for and not answered yet
	syncing   bool // this peer took over and waits for state reports
	syncUntil int
	// early holds state reports that reached this peer before it noticed
	// that the host it reports for is gone: it takes them in when it takes
	// over.
	early map[string]*syncMsg
}

// New returns a Game over a session (see SessionTransport, JoinLAN). It
// starts in SceneLobby with the local player claiming cfg.Colour, not
// ready.
func New(cfg Config, tr Transport) (*Game, error) {
	if tr == nil {
		return nil, fmt.Errorf("%w: nil Transport (use NewLocal to play offline)", ErrConfig)
	}
	return newGame(cfg, tr, tr.Self())
}

// NewLocal returns a Game that plays offline against cfg.Bots robots: the
// same scenes, with this peer as the host and no networking.
func NewLocal(cfg Config) (*Game, error) {
	return newGame(cfg, nil, Member{ID: localID})
}

func newGame(cfg Config, tr Transport, self Member) (*Game, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if self.Name == "" {
		self.Name = cfg.Name
	}
	if self.ID == "" {
		return nil, fmt.Errorf("%w: the transport has no identity", ErrConfig)
	}
	g := &Game{
		cfg:     cfg,
		tr:      tr,
		self:    self,
		peers:   make(map[string]*peerState),
		want:    cfg.Colour,
		intents: make(map[string]intentMsg),
		claims:  []string{self.ID},
		scores:  make(map[string]int),
		names:   map[string]string{self.ID: self.Name},
	}
	g.pilot.seed(cfg.Seed, self.ID)
	return g, nil
}

// Update runs one tick: it takes in what the network delivered, runs the
// lobby or the round (the host steps the simulation every sim.StepTicks
// ticks; the others apply its outcomes as they arrive), and sends what is
// due. Call it sim.TPS (60) times per second. It never blocks.
func (g *Game) Update() {
	g.tick++
	if g.tr != nil {
		g.tr.Poll(g.handle)
		g.beat()
		g.checkHost()
	}
	if g.scene == ScenePlay {
		g.play()
	}
	g.flushSteps()
	g.sendAck()
	g.runTable()
}

// Close leaves the session (the others see this peer leave) and closes
// the transport. The Game must not be updated afterwards.
func (g *Game) Close() error {
	if g.tr == nil {
		return nil
	}
	return g.tr.Close()
}

// Scene returns what the game is doing.
func (g *Game) Scene() Scene { return g.scene }

// Tick returns the number of Updates so far.
func (g *Game) Tick() int { return g.tick }

// Self returns the local peer.
func (g *Game) Self() Member { return g.self }

// Local reports whether the game plays offline.
func (g *Game) Local() bool { return g.tr == nil }

// Host returns the ID of the host: during a round, the peer that runs it;
// otherwise the lowest ID among this peer and the peers it is connected to.
func (g *Game) Host() string { return g.authority() }

// IsHost reports whether this peer is the host.
func (g *Game) IsHost() bool { return g.authority() == g.self.ID }

// Name returns the display name of a peer or player, or its ID if unknown.
func (g *Game) Name(id string) string {
	if n, ok := g.names[id]; ok {
		return n
	}
	return id
}

// Events returns what happened since the last call, oldest first, and
// forgets it.
func (g *Game) Events() []Event {
	ev := g.events
	g.events = nil
	return ev
}

func (g *Game) emit(e Event) {
	e.Tick = g.tick
	if len(g.events) == maxEvents {
		g.events = slices.Delete(g.events, 0, 1)
	}
	g.events = append(g.events, e)
}

func (g *Game) problem(format string, args ...any) {
	g.emit(Event{Kind: EventProblem, Err: fmt.Errorf("game: "+format, args...)})
}

// PeerInfo describes a connected peer, for a network overlay.
type PeerInfo struct {
	Member
	// Stats are the transport's statistics of the connection, if HasStats.
	Stats    netcode.Stats
	HasStats bool
	// Acked is, on the host, the last step of the round the peer
	// acknowledged.
	Acked int
}

// Peers returns the connected peers in ID order.
func (g *Game) Peers() []PeerInfo {
	out := make([]PeerInfo, 0, len(g.ids))
	for _, id := range g.ids {
		p := g.peers[id]
		info := PeerInfo{Member: p.Member, Acked: p.acked}
		if g.tr != nil {
			info.Stats, info.HasStats = g.tr.Stats(id)
		}
		out = append(out, info)
	}
	return out
}

// Seat is one human in the lobby's seat table.
type Seat struct {
	ID, Name string
	// Colour is the player's colour, -1 while the host has not assigned
	// one.
	Colour int
	Ready  bool
	Score  int
	Host   bool // the peer is the host
	Self   bool // the peer is this one
}

// Seats returns the lobby's seat table as the host last announced it (or
// as this peer computes it when it is the host), in ID order: every human
// connected, with colour, readiness and score.
func (g *Game) Seats() []Seat {
	host := g.authority()
	next := g.table.lastRound + 1
	out := make([]Seat, 0, len(g.table.seats))
	for _, s := range g.table.seats {
		out = append(out, Seat{
			ID: s.id, Name: g.Name(s.id), Colour: s.colour, Ready: s.readyFor == next,
			Score: g.scores[s.id], Host: s.id == host, Self: s.id == g.self.ID,
		})
	}
	return out
}

// Bots returns the number of robots the host will seat (the host's
// Config.Bots, as its table says).
func (g *Game) Bots() int {
	if g.IsHost() {
		return g.cfg.Bots
	}
	return g.table.bots
}

// SetBots sets how many robots fill the empty seats of the next round
// (Config.Bots), 0..7. Only the host can, and not during a round: it
// reports whether the count was taken. The others learn it from the
// host's seat table.
func (g *Game) SetBots(n int) bool {
	if !g.IsHost() || g.scene == ScenePlay || n < 0 || n >= sim.MaxPlayers {
		return false
	}
	g.cfg.Bots = n
	return true
}

// Colour returns the local player's colour as the host assigned it, or -1.
func (g *Game) Colour() int {
	for _, s := range g.table.seats {
		if s.id == g.self.ID {
			return s.colour
		}
	}
	return -1
}

// Ready reports whether the local player is ready for the next round.
func (g *Game) Ready() bool { return g.ready }

// SetReady says whether the local player is ready for the next round. When
// every human in the lobby is ready, the host announces the round. Ready
// resets when a round is announced and when it ends. It has no effect
// during a round.
func (g *Game) SetReady(ready bool) {
	if g.scene == ScenePlay || ready == g.ready {
		return
	}
	g.ready = ready
	g.sendIntent(g.ids)
}

// ClaimColour asks for colour c (0..7) for the local player. The host
// resolves clashes: the first claim of a colour wins, a later claimant gets
// the next free colour (sim.FreeColour). The new colour applies from the
// next round.
func (g *Game) ClaimColour(c int) {
	if c < 0 || c >= sim.NumColours {
		c = -1
	}
	g.want = c
	g.addClaim(g.self.ID)
	g.sendIntent(g.ids)
}

// Round returns the number of the current round (announced, running or
// just over), or 0 before the first.
func (g *Game) Round() int {
	if g.round == nil {
		return 0
	}
	return g.round.start.round
}

// Board returns a read-only view of the current (or last) round's
// simulation, or nil before the first round. Its Players are in ID order;
// their index is the one Crash.Player and Board.Trail use. Its Round is
// the session's round number and each player's Score the running score
// (the scores announced with the round, plus this round's win once it is
// over), although every round runs a fresh sim.Game. The same value is
// returned throughout a round.
func (g *Game) Board() Board {
	if g.round == nil {
		return nil
	}
	return g.round.board
}

// roundBoard is a round's simulation as Board shows it: each round is a
// new sim.Game, which counts its rounds from 1 and its scores from 0, so
// the session's round number and the scores announced with the round are
// put back.
type roundBoard struct {
	*sim.Game
	round int
	base  map[string]int // each player's score when the round was announced
}

// Round returns the session's round number.
func (b *roundBoard) Round() int { return b.round }

// Players returns the round's players with their running scores.
func (b *roundBoard) Players() []sim.Player {
	ps := b.Game.Players()
	for i := range ps {
		ps[i].Score += b.base[ps[i].ID]
	}
	return ps
}

// Board is the read-only part of a *sim.Game: what the UI draws from.
type Board interface {
	Players() []sim.Player
	Index(id string) int
	Trail(dst []sim.Cell, i int) []sim.Cell
	Owner(c sim.Cell) int
	Result() (winner int, over bool)
	Round() int
	Steps() int
	Ticks() int
	Digest() uint64
}

// SelfIndex returns the local player's index in Board().Players(), or -1
// when it watches (or before the first round).
func (g *Game) SelfIndex() int {
	if g.round == nil {
		return -1
	}
	return g.round.seat
}

// Watching reports whether a round is on and this peer has no seat in it.
func (g *Game) Watching() bool { return g.scene == ScenePlay && g.round.seat < 0 }

// Countdown returns the ticks until the announced round starts, 0 once it
// runs (or outside ScenePlay).
func (g *Game) Countdown() int {
	if g.scene != ScenePlay {
		return 0
	}
	return max(0, g.round.startTick-g.tick)
}

// Crashes returns the bikes that derezzed in the current round, in order.
func (g *Game) Crashes() []Crash {
	if g.round == nil {
		return nil
	}
	return slices.Clone(g.round.crashes)
}

// Result returns the last round's result (valid in SceneResults, and
// afterwards until the next round ends).
func (g *Game) Result() Result { return g.result }

// Settled reports whether every peer has acknowledged the last step of
// the last round this peer hosted (always true on a peer that did not
// host it): a host that leaves after Settled takes nothing with it.
func (g *Game) Settled() bool {
	r := g.round
	if r == nil || r.host != g.self.ID {
		return true
	}
	if !r.over {
		return false
	}
	for _, id := range g.ids {
		if p := g.peers[id]; p.tracked && p.acked < len(r.history) {
			return false
		}
	}
	return true
}

// Turn turns the local player's bike (sim.TurnLeft or sim.TurnRight) at the
// host's next step: turns queue, one is applied per step. It returns false
// if the local player has no living bike in a running round (turns during
// the countdown are refused: on the first step a turn drives into the
// wall).
func (g *Game) Turn(t sim.Turn) bool {
	r := g.round
	if g.scene != ScenePlay || r.seat < 0 || r.over || !r.started || (t != sim.TurnLeft && t != sim.TurnRight) {
		return false
	}
	p := r.sim.Players()[r.seat]
	if !p.Alive || p.Left {
		return false
	}
	if r.host == g.self.ID {
		return r.sim.Turn(g.self.ID, t) == nil
	}
	m := turnMsg{round: r.start.round, turn: t}
	g.sendMsg([]string{r.host}, Reliable, &m)
	return true
}

// authority returns who decides: the round's host during a round,
// otherwise the lowest ID connected.
func (g *Game) authority() string {
	if g.scene == ScenePlay {
		return g.round.host
	}
	return g.lobbyHost()
}

func (g *Game) lobbyHost() string {
	if len(g.ids) > 0 && g.ids[0] < g.self.ID {
		return g.ids[0]
	}
	return g.self.ID
}

// appender is a message of the protocol.
type appender interface{ append([]byte) []byte }

// sendMsg encodes m (into a buffer reused from call to call) and sends it.
func (g *Game) sendMsg(to []string, mode Mode, m appender) {
	if g.tr == nil || len(to) == 0 {
		return
	}
	g.buf = m.append(g.buf[:0])
	g.send(to, mode, g.buf)
}

func (g *Game) send(to []string, mode Mode, data []byte) {
	if g.tr == nil || len(to) == 0 {
		return
	}
	if err := g.tr.Send(to, mode, data); err != nil {
		g.problem("send: %w", err)
	}
}

// handle takes one thing the transport delivered.
func (g *Game) handle(in Incoming) {
	switch in.Kind {
	case PeerJoined:
		g.peerJoined(in.From)
	case PeerLeft:
		g.peerLeft(in.From, in.Reason)
	case Message:
		p := g.peers[in.From.ID]
		if p == nil {
			return // not joined (or already gone)
		}
		p.lastMsg = g.tick
		m, err := decode(in.Data)
		if err != nil {
			g.problem("from %.8s: %w", in.From.ID, err)
			return
		}
		g.message(in.From.ID, m)
	}
}

func (g *Game) message(from string, m any) {
	switch m := m.(type) {
	case *intentMsg:
		g.gotIntent(from, *m)
	case *tableMsg:
		g.gotTable(from, m)
	case *startMsg:
		g.gotStart(from, m)
	case *stepsMsg:
		g.gotSteps(from, m)
	case *ackMsg:
		g.gotAck(from, m)
	case *turnMsg:
		g.gotTurn(from, m)
	case *syncMsg:
		g.gotSync(from, m)
	case *abortMsg:
		if r := g.round; g.scene == ScenePlay && from == r.host && m.round == r.start.round {
			g.endRound(true)
		}
	case *resyncMsg:
		if r, p := g.round, g.peers[from]; r != nil && r.host == g.self.ID && m.round == r.start.round && m.epoch == p.epoch {
			g.rebuild(from)
		}
	}
}

func (g *Game) peerJoined(m Member) {
	if m.ID == g.self.ID {
		return
	}
	hostBefore := g.authority()
	if p := g.peers[m.ID]; p != nil {
		// A new connection replaced the old one before its end was
		// reported: the peer may have lost everything; start over with it.
		*p = peerState{Member: m, lastMsg: g.tick}
	} else {
		g.peers[m.ID] = &peerState{Member: m, lastMsg: g.tick}
		i, _ := slices.BinarySearch(g.ids, m.ID)
		g.ids = slices.Insert(g.ids, i, m.ID)
		g.emit(Event{Kind: EventPeerJoined, Peer: m})
	}
	g.names[m.ID] = cleanName(m.Name)
	// Tell the newcomer who we are and where the game is.
	to := []string{m.ID}
	g.sendIntent(to)
	g.sendMsg(to, Reliable, &g.table)
	if r := g.round; g.scene == ScenePlay && r.host == g.self.ID {
		g.rebuild(m.ID) // it watches this round
	}
	if h := g.authority(); h != hostBefore {
		g.emit(Event{Kind: EventHostChanged, Peer: g.member(h)})
	}
}

func (g *Game) peerLeft(m Member, reason error) {
	if g.peers[m.ID] == nil {
		return
	}
	hostBefore := g.authority()
	delete(g.peers, m.ID)
	g.ids = slices.DeleteFunc(g.ids, func(id string) bool { return id == m.ID })
	delete(g.intents, m.ID)
	g.claims = slices.DeleteFunc(g.claims, func(id string) bool { return id == m.ID })
	g.emit(Event{Kind: EventPeerLeft, Peer: m, Err: reason})
	if r := g.round; g.scene == ScenePlay {
		if r.sim.Index(m.ID) >= 0 {
			_ = r.sim.Remove(m.ID) // derezzes at the next step
		}
		if m.ID == r.host {
			g.takeOver()
		}
	} else if r != nil && m.ID == r.host {
		// The host of the round that just ended left: whoever succeeds it
		// serves that round's last steps to peers still catching up.
		if next := g.successor(); next != "" {
			r.host = next
		}
	} else if m.ID == g.table.roundHost && g.table.playing != 0 {
		// A round this peer does not have lost its host: tell whoever
		// takes over that this peer has nothing (it then sends the round).
		s := syncMsg{}
		g.sendMsg(g.ids, Reliable, &s)
	}
	if h := g.authority(); h != hostBefore {
		g.emit(Event{Kind: EventHostChanged, Peer: g.member(h)})
	}
}

func (g *Game) member(id string) Member { return Member{ID: id, Name: g.Name(id)} }

// ErrHostSilent is the reason of the EventPeerLeft that follows
// EventHostSilent: the round's host said nothing for Config.HostTimeout
// ticks.
var ErrHostSilent = errors.New("game: host not responding")

// beat sends every peer a heartbeat every Config.BeatTicks, so that the
// players of a round hear from its host even when it has nothing else to
// say (the countdown, a wait for state reports).
func (g *Game) beat() {
	if len(g.ids) == 0 || g.tick-g.lastBeat < g.cfg.BeatTicks {
		return
	}
	g.lastBeat = g.tick
	g.sendMsg(g.ids, Sequenced, &beatMsg{})
}

// HostQuiet returns the ticks since the last message from the host of the
// round being played, or 0 when this peer hosts it or no round is being
// played. A few heartbeats' worth of quiet is worth telling the player
// about; at Config.HostTimeout the host is dropped (EventHostSilent).
func (g *Game) HostQuiet() int {
	if g.scene != ScenePlay || g.round.host == g.self.ID {
		return 0
	}
	p := g.peers[g.round.host]
	if p == nil {
		return 0
	}
	return g.tick - p.lastMsg
}

// HostLate reports whether the host of the round being played has been
// quiet for three heartbeats or more: the player may be told the host is
// not responding before it is dropped at Config.HostTimeout.
func (g *Game) HostLate() bool {
	return g.cfg.HostTimeout > 0 && g.HostQuiet() >= 3*g.cfg.BeatTicks
}

// checkHost drops the round's host when it has been silent for
// Config.HostTimeout: the transport's idle timeout (10 s by default) is
// far too long for players to sit on a frozen board. Every player counts
// the silence itself, so each notices within a heartbeat or so of the
// others, and they pick the same successor.
func (g *Game) checkHost() {
	if g.cfg.HostTimeout <= 0 || g.HostQuiet() <= g.cfg.HostTimeout {
		return
	}
	m := g.member(g.round.host)
	g.emit(Event{Kind: EventHostSilent, Peer: m})
	g.tr.Drop(m.ID)
	g.peerLeft(m, ErrHostSilent)
}
