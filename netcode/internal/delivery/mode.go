package delivery

import "strconv"

// Mode is how a channel delivers its messages.
type Mode uint8

// Delivery modes. Every message of every mode carries a per-channel
// sequence number (PROTOCOL.md §5).
const (
	// ReliableOrdered delivers every message exactly once, in the order
	// queued.
	ReliableOrdered Mode = iota
	// ReliableUnordered delivers every message exactly once, in the order
	// it completes at the receiver.
	ReliableUnordered
	// Unreliable delivers a message at most once, in any order. Lost
	// messages (or lost fragments of a message) are never resent.
	Unreliable
	// UnreliableSequenced delivers a message at most once and never one
	// older than a message already delivered on the channel: anything with
	// a sequence number at or below the last delivered one is dropped.
	UnreliableSequenced
)

// String returns the mode's name, such as "reliable-ordered", or
// "Mode(7)" for a value that is not a mode.
func (m Mode) String() string {
	switch m {
	case ReliableOrdered:
		return "reliable-ordered"
	case ReliableUnordered:
		return "reliable-unordered"
	case Unreliable:
		return "unreliable"
	case UnreliableSequenced:
		return "unreliable-sequenced"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Reliable reports whether messages of mode m are resent until
// acknowledged.
func (m Mode) Reliable() bool { return m == ReliableOrdered || m == ReliableUnordered }

func (m Mode) valid() bool { return m <= UnreliableSequenced }
