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
