package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pumpnet/pumpnet/codec"
)

// ErrUnhandled is reported (as an "error" event, once per action) when a
// message arrives whose action no handler takes and no catch-all Network
// handler is registered: a typo ("mvoe") or a peer that speaks a newer
// protocol. The message is dropped; the connection stays.
var ErrUnhandled = errors.New("engine: no handler for the action")

// maxUnhandledReports bounds the actions reported as unhandled, so a peer
// cycling through made-up actions cannot flood the game with events or
// grow the set: after this many, one last report says so and the rest are
// dropped silently.
const maxUnhandledReports = 64

// unhandledLog remembers which unhandled actions were reported.
type unhandledLog struct {
	seen map[string]struct{}
	done bool // the bound was reached and said
}

// report returns the error to deliver for a message nobody handled, or
// nil if its action was reported before.
func (u *unhandledLog) report(c codec.Codec, payload []byte) error {
	if u.done {
		return nil
	}
	action, err := c.Action(payload)
	if err != nil {
		return nil // Dispatch read it: cannot happen
	}
	if _, ok := u.seen[action]; ok || slices.Contains(localEvents, action) {
		return nil // a built-in event ("connected") needs no handler
	}
	if u.seen == nil {
		u.seen = make(map[string]struct{})
	}
	if len(u.seen) == maxUnhandledReports {
		u.done, u.seen = true, nil
		return fmt.Errorf("%w: %d different actions had no handler; further ones are not reported", ErrUnhandled, maxUnhandledReports)
	}
	u.seen[action] = struct{}{}
	return fmt.Errorf("%w: %q (reported once per action; register a handler for it, or a catch-all Network method to see every message)", ErrUnhandled, action)
}
