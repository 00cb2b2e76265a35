package lan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/game"
	"github.com/pumpnet/pumpnet/examples/lightcycle/sim"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/lan"
	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
	"github.com/pumpnet/pumpnet/netcode"
)

// hub is an in-memory session: every open node is connected to every
// other, and a message reaches its peer at the peer's next Poll, in order.
type hub struct{ nodes []*node }

type node struct {
	h      *hub
	self   game.Member
	closed bool
	frozen bool // hung: sends nothing, its peers are told nothing
	links  map[string]bool
	inbox  []game.Incoming
}

func (h *hub) join(id, name string) *node {
	n := &node{h: h, self: game.Member{ID: id, Name: name}, links: map[string]bool{}}
	for _, o := range h.nodes {
		if o.closed {
			continue
		}
		o.links[id], n.links[o.self.ID] = true, true
		o.inbox = append(o.inbox, game.Incoming{Kind: game.PeerJoined, From: n.self})
		n.inbox = append(n.inbox, game.Incoming{Kind: game.PeerJoined, From: o.self})
	}
	h.nodes = append(h.nodes, n)
	return n
}

func (n *node) Self() game.Member { return n.self }

func (n *node) Poll(handle func(game.Incoming)) {
	in := n.inbox
	n.inbox = nil
	for _, m := range in {
		handle(m)
	}
}

func (n *node) Send(to []string, _ game.Mode, data []byte) error {
	if n.frozen {
		return nil
	}
	for _, o := range n.h.nodes {
		if !o.closed && n.links[o.self.ID] && slices.Contains(to, o.self.ID) {
			o.inbox = append(o.inbox, game.Incoming{Kind: game.Message, From: n.self, Data: slices.Clone(data)})
		}
	}
	return nil
}

func (n *node) SetOpen(bool) {}

func (n *node) Stats(string) (netcode.Stats, bool) { return netcode.Stats{}, false }

func (n *node) Drop(id string) {
	if !n.links[id] {
		return
	}
	delete(n.links, id)
	n.inbox = append(n.inbox, game.Incoming{Kind: game.PeerLeft, From: game.Member{ID: id}, Reason: errors.New("dropped")})
	for _, o := range n.h.nodes {
		if o.self.ID == id {
			delete(o.links, n.self.ID)
			o.inbox = append(o.inbox, game.Incoming{Kind: game.PeerLeft, From: n.self, Reason: errors.New("dropped by peer")})
		}
	}
}

func (n *node) Close() error {
	n.closed = true
	for _, o := range n.h.nodes {
		if o.links[n.self.ID] {
			delete(o.links, n.self.ID)
			o.inbox = append(o.inbox, game.Incoming{Kind: game.PeerLeft, From: n.self, Reason: errors.New("left the session")})
		}
	}
	return nil
}

type player struct {
	m    *lan.Match
	node *node
	log  []string
}

func newPlayer(t *testing.T, h *hub, id, name string, cfg game.Config) *player {
	t.Helper()
	nd := h.join(id, name)
	g, err := game.New(cfg, nd)
	if err != nil {
		t.Fatal(err)
	}
	p := &player{node: nd}
	p.m = lan.New(g, cfg.Colour, func(s string) { p.log = append(p.log, s) })
	return p
}

func (p *player) logged(sub string) bool {
	return slices.ContainsFunc(p.log, func(s string) bool { return strings.Contains(s, sub) })
}

func update(t *testing.T, ps ...*player) {
	t.Helper()
	for _, p := range ps {
		if err := p.m.Update(); err != nil {
			t.Fatal(err)
		}
	}
}

// untilScene updates every player until all show scene, for at most limit
// ticks; it returns the deaths each screen was given on the way.
func untilScene(t *testing.T, scene view.Scene, limit int, ps ...*player) [][]sim.Death {
	t.Helper()
	deaths := make([][]sim.Death, len(ps))
	for range limit {
		update(t, ps...)
		all := true
		for i, p := range ps {
			s := p.m.State()
			deaths[i] = append(deaths[i], s.Deaths...)
			all = all && s.Scene == scene
		}
		if all {
			return deaths
		}
	}
	for _, p := range ps {
		t.Logf("%s: scene %v, status %q", p.m.Game().Self().Name, p.m.State().Scene, p.m.State().Status)
	}
	t.Fatalf("not every player reached %v in %d ticks", scene, limit)
	return nil
}

func TestLobbySeatsShowHumansAndTheRobotsToCome(t *testing.T) {
	h := &hub{}
	ann := newPlayer(t, h, "a", "ann", game.Config{Colour: 3, Bots: 2, Seed: 1})
	bob := newPlayer(t, h, "b", "bob", game.Config{Colour: 3, Seed: 1}) // wants ann's colour
	for range 5 {
		update(t, ann, bob)
	}
	for _, p := range []*player{ann, bob} {
		s := p.m.State()
		if s.Scene != view.SceneLobby {
			t.Fatalf("scene %v, want lobby", s.Scene)
		}
		var names []string
		colours := map[int]string{}
		for _, st := range s.Seats {
			names = append(names, st.Name)
			if other, dup := colours[st.Colour]; dup {
				t.Errorf("%s and %s both show colour %d", other, st.Name, st.Colour)
			}
			colours[st.Colour] = st.Name
		}
		if want := []string{"ann", "bob", "robot 1", "robot 2"}; !slices.Equal(names, want) {
			t.Errorf("seats %v, want %v", names, want)
		}
		me, ok := s.LocalSeat()
		if !ok || me.Name != p.m.Game().Self().Name {
			t.Errorf("local seat %+v, %v", me, ok)
		}
		if s.Local != p.m.Game().Self().ID {
			t.Errorf("Local %q", s.Local)
		}
	}
	if c := ann.m.State().Seats[0].Colour; c != 3 {
		t.Errorf("ann (first claim) has colour %d, want 3", c)
	}
	if c := bob.m.State().Seats[1].Colour; c == 3 || c < 0 {
		t.Errorf("bob (second claim of 3) has colour %d, want another", c)
	}
	if !strings.Contains(ann.m.State().Status, "bob joined") || !strings.Contains(bob.m.State().Status, "ann is the host") {
		t.Errorf("notes %q / %q", ann.m.State().Status, bob.m.State().Status)
	}
	for range lan.NoteTicks {
		update(t, ann, bob)
	}
	if !strings.Contains(ann.m.State().Status, "1 other player") || !strings.Contains(bob.m.State().Status, "ann hosts") {
		t.Errorf("status lines %q / %q", ann.m.State().Status, bob.m.State().Status)
	}

	// A claim goes through the host; a free colour is granted.
	bob.m.Claim(6)
	for range 5 {
		update(t, ann, bob)
	}
	if c := ann.m.State().Seats[1].Colour; c != 6 {
		t.Errorf("after bob claims 6 the host shows him with %d", c)
	}
}

func TestRoundOnScreen(t *testing.T) {
	h := &hub{}
	ann := newPlayer(t, h, "a", "ann", game.Config{Colour: 0, Bots: 2, Seed: 7, Autopilot: true, Countdown: 30})
	bob := newPlayer(t, h, "b", "bob", game.Config{Colour: 1, Seed: 7, Autopilot: true})
	for range 5 {
		update(t, ann, bob)
	}
	lobbyRobots := map[string]int{}
	for _, st := range ann.m.State().Seats {
		if st.Robot {
			lobbyRobots[st.ID] = st.Colour
		}
	}
	ann.m.Ready(true)
	bob.m.Ready(true)
	untilScene(t, view.ScenePlay, 10, ann, bob)
	s := bob.m.State()
	if s.Countdown <= 0 || s.Game == nil || s.Local != "b" {
		t.Fatalf("play state: countdown %d, game %v, local %q", s.Countdown, s.Game != nil, s.Local)
	}
	if i := s.Game.Index("b"); i < 0 {
		t.Fatal("bob has no bike")
	}
	for _, p := range s.Game.Players() {
		if p.Robot && lobbyRobots[p.ID] != p.Colour {
			t.Errorf("robot %s plays in colour %d; the lobby showed %d", p.ID, p.Colour, lobbyRobots[p.ID])
		}
	}
	if len(s.Seats) != 4 {
		t.Errorf("%d seats in play, want 2 humans and 2 robots", len(s.Seats))
	}

	deaths := untilScene(t, view.SceneResults, 60*sim.TPS, ann, bob)
	for i, p := range []*player{ann, bob} {
		s := p.m.State()
		winner, over := s.Game.Result()
		if !over {
			t.Fatal("results shown for a round not over")
		}
		want := len(s.Game.Players())
		if winner >= 0 {
			want--
		}
		if len(deaths[i]) != want {
			t.Errorf("%s's screen got %d deaths, want %d (every bike but the winner's)", p.m.Game().Self().Name, len(deaths[i]), want)
		}
		for _, d := range deaths[i] {
			if d.Player < 0 || d.Player >= len(s.Game.Players()) || !s.Game.Players()[d.Player].Robot && s.Game.Players()[d.Player].Alive {
				t.Errorf("death %+v is not a dead player", d)
			}
		}
		if !p.logged("round 1 announced: 4 players") {
			t.Errorf("%s's log has no announcement: %q", p.m.Game().Self().Name, p.log)
		}
		if !p.logged("round 1: ") {
			t.Errorf("%s's log has no result line: %q", p.m.Game().Self().Name, p.log)
		}
	}
	if a, b := ann.m.Game().Board().Digest(), bob.m.Game().Board().Digest(); a != b {
		t.Errorf("boards differ at the end: %x vs %x", a, b)
	}

	// Ready for the next round on the results screen, and the seat says so.
	bob.m.Ready(true)
	update(t, bob)
	if me, _ := bob.m.State().LocalSeat(); !me.Ready {
		t.Error("bob's seat is not ready after Ready(true)")
	}
}

func TestWatcherHasNoBikeAndLeaverIsAnnounced(t *testing.T) {
	h := &hub{}
	ann := newPlayer(t, h, "a", "ann", game.Config{Bots: 1, Seed: 3, Autopilot: true, Watchers: true})
	bob := newPlayer(t, h, "b", "bob", game.Config{Colour: 4, Seed: 3, Autopilot: true, Watchers: true})
	for range 5 {
		update(t, ann, bob)
	}
	ann.m.Ready(true)
	bob.m.Ready(true)
	untilScene(t, view.ScenePlay, 10, ann, bob)

	cat := newPlayer(t, h, "c", "cat", game.Config{Seed: 3, Watchers: true})
	untilScene(t, view.ScenePlay, 30, ann, bob, cat)
	s := cat.m.State()
	if s.Local != "" {
		t.Errorf("a watcher's Local is %q; the board would rotate for a bike it does not have", s.Local)
	}
	if !strings.HasPrefix(s.Status, "watching") && !strings.Contains(s.Status, "joined") && !strings.Contains(s.Status, "you watch") {
		t.Errorf("watcher's status %q", s.Status)
	}
	for _, st := range ann.m.State().Seats {
		if st.ID == "c" && !st.Spectator {
			t.Errorf("cat is shown as a player in the host's round: %+v", st)
		}
	}
	if !cat.logged("you watch this one") {
		t.Errorf("the watcher was not told it watches: %q", cat.log)
	}
	if !ann.logged("cat joined") {
		t.Errorf("host's log: %q", ann.log)
	}

	if err := bob.m.Game().Close(); err != nil {
		t.Fatal(err)
	}
	update(t, ann, cat)
	if !strings.HasPrefix(ann.m.State().Status, "bob left") {
		t.Errorf("host's status after bob left: %q", ann.m.State().Status)
	}
	for range lan.NoteTicks {
		update(t, ann, cat)
	}
	if strings.Contains(ann.m.State().Status, "bob left") {
		t.Errorf("the note outlived NoteTicks: %q", ann.m.State().Status)
	}
}

// TestSilentHostSaidOnScreen: the host hangs mid-round; the others' status
// line says it is not responding within a second, then that the round
// was handed over, all within two seconds; nobody's round stays frozen.
func TestSilentHostSaidOnScreen(t *testing.T) {
	h := &hub{}
	cfg := game.Config{Bots: 1, Seed: 11, Autopilot: true, Countdown: 30}
	ann := newPlayer(t, h, "a", "ann", cfg)
	bob := newPlayer(t, h, "b", "bob", cfg)
	cat := newPlayer(t, h, "c", "cat", cfg)
	for range 5 {
		update(t, ann, bob, cat)
	}
	for _, p := range []*player{ann, bob, cat} {
		p.m.Ready(true)
	}
	untilScene(t, view.ScenePlay, 10, ann, bob, cat)
	for range 60 {
		update(t, ann, bob, cat)
	}
	steps := bob.m.State().Game.Steps()
	ann.node.frozen = true
	var sawLate, sawHandOver int
	for tick := 1; tick <= 2*sim.TPS; tick++ {
		update(t, bob, cat)
		st := bob.m.State().Status
		if sawLate == 0 && st == "ann (host) not responding…" {
			sawLate = tick
		}
		if sawHandOver == 0 && strings.Contains(st, "ann not responding · you are the host now") {
			sawHandOver = tick
		}
		for _, p := range []*player{bob, cat} {
			if s := p.m.State().Status; strings.Contains(s, "game:") || strings.Contains(s, "netcode") {
				t.Fatalf("%s's status shows transport words: %q", p.m.Game().Self().Name, s)
			}
		}
	}
	if sawLate == 0 || sawLate > sim.TPS {
		t.Errorf("bob's status said the host was not responding at tick %d, want within a second", sawLate)
	}
	if sawHandOver == 0 {
		t.Fatalf("bob's status never said the round was handed over; log %q", bob.log)
	}
	if !cat.logged("ann (the host) not responding") {
		t.Errorf("cat's log: %q", cat.log)
	}
	for range sim.TPS {
		update(t, bob, cat)
	}
	if s := cat.m.State(); s.Scene == view.ScenePlay && s.Game.Steps() <= steps {
		t.Fatalf("cat's round is frozen at step %d", s.Game.Steps())
	}
	t.Logf("not responding at %.2f s, handed over at %.2f s", float64(sawLate)/sim.TPS, float64(sawHandOver)/sim.TPS)
}

// TestLeaverInGameWords: a peer whose connection ends with a transport
// reason is announced as "bob left"; the reason goes to the log only.
func TestLeaverInGameWords(t *testing.T) {
	h := &hub{}
	ann := newPlayer(t, h, "a", "ann", game.Config{Seed: 1})
	bob := newPlayer(t, h, "b", "bob", game.Config{Seed: 1})
	for range 5 {
		update(t, ann, bob)
	}
	bob.node.closed = true
	delete(ann.node.links, "b")
	ann.node.inbox = append(ann.node.inbox,
		game.Incoming{Kind: game.PeerLeft, From: game.Member{ID: "b", Name: "bob"}, Reason: errors.New("netcode: connection closed by peer (normal)")})
	update(t, ann)
	if s := ann.m.State().Status; s != "bob left" {
		t.Errorf("status %q, want \"bob left\"", s)
	}
	if !ann.logged("bob left (netcode: connection closed by peer (normal))") {
		t.Errorf("log %q lacks the reason", ann.log)
	}
}

// TestRobotsFollowTheHost: robots are the host's; when a newcomer with a
// lower identity takes over the lobby and seats none, the screen says why
// the robots went.
func TestRobotsFollowTheHost(t *testing.T) {
	h := &hub{}
	bob := newPlayer(t, h, "b", "bob", game.Config{Bots: 2, Seed: 1})
	update(t, bob)
	ann := newPlayer(t, h, "a", "ann", game.Config{Seed: 1})
	for range 5 {
		update(t, ann, bob)
	}
	if !bob.logged("robots: 2 → 0 (the host, ann, seats them)") {
		t.Errorf("bob's log: %q", bob.log)
	}
}

// TestAloneHostOffersRobots: alone on the LAN, the lobby says how to get
// company, and the host can seat robots from the lobby (the B key); a
// player who does not host cannot.
func TestAloneHostOffersRobots(t *testing.T) {
	h := &hub{}
	ann := newPlayer(t, h, "a", "ann", game.Config{Seed: 1, Countdown: 5})
	update(t, ann)
	if s := ann.m.State().Status; !strings.Contains(s, "alone? B adds robots") || !strings.Contains(s, "-local") {
		t.Errorf("alone: status %q", s)
	}
	if n, can := ann.m.Robots(); n != 0 || !can {
		t.Fatalf("Robots() = %d, %v; want 0 and settable", n, can)
	}
	ann.m.SetRobots(2)
	update(t, ann)
	robots := 0
	for _, st := range ann.m.State().Seats {
		if st.Robot {
			robots++
		}
	}
	if robots != 2 || strings.Contains(ann.m.State().Status, "alone") {
		t.Fatalf("after SetRobots(2): %d robot seats, status %q", robots, ann.m.State().Status)
	}
	bob := newPlayer(t, h, "b", "bob", game.Config{Seed: 1})
	for range 5 {
		update(t, ann, bob)
	}
	if _, can := bob.m.Robots(); can {
		t.Error("bob, not the host, may set the robots")
	}
	if n, _ := bob.m.Robots(); n != 2 {
		t.Errorf("bob sees %d robots, the host seats 2", n)
	}
	ann.m.Ready(true)
	bob.m.Ready(true)
	untilScene(t, view.ScenePlay, 10, ann, bob)
	if n := len(bob.m.State().Game.Players()); n != 4 {
		t.Errorf("%d players in the round, want 2 humans and 2 robots", n)
	}
}

// TestStatusNamesTheRoom: in a rendezvous room the status line shows the
// room's code where a LAN game says "LAN", so a player can read it out to
// the others, alone and with company.
func TestStatusNamesTheRoom(t *testing.T) {
	h := &hub{}
	ann := newPlayer(t, h, "a", "ann", game.Config{Seed: 1})
	update(t, ann)
	if s := ann.m.State().Status; !strings.HasPrefix(s, "LAN · looking for players") {
		t.Errorf("before SetWhere: status %q, want the LAN named", s)
	}
	ann.m.SetWhere("room K7MW2Q")
	update(t, ann)
	if s := ann.m.State().Status; !strings.HasPrefix(s, "room K7MW2Q · looking for players") || strings.Contains(s, "LAN") {
		t.Errorf("alone in a room: status %q", s)
	}
	bob := newPlayer(t, h, "b", "bob", game.Config{Seed: 1})
	for range 5 + lan.NoteTicks { // past the "bob joined" note
		update(t, ann, bob)
	}
	if s := ann.m.State().Status; !strings.HasPrefix(s, "room K7MW2Q · 1 other player") {
		t.Errorf("with bob in the room: status %q", s)
	}
}
