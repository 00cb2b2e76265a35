package engine

import (
	"runtime/debug"

	"github.com/pumpnet/pumpnet/engine/internal/dispatch"
)

// Guard runs fn, a user callback that is not a message handler (the lobby's
// PeerAdded or Accept hook, say), with the recovery handlers have: a panic
// in fn is recovered, delivered to the server's handlers as an "error"
// event for ch (which may be nil) and returned, as a *dispatch.PanicError
// naming action and handler that matches ErrPanic. It returns nil when fn
// returns normally. A panic in an "error" handler is recovered and
// dropped. Call it from the Pump goroutine; it blocks while fn runs.
func (s *Server) Guard(p *Peer, action, handler string, fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &dispatch.PanicError{Action: action, Handler: handler, Value: r, Stack: debug.Stack()}
			_, _ = s.handlers.Event(p, "error", err)
		}
	}()
	fn()
	return nil
}
