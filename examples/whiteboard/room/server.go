package room

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/netcode"
)

// Codec returns the codec both ends of the whiteboard use: msgpack with
// the element limit raised so that the largest "initial" message fits
// (board.MessageLimits). Safe for concurrent use.
func Codec() codec.Codec { return theCodec }

var theCodec = func() codec.Codec {
	size, elements := board.MessageLimits()
	return codec.Msgpack(codec.Limits{MaxSize: max(size, codec.DefaultLimits.MaxSize), MaxElements: elements})
}()

// member is the server's state for one channel (engine.Peer.Value).
type member struct {
	id string
}

// Server is the whiteboard server: it numbers players as they join, keeps
// the board, relays drawing to everyone and sends newcomers the board.
// Its methods, like the engine server's, belong to the goroutine that
// calls Pump.
type Server struct {
	srv    *engine.Server
	board  *board.Board
	nextID int
	log    io.Writer
}

// Listen opens a whiteboard server on addr ("host:port"; port 0 picks
// one). What happens (joins, leaves, refusals) is logged to log (nil:
// nowhere).
func Listen(addr string, log io.Writer) (*Server, error) {
	srv, err := engine.Listen(addr, &engine.ServerConfig{Codec: Codec()})
	if err != nil {
		return nil, err
	}
	s, err := NewServer(srv, log)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return s, nil
}

// NewServer makes a whiteboard server on srv, which the caller made with
// Codec() (engine.ServerConfig.Codec) and its own configuration (an
// identity, other transports served with Server.Serve): it installs the
// whiteboard's hooks and handlers. Listen is the short way. Logging is as
// for Listen. It does not block.
func NewServer(srv *engine.Server, log io.Writer) (*Server, error) {
	if log == nil {
		log = io.Discard
	}
	s := &Server{srv: srv, board: board.New(), log: log}
	srv.OnConnect(s.join)
	srv.OnDisconnect(s.leave)
	if err := engine.HandleFunc(srv, board.ActionStartLine, s.startLine); err != nil {
		return nil, err
	}
	if err := engine.HandleFunc(srv, board.ActionDrawPoint, s.drawPoint); err != nil {
		return nil, err
	}
	if err := srv.Handle("error", func(p *engine.Peer, err error) {
		fmt.Fprintf(log, "! %s %s: %v\n", idOf(p), p.Addr(), err)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// Engine returns the engine server underneath.
func (s *Server) Engine() *engine.Server { return s.srv }

// Board returns the server's board. Read it from the Pump goroutine only.
func (s *Server) Board() *board.Board { return s.board }

// ConnectString returns what clients pass to Connect.
func (s *Server) ConnectString() string { return s.srv.ConnectString() }

// Pump runs the handlers for what arrived and flushes what they sent. It
// never blocks.
func (s *Server) Pump() { s.srv.Pump() }

// Close tells every client the server closed, with reason. The next Pump
// delivers the leaves. Idempotent.
func (s *Server) Close(reason string) error { return s.srv.CloseWithReason(reason) }

// Serve runs a whiteboard server on addr until ctx ends, printing its
// connect string and what happens to out, then tells every client it is
// shutting down. name is the command that clients run (for the hint it
// prints). It blocks.
func Serve(ctx context.Context, addr, name string, out io.Writer) error {
	s, err := Listen(addr, out)
	if err != nil {
		return err
	}
	defer s.srv.Close()
	fmt.Fprintf(out, "whiteboard: serving on %s\n", s.srv.Addr())
	fmt.Fprintf(out, "whiteboard: connect string %s\n", s.ConnectString())
	fmt.Fprintf(out, "whiteboard: join with: go run %s -connect '%s'\n", name, s.ConnectString())
	for ctx.Err() == nil {
		// Sleep until traffic arrives; the timeout bounds how long a
		// cancelled ctx could go unnoticed.
		s.srv.PumpWait(ctx, time.Second)
	}
	s.Close("whiteboard server shutting down")
	s.srv.Pump() // deliver the leaves (logged)
	fmt.Fprintln(out, "whiteboard: server stopped")
	return nil
}

// join numbers a new player, sends them the board and tells everyone who
// is here. Beyond board.MaxPlayers the channel is closed with a reason.
func (s *Server) join(p *engine.Peer) {
	if s.board.Len() >= board.MaxPlayers {
		fmt.Fprintf(s.log, "! %s refused: whiteboard full (%d players)\n", p.Addr(), board.MaxPlayers)
		p.Conn().CloseWithReason(netcode.CodeServerBusy, fmt.Sprintf("whiteboard full (%d players)", board.MaxPlayers))
		return
	}
	s.nextID++
	m := &member{id: strconv.Itoa(s.nextID)}
	p.Value = m
	p.Name = m.id
	s.board.Join(m.id, board.ColourFor(s.nextID))
	fmt.Fprintf(s.log, "+ %s joined as %s\n", p.Addr(), m.id)
	if err := p.Send(board.InitialMsg{Action: board.ActionInitial, Lines: s.board.Snapshot()}); err != nil {
		fmt.Fprintf(s.log, "! %s: initial: %v\n", m.id, err)
	}
	s.sendPlayers()
}

// leave removes the player's drawing and tells everyone who is left (their
// clients drop the drawing of everyone not listed).
func (s *Server) leave(p *engine.Peer, reason error) {
	m, ok := p.Value.(*member)
	if !ok {
		return // refused at join
	}
	s.board.Leave(m.id)
	fmt.Fprintf(s.log, "- %s left: %v\n", m.id, reason)
	s.sendPlayers()
}

func (s *Server) sendPlayers() {
	s.sendAll("players", board.PlayersMsg{Action: board.ActionPlayers, Players: s.board.Players()})
}

// sendAll sends msg to every player. A channel whose connection ended
// but whose leave is still to come (later in this Pump) refuses it with
// net.ErrClosed, and Send reports that, though everyone else got the
// message: that is not worth logging.
func (s *Server) sendAll(what string, msg any) {
	if err := s.srv.Send(msg); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(s.log, "! %s: %v\n", what, err)
	}
}

// startLine begins a line for the sender and relays it, with the sender's
// id, to everyone (the sender included: its own drawing appears when the
// echo arrives, so every client draws in the server's order).
func (s *Server) startLine(p *engine.Peer, m board.PointMsg) {
	if id, ok := s.member(p); ok && s.board.StartLine(id, m.Point) {
		s.relay(board.ActionStartLine, id, m.Point)
	}
}

// drawPoint extends the sender's line and relays it. A drawpoint before
// any startline is ignored (not relayed, not fatal).
func (s *Server) drawPoint(p *engine.Peer, m board.PointMsg) {
	if id, ok := s.member(p); ok && s.board.DrawPoint(id, m.Point) {
		s.relay(board.ActionDrawPoint, id, m.Point)
	}
}

func (s *Server) relay(action, id string, pt board.Point) {
	s.sendAll(action, board.PointMsg{Action: action, Point: board.Clamp(pt), ID: id})
}

func (s *Server) member(p *engine.Peer) (string, bool) {
	m, ok := p.Value.(*member)
	if !ok {
		return "", false
	}
	return m.id, true
}

func idOf(p *engine.Peer) string {
	if m, ok := p.Value.(*member); ok {
		return m.id
	}
	return "-"
}
