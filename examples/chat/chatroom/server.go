package chatroom

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/termtext"
)

// player is the server's state for one peer (engine.Peer.Value).
type player struct {
	name   string
	since  time.Time // when the connection came up
	joined bool      // announced to everyone
}

// NickGrace is how long the server waits for a newcomer's nickname before
// it announces the newcomer as DefaultNick. A client sends its nickname
// before anything else (queued even before its connection is up), so it
// normally arrives at once and the players list shows the real name first.
const NickGrace = time.Second

// Server relays chat lines and keeps the players list on an engine
// server. Its methods, and the handlers it installs, run inside the engine
// server's Pump, on the goroutine that pumps it, which is also the only
// one that writes to its log; it is not safe for concurrent use.
type Server struct {
	srv *engine.Server
	out io.Writer

	// OnPlayers, if set, is called (in Pump) after the players list
	// changed: a join, a leave. The chat command updates its LAN
	// advertisement with it.
	OnPlayers func()
}

// New installs the chat's handlers and hooks (OnConnect, OnDisconnect,
// "nickname", "message", "error") on srv, logging what happens to out (nil:
// nowhere). Call Tick regularly (every NickGrace/4, say) so that silent
// newcomers are announced. It does not block.
func New(srv *engine.Server, out io.Writer) (*Server, error) {
	if out == nil {
		out = io.Discard
	}
	s := &Server{srv: srv, out: out}
	srv.OnConnect(s.join)
	srv.OnDisconnect(s.leave)
	if err := engine.HandleFunc(srv, "nickname", s.nickname); err != nil {
		return nil, err
	}
	if err := engine.HandleFunc(srv, "message", s.message); err != nil {
		return nil, err
	}
	if err := srv.Handle("error", func(p *engine.Peer, err error) {
		fmt.Fprintf(out, "! %s: %v\n", p.Addr(), err)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// Tick announces the newcomers whose nickname has not come within
// NickGrace of now. Call it from the Pump goroutine; it does not block.
func (s *Server) Tick(now time.Time) {
	for _, ch := range s.srv.Peers() {
		if p, ok := ch.Value.(*player); ok && !p.joined && now.Sub(p.since) >= NickGrace {
			s.announce(ch)
		}
	}
}

// join gives a new peer the default nickname. Everyone hears of the
// newcomer when its nickname arrives (or after NickGrace, as DefaultNick),
// so nobody sees "anonymous" renamed a moment later.
func (s *Server) join(p *engine.Peer) {
	p.Value = &player{name: DefaultNick, since: time.Now()}
	fmt.Fprintf(s.out, "+ %s connected\n", p.Addr())
}

// announce tells everyone that ch joined.
func (s *Server) announce(ch *engine.Peer) {
	p := ch.Value.(*player)
	p.joined = true
	fmt.Fprintf(s.out, "+ %s joined as %s\n", ch.Addr(), p.name)
	s.sendPlayers()
	s.changed()
}

func (s *Server) changed() {
	if s.OnPlayers != nil {
		s.OnPlayers()
	}
}

// leave tells everyone who is left. The peer is already out of
// srv.Peers().
func (s *Server) leave(ch *engine.Peer, reason error) {
	if p, ok := ch.Value.(*player); ok && !p.joined {
		fmt.Fprintf(s.out, "- %s left before joining: %v\n", ch.Addr(), reason)
		return
	}
	fmt.Fprintf(s.out, "- %s (%s) left: %v\n", ch.Addr(), name(ch), reason)
	s.sendPlayers()
	s.changed()
}

// nickname names a newcomer (and announces it) or renames the sender. An
// empty (or all control characters) name is ignored.
func (s *Server) nickname(ch *engine.Peer, m NicknameMsg) {
	nick := termtext.Clean(m.Nickname, MaxNickRunes)
	p := ch.Value.(*player)
	if !p.joined {
		if nick != "" {
			p.name = nick
		}
		s.announce(ch)
		return
	}
	if nick == "" || nick == p.name {
		return
	}
	fmt.Fprintf(s.out, "* %s (%s) is now %s\n", ch.Addr(), p.name, nick)
	p.name = nick
	s.sendPlayers()
}

// message relays a line to everyone, the sender included.
func (s *Server) message(p *engine.Peer, m ChatMsg) {
	text := termtext.Clean(m.Message, MaxMessageRunes)
	if text == "" {
		return
	}
	if !p.Value.(*player).joined {
		s.announce(p) // a client that sent no nickname: "anonymous"
	}
	fmt.Fprintf(s.out, "%s: %s\n", name(p), text)
	if err := s.srv.Send(ChatMsg{Action: "message", Message: text, Who: name(p)}); err != nil {
		fmt.Fprintf(s.out, "! relay: %v\n", err)
	}
}

func (s *Server) sendPlayers() {
	chs := s.srv.Peers()
	names := make([]string, 0, len(chs))
	for _, ch := range chs {
		if p, ok := ch.Value.(*player); ok && p.joined {
			names = append(names, p.name)
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(s.out, "* players: (none)")
	} else {
		fmt.Fprintf(s.out, "* players: %s\n", strings.Join(names, ", "))
	}
	if err := s.srv.Send(PlayersMsg{Action: "players", Players: names}); err != nil {
		fmt.Fprintf(s.out, "! players: %v\n", err)
	}
}

func name(ch *engine.Peer) string {
	if p, ok := ch.Value.(*player); ok {
		return p.name
	}
	return DefaultNick
}
