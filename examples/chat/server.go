package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/termtext"
	"github.com/pumpnet/pumpnet/lobby"
	"github.com/pumpnet/pumpnet/netcode"
)

// player is the server's state for one channel (engine.Peer.Value).
type player struct {
	name   string
	since  time.Time // when the connection came up
	joined bool      // announced to everyone
}

// nickGrace is how long the server waits for a newcomer's nickname before
// it announces the newcomer as "anonymous". A client sends its nickname
// before anything else (queued even before its connection is up), so it
// normally arrives at once and the players list shows the real name first.
const nickGrace = time.Second

// chatServer relays chat lines and keeps the players list. Its methods run
// inside the engine server's Pump, on the goroutine of serve, which is also
// the only one that writes to out.
type chatServer struct {
	srv *engine.Server
	out io.Writer
	ad  *lobby.Advertiser // with -lan
}

// serve runs a chat server on addr (with the identity kept in keyFile, if
// set) until ctx ends, then tells every client
// it is shutting down. With lan.advertise, it is advertised on the LAN
// meanwhile. It blocks.
func serve(ctx context.Context, addr, keyFile string, lan lanOptions, out io.Writer) error {
	var cfg engine.ServerConfig
	if keyFile != "" {
		cert, created, err := netcode.LoadKeyFile(keyFile)
		if err != nil {
			return err
		}
		cfg.Net.Certificate = &cert
		if created {
			fmt.Fprintf(out, "chat: new identity saved in %s (restarts keep this connect string)\n", keyFile)
		} else {
			fmt.Fprintf(out, "chat: identity loaded from %s\n", keyFile)
		}
	}
	srv, err := engine.Listen(addr, &cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	s := &chatServer{srv: srv, out: out}
	srv.OnConnect(s.join)
	srv.OnDisconnect(s.leave)
	if err := engine.HandleFunc(srv, "nickname", s.nickname); err != nil {
		return err
	}
	if err := engine.HandleFunc(srv, "message", s.message); err != nil {
		return err
	}
	if err := srv.Handle("error", func(p *engine.Peer, err error) {
		fmt.Fprintf(out, "! %s: %v\n", p.Addr(), err)
	}); err != nil {
		return err
	}

	fmt.Fprintf(out, "chat: serving on %s\n", srv.Addr())
	fmt.Fprintf(out, "chat: connect string %s\n", srv.ConnectString())
	fmt.Fprintf(out, "chat: join with: go run ./examples/chat -connect '%s' -nick NAME\n", srv.ConnectString())
	if lan.advertise {
		ad, name, err := advertise(srv, lan)
		if err != nil {
			return err
		}
		defer ad.Close() // before srv.Close
		s.ad = ad
		fmt.Fprintf(out, "chat: advertised on the LAN as %q; or join with: go run ./examples/chat -lan -nick NAME\n", name)
	}
	for ctx.Err() == nil {
		// Sleep until traffic arrives, or a newcomer's grace for its
		// nickname ends.
		srv.PumpWait(ctx, nickGrace/4)
		s.announceSilent(time.Now())
	}
	// Gracefully: what the players were sent is acknowledged first, so
	// they see a normal close with the reason (Close would tell them that
	// data was dropped).
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(sctx, "chat server shutting down")
	cancel()
	fmt.Fprintln(out, "chat: server stopped")
	return nil
}

// join gives a new channel the default nickname. Everyone hears of the
// newcomer when its nickname arrives (or after nickGrace, as "anonymous"),
// so nobody sees "anonymous" renamed a moment later.
func (s *chatServer) join(p *engine.Peer) {
	p.Value = &player{name: defaultNick, since: time.Now()}
	fmt.Fprintf(s.out, "+ %s connected\n", p.Addr())
}

// announce tells everyone that ch joined.
func (s *chatServer) announce(ch *engine.Peer) {
	p := ch.Value.(*player)
	p.joined = true
	fmt.Fprintf(s.out, "+ %s joined as %s\n", ch.Addr(), p.name)
	s.sendPlayers()
	s.advertisePlayers()
}

// announceSilent announces the newcomers whose nickname has not come
// within nickGrace.
func (s *chatServer) announceSilent(now time.Time) {
	for _, ch := range s.srv.Peers() {
		if p, ok := ch.Value.(*player); ok && !p.joined && now.Sub(p.since) >= nickGrace {
			s.announce(ch)
		}
	}
}

// leave tells everyone who is left. The channel is already out of
// srv.Peers().
func (s *chatServer) leave(ch *engine.Peer, reason error) {
	if p, ok := ch.Value.(*player); ok && !p.joined {
		fmt.Fprintf(s.out, "- %s left before joining: %v\n", ch.Addr(), reason)
		return
	}
	fmt.Fprintf(s.out, "- %s (%s) left: %v\n", ch.Addr(), name(ch), reason)
	s.sendPlayers()
	s.advertisePlayers()
}

// nickname names a newcomer (and announces it) or renames the sender. An
// empty (or all control characters) name is ignored.
func (s *chatServer) nickname(ch *engine.Peer, m nicknameMsg) {
	nick := termtext.Clean(m.Nickname, maxNickRunes)
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
func (s *chatServer) message(p *engine.Peer, m chatMsg) {
	text := termtext.Clean(m.Message, maxMessageRunes)
	if text == "" {
		return
	}
	if !p.Value.(*player).joined {
		s.announce(p) // a client that sent no nickname: "anonymous"
	}
	fmt.Fprintf(s.out, "%s: %s\n", name(p), text)
	if err := s.srv.Send(chatMsg{Action: "message", Message: text, Who: name(p)}); err != nil {
		fmt.Fprintf(s.out, "! relay: %v\n", err)
	}
}

func (s *chatServer) sendPlayers() {
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
	if err := s.srv.Send(playersMsg{Action: "players", Players: names}); err != nil {
		fmt.Fprintf(s.out, "! players: %v\n", err)
	}
}

func name(ch *engine.Peer) string {
	if p, ok := ch.Value.(*player); ok {
		return p.name
	}
	return defaultNick
}
