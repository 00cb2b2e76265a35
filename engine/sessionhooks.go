package engine

import (
	"errors"

	"github.com/pumpnet/pumpnet/netcode"
)

// SessionHooks are the hooks of a server that carries a peer-to-peer
// session (the lobby's), given once to NewSessionServer. They run before
// the game's own hooks and nothing on the Server replaces them: OnConnect
// and OnDisconnect set the game's hooks beside them. They run inside Pump.
type SessionHooks struct {
	// Connect sees every new connection (accepted or adopted) as it
	// arrives, pending: before it is admitted, before any of its messages.
	Connect func(p *Peer)
	// Disconnect sees every connection end, admitted or not, once, before
	// the game's OnDisconnect and "disconnected" handlers (which only
	// admitted peers reach).
	Disconnect func(p *Peer, reason error)
}

// Admission admits the pending peers of the server NewSessionServer made.
// Only NewSessionServer's caller holds it, so a game given the Server
// cannot admit anyone. Call it from the Pump goroutine.
type Admission struct{ s *Server }

// ErrNotPending: Admission.Admit with a peer that is not a pending peer of
// its server (nil, already admitted, ended, or another server's).
var ErrNotPending = errors.New("engine: not a pending peer of this server")

// NewSessionServer is NewServer for a peer-to-peer session whose members
// are admitted by the session, not by the transport: every new peer is
// pending until the returned Admission admits it. A pending peer is not in
// Peers, and the game's OnConnect and "connected" handlers see it only
// once admitted; one that ends while pending never reaches the game's
// OnDisconnect or "disconnected" handlers. hooks see every peer, pending
// or not, and cannot be replaced. Message dispatch is unchanged:
// cfg.Gate decides what a pending peer's messages may reach.
func NewSessionServer(ep *netcode.Endpoint, cfg *ServerConfig, hooks SessionHooks) (*Server, *Admission) {
	s := NewServer(ep, cfg)
	s.session = &hooks
	return s, &Admission{s}
}

// Admit makes p, a pending peer, a member: the game's OnConnect and
// "connected" handlers run now, inside this call, and p's end will reach
// its OnDisconnect and "disconnected" handlers. A panic in the game's
// hooks closes p (as on accept) and is returned; a peer that is not
// pending on this server is ErrNotPending. Call it from the Pump goroutine.
func (a *Admission) Admit(p *Peer) error {
	if p == nil || p.server != a.s || !p.pending || p.disconnected {
		return ErrNotPending
	}
	p.pending = false
	return a.s.connected(p)
}

// pend records p as pending and tells the session.
func (s *Server) pend(p *Peer) {
	p.pending = true
	if s.session.Connect != nil {
		s.session.Connect(p)
	}
}

// sessionEnd tells the session that p ended and reports whether p was
// still pending (then the game never hears of it).
func (s *Server) sessionEnd(p *Peer, reason error) bool {
	if s.session.Disconnect != nil {
		s.session.Disconnect(p, reason)
	}
	return p.pending
}
