package lan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

// NoteTicks is how long a note (a peer joined or left, a new host, a
// problem) stays in the status line: 4 seconds at sim.TPS.
const NoteTicks = 4 * sim.TPS

// Match is a networked game (package game) as the screen sees it: it
// implements view.Match. It belongs to the screen's goroutine, like the
// Game it drives: no method blocks and none is safe for concurrent use.
type Match struct {
	g      *game.Game
	want   int // the colour last asked for, shown until the host assigns one
	log    func(string)
	seats  []view.Seat
	deaths []sim.Death
	note   string
	noteTo int // tick after which the note is gone
	bots   int // the robots the host seats, as last told
	where  string
}

// New returns the Match that drives g. Its lobby shows the colour the
// local player asked for (colour, as in game.Config.Colour) until the host
// assigns one. log, if not nil, receives a line for each event worth
// telling the player (joins, leaves, a new host, a round announced, round
// results, problems);
// the status line shows the latest for a few seconds.
func New(g *game.Game, colour int, log func(string)) *Match {
	if colour < 0 || colour >= sim.NumColours {
		colour = 0
	}
	m := &Match{g: g, want: colour, log: log, bots: g.Bots(), where: "LAN"}
	m.seats = m.buildSeats(m.seats[:0])
	return m
}

// SetWhere sets where the players meet, as the status line names it:
// "LAN" until set; "room K7MW2Q" for a rendezvous room, so that a player
// can read the code out to the others.
func (m *Match) SetWhere(where string) { m.where = where }

// Game returns the game the Match drives.
func (m *Match) Game() *game.Game { return m.g }

// Update runs one tick of the game (which pumps the session) and turns its
// events into the screen's deaths and status notes. It never fails: a
// network problem is reported in the status line and the log, and the game
// carries on (a lost host is replaced, a lost peer derezzes).
//
// The status line speaks the game's words ("bob left", "ann (host) not
// responding"); the log gets the same lines with the details a bug report
// needs (why a connection ended, what a problem was).
func (m *Match) Update() error {
	m.g.Update()
	m.deaths = m.deaths[:0]
	silent := "" // the host that went silent during this Update
	for _, e := range m.g.Events() {
		switch e.Kind {
		case game.EventCrash:
			m.deaths = append(m.deaths, sim.Death{Player: e.Crash.Player, Cell: e.Crash.Cell, Cause: e.Crash.Cause})
		case game.EventPeerJoined:
			m.tell(fmt.Sprintf("%s joined", e.Peer.Name), "")
		case game.EventPeerLeft:
			if errors.Is(e.Err, game.ErrHostSilent) {
				continue // said with EventHostSilent
			}
			detail := ""
			if e.Err != nil {
				detail = fmt.Sprintf("%s left (%v)", e.Peer.Name, e.Err)
			}
			m.tell(fmt.Sprintf("%s left", e.Peer.Name), detail)
		case game.EventHostSilent:
			silent = e.Peer.Name
			m.tell(fmt.Sprintf("%s (host) not responding · handing over", silent),
				fmt.Sprintf("%s (the host) not responding: handing the round over", silent))
		case game.EventHostChanged:
			s := fmt.Sprintf("%s is the host now", e.Peer.Name)
			if e.Peer.ID == m.g.Self().ID {
				s = "you are the host now"
			}
			if silent != "" {
				s = fmt.Sprintf("%s not responding · %s", silent, s)
			}
			m.tell(s, "")
		case game.EventRoundAnnounced:
			n := 0
			if b := m.g.Board(); b != nil {
				n = len(b.Players())
			}
			s := fmt.Sprintf("round %d announced: %s", e.Round, plural(n, "player"))
			if m.g.Watching() {
				s += "; you watch this one"
			}
			m.tell(s, "")
		case game.EventRoundOver:
			m.tell(resultLine(e.Result), "")
		case game.EventProblem:
			m.tell("network trouble, recovering (details in the terminal)", "network trouble: "+e.Err.Error())
		}
	}
	if b := m.g.Bots(); b != m.bots {
		// Robots are the host's: a new host seats its own -bots. Say so
		// when robots go (a newcomer learning the host's count is no news).
		if b < m.bots {
			m.tell(fmt.Sprintf("robots: %d → %d (%s)", m.bots, b, m.whoSeats()), "")
		}
		m.bots = b
	}
	m.seats = m.buildSeats(m.seats[:0])
	return nil
}

// whoSeats says whose -bots seats the robots.
func (m *Match) whoSeats() string {
	if m.g.IsHost() {
		return "you host: your -bots seats them"
	}
	return "the host, " + m.g.Name(m.g.Host()) + ", seats them"
}

// tell shows s in the status line for NoteTicks and logs it, or logs
// detail instead if it is not empty.
func (m *Match) tell(s, detail string) {
	if m.log != nil {
		if detail == "" {
			detail = s
		}
		m.log(detail)
	}
	m.note, m.noteTo = s, m.g.Tick()+NoteTicks
}

// plural returns "1 player", "2 players".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// resultLine is a round's result in words: who won and how long the
// round lasted, then every score.
func resultLine(r game.Result) string {
	var b strings.Builder
	secs := float64(r.Steps*sim.StepTicks) / sim.TPS
	switch {
	case r.Abandoned:
		fmt.Fprintf(&b, "round %d abandoned: the host left", r.Round)
	case r.Draw():
		fmt.Fprintf(&b, "round %d: draw after %.1f s", r.Round, secs)
	default:
		fmt.Fprintf(&b, "round %d: %s wins after %.1f s", r.Round, r.WinnerName, secs)
	}
	for i, s := range r.Scores {
		if i == 0 {
			b.WriteString(" · ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", s.Name, s.Score)
	}
	return b.String()
}

// buildSeats appends everyone to show: in a round (and its results), the
// round's players, then those who watch it; in the lobby, the humans of
// the seat table and the robots the host will seat.
func (m *Match) buildSeats(dst []view.Seat) []view.Seat {
	self := m.g.Self().ID
	table := m.g.Seats()
	ready := make(map[string]bool, len(table))
	for i, s := range table {
		if s.Self {
			// The local choice shows at once, not when the host's table
			// comes back with it.
			table[i].Ready = m.g.Ready()
		}
		ready[table[i].ID] = table[i].Ready
	}
	b := m.g.Board()
	if b != nil && m.g.Scene() != game.SceneLobby {
		in := make(map[string]bool)
		for _, p := range b.Players() {
			in[p.ID] = true
			dst = append(dst, view.Seat{ID: p.ID, Name: m.g.Name(p.ID), Colour: p.Colour, Robot: p.Robot,
				Local: p.ID == self, Ready: p.Robot || ready[p.ID]})
		}
		for _, s := range table {
			if !in[s.ID] {
				dst = append(dst, view.Seat{ID: s.ID, Name: s.Name, Colour: m.colourOf(s), Local: s.ID == self,
					Ready: s.Ready, Spectator: m.g.Scene() == game.ScenePlay})
			}
		}
		if !in[self] && !hasSeat(table, self) {
			dst = append(dst, m.selfSeat())
		}
		return dst
	}
	var used []int
	for _, s := range table {
		c := m.colourOf(s)
		used = append(used, c)
		dst = append(dst, view.Seat{ID: s.ID, Name: s.Name, Colour: c, Local: s.ID == self, Ready: s.Ready})
	}
	if !hasSeat(table, self) {
		// The host has not put this peer in its table yet (or there is no
		// one else): show it as it will be seated.
		s := m.selfSeat()
		used = append(used, s.Colour)
		dst = append(dst, s)
	}
	// The robots the host will seat, as game.Game's startRound picks them.
	for i := 1; i <= min(m.g.Bots(), sim.MaxPlayers-len(dst)); i++ {
		c, _ := sim.FreeColour(used, -1)
		used = append(used, c)
		dst = append(dst, view.Seat{ID: fmt.Sprintf("bot%d", i), Name: fmt.Sprintf("robot %d", i), Colour: c, Robot: true, Ready: true})
	}
	return dst
}

// colourOf is a seat's colour, or for the local player without one yet the
// colour asked for.
func (m *Match) colourOf(s game.Seat) int {
	if s.Colour < 0 && s.Self {
		return m.want
	}
	return s.Colour
}

func (m *Match) selfSeat() view.Seat {
	c := m.g.Colour()
	if c < 0 {
		c = m.want
	}
	return view.Seat{ID: m.g.Self().ID, Name: m.g.Self().Name, Colour: c, Local: true, Ready: m.g.Ready()}
}

func hasSeat(table []game.Seat, id string) bool {
	for _, s := range table {
		if s.ID == id {
			return true
		}
	}
	return false
}

// State returns what to draw. Its slices belong to the Match and are
// valid until the next Update.
func (m *Match) State() view.State {
	s := view.State{
		Seats:  m.seats,
		Deaths: m.deaths,
		Status: m.status(),
	}
	switch m.g.Scene() {
	case game.SceneLobby:
		s.Scene = view.SceneLobby
	case game.ScenePlay:
		s.Scene = view.ScenePlay
		s.Countdown = m.g.Countdown()
	case game.SceneResults:
		s.Scene = view.SceneResults
	}
	if b := m.g.Board(); b != nil {
		s.Game = b
	}
	// A watcher has no bike: nothing to rotate the board for.
	if !m.g.Watching() {
		s.Local = m.g.Self().ID
	}
	return s
}

// status is the status line: that the host is not responding, or the
// latest note while it lasts, otherwise who is here and who hosts.
func (m *Match) status() string {
	if m.g.HostLate() {
		return m.g.Name(m.g.Host()) + " (host) not responding…"
	}
	if m.note != "" && m.g.Tick() < m.noteTo {
		return m.note
	}
	peers := len(m.g.Peers())
	host := "you host"
	if !m.g.IsHost() {
		host = m.g.Name(m.g.Host()) + " hosts"
	}
	bots := ""
	if n := m.g.Bots(); n > 0 {
		bots = fmt.Sprintf(" · %d robots", n)
	}
	switch {
	case m.g.Watching():
		return "watching this round · " + host
	case peers == 0 && m.g.Bots() == 0:
		return m.where + " · looking for players · alone? B adds robots (or play offline: -local)"
	case peers == 0:
		return m.where + " · looking for players" + bots
	}
	return fmt.Sprintf("%s · %s · %s%s", m.where, plural(peers, "other player"), host, bots)
}

// Turn sends a turn of the local bike to the host (or applies it, on the
// host). Turns while not playing are ignored.
func (m *Match) Turn(t sim.Turn) { m.g.Turn(t) }

// Claim asks the host for a colour; the first claim of a colour wins.
func (m *Match) Claim(colour int) {
	if m.g.Scene() == game.ScenePlay || colour < 0 || colour >= sim.NumColours {
		return
	}
	m.want = colour
	m.g.ClaimColour(colour)
	m.seats = m.buildSeats(m.seats[:0])
}

// Robots returns how many robots the host will seat, and whether the
// local player may change that: when it hosts, outside a round.
func (m *Match) Robots() (int, bool) {
	return m.g.Bots(), m.g.IsHost() && m.g.Scene() != game.ScenePlay
}

// SetRobots sets the number of robots, if the local player hosts and no
// round is on.
func (m *Match) SetRobots(n int) {
	if m.g.SetBots(n) {
		m.bots = n
		m.seats = m.buildSeats(m.seats[:0])
	}
}

var _ view.Robots = (*Match)(nil)

// Ready says whether the local player is ready for the next round.
func (m *Match) Ready(ready bool) {
	m.g.SetReady(ready)
	m.seats = m.buildSeats(m.seats[:0])
}

var _ view.Match = (*Match)(nil)
