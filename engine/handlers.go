package engine

import (
	"runtime/debug"

	"github.com/pumpnet/pumpnet/engine/internal/dispatch"
)

// Handlers is what handlers can be registered on: a *Server (handlers take
// a *Peer first) or a *Client (they take a *Client first).
type Handlers[P any] interface {
	table() *dispatch.Table[P]
}

func (s *Server) table() *dispatch.Table[*Peer]   { return s.handlers }
func (c *Client) table() *dispatch.Table[*Client] { return c.handlers }

// HandleFunc registers a typed handler for one action: each message is
// decoded straight into a T (a struct with an Action field), without a map
// and without reflection on the way to fn.
//
//	engine.HandleFunc(srv, "move", func(p *engine.Peer, m Move) { ... })
//
// Handlers add up, as PodSixNet's listeners do: registering a second
// handler for the same action (with HandleFunc, Handle or Register) does
// not replace the first; both run, in the order they were registered. A
// struct field named Action with no tag is the action (see package codec).
// A T's []byte fields are decoded into buffers reused from one message to
// the next, so they are valid only until fn returns: copy what you keep
// (strings and everything else are the handler's to keep).
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
	// ErrPanic: a handler or another user callback panicked; the error is
	// a *PanicError (reach it with errors.As) with the value and stack.
	ErrPanic = dispatch.ErrPanic
)

// PanicError reports a panic in game code that the engine called and
// recovered: a handler (Network_<action>, Handle, HandleFunc), a Request
// callback, or a hook (Server.OnConnect, Server.OnDisconnect,
// ServerConfig.Gate). It arrives as an "error" event; the engine then
// closes only the peer concerned (on a client, the connection). Its
// fields: Action, the action being delivered (for a request callback,
// the request's); Handler, what panicked (e.g. "(*main.Game).Network_move",
// `Handle("move")`, "OnConnect", "Request callback"); Value, the value
// passed to panic; Stack, the panicking goroutine's stack. It matches
// ErrPanic with errors.Is, and Value when that is an error.
type PanicError = dispatch.PanicError

// recoverHook runs a user hook; a panic in it is recovered and returned as
// a *PanicError.
func recoverHook(action, hook string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Action: action, Handler: hook, Value: v, Stack: debug.Stack()}
		}
	}()
	f()
	return nil
}
