package dispatch

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps one of them (a
// decode error also wraps the codec's error, so errors.Is(err,
// codec.ErrDecode) works too); match them with errors.Is.
var (
	// ErrBadHandler means Register, Handle or HandleFunc was given a
	// handler whose signature is not one of the allowed forms (or a nil or
	// non-function value). The wrapping error names the handler, its
	// signature and the allowed forms.
	ErrBadHandler = errors.New("dispatch: bad handler")
	// ErrNoHandlers means Register was given a value with no Network or
	// Network_<action> methods in its method set.
	ErrNoHandlers = errors.New("dispatch: no Network methods")
	// ErrBadMessage means Dispatch could not read the action of the bytes
	// it was given, or could not decode them into a handler's parameter
	// type (the codec's error is wrapped too). No handler ran.
	ErrBadMessage = errors.New("dispatch: bad message")
	// ErrReserved means Dispatch was given a message whose action was
	// reserved for local events with Reserve. No handler ran.
	ErrReserved = errors.New("dispatch: action reserved for local events")
	// ErrEmptyAction means Event was called with an empty action.
	ErrEmptyAction = errors.New("dispatch: empty action")
	// ErrPanic is wrapped by every *PanicError.
	ErrPanic = errors.New("dispatch: handler panicked")
)

// PanicError reports a panic in a handler, recovered by Dispatch or Event.
// It wraps ErrPanic and, if the panic value is an error, that error.
type PanicError struct {
	// Action is the action being delivered.
	Action string
	// Handler names the handler that panicked, e.g.
	// "(*main.Game).Network_move" or `Handle("move")`.
	Handler string
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack (runtime/debug.Stack).
	Stack []byte
}

// Error returns "dispatch: handler <Handler> for action <Action> panicked:
// <Value>", without the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("dispatch: handler %s for action %q panicked: %v", e.Handler, e.Action, e.Value)
}

// Unwrap returns ErrPanic and, if Value is an error, Value.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// multiError is an error with its own text that wraps several errors.
type multiError struct {
	msg  string
	errs []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.errs }
