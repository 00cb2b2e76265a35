package engine

import "github.com/pumpnet/pumpnet/engine/internal/dispatch"

// Handlers is what handlers can be registered on: a *Server (handlers take
// a *Channel first) or a *Client (they take a *Client first).
type Handlers[P any] interface {
	table() *dispatch.Table[P]
}

func (s *Server) table() *dispatch.Table[*Channel] { return s.handlers }
func (c *Client) table() *dispatch.Table[*Client]  { return c.handlers }

// HandleFunc registers a typed handler for one action: each message is
// decoded straight into a T (a struct with an Action field), without a map
// and without reflection on the way to fn.
//
//	engine.HandleFunc(srv, "move", func(ch *engine.Channel, m Move) { ... })
func HandleFunc[P, T any](h Handlers[P], action string, fn func(P, T)) error {
	return dispatch.HandleFunc(h.table(), action, fn)
}

// localEvents are the built-in events; a server refuses them from the
// network, so a client cannot fake them (a client, which must receive the
// server's "connected" greeting, refuses the others).
var localEvents = []string{"connected", "disconnected", "error", "socketConnect"}

// Errors from handler registration and dispatch. Match them with errors.Is.
var (
	// ErrBadHandler: a handler's signature is not one of the allowed forms.
	ErrBadHandler = dispatch.ErrBadHandler
	// ErrNoHandlers: Register found no Network methods on the listener.
	ErrNoHandlers = dispatch.ErrNoHandlers
	// ErrBadMessage: a peer's message could not be decoded for a handler.
	ErrBadMessage = dispatch.ErrBadMessage
	// ErrReserved: a peer sent a built-in event's action.
	ErrReserved = dispatch.ErrReserved
	// ErrPanic: a handler panicked (the error is a *dispatch.PanicError
	// with the value and stack).
	ErrPanic = dispatch.ErrPanic
)
