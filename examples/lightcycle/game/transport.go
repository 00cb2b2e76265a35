package game

import "github.com/pumpnet/pumpnet/netcode"

// Mode is how a message travels between two peers.
type Mode uint8

// Delivery modes. The zero Mode means "the default" where a Config takes
// one.
const (
	// Reliable messages arrive once each, in the order they were sent to
	// that peer.
	Reliable Mode = iota + 1
	// Sequenced messages may be lost, and a message older than one already
	// delivered from the same peer is dropped (newest wins).
	Sequenced
)

// String returns "reliable" or "sequenced".
func (m Mode) String() string {
	switch m {
	case Reliable:
		return "reliable"
	case Sequenced:
		return "sequenced"
	}
	return "default"
}

// Member is a peer of the session: its identity and display name.
type Member struct {
	// ID is the peer's identity; IDs order peers (the lowest is the host)
	// and players (sim.PlayerConfig.ID). On a LAN it is the peer's key
	// fingerprint in lower-case hex.
	ID string
	// Name is the display name the peer chose.
	Name string
}

// IncomingKind says what an Incoming is.
type IncomingKind uint8

// The kinds of Incoming.
const (
	// PeerJoined: From connected and can be sent to.
	PeerJoined IncomingKind = iota + 1
	// PeerLeft: From is gone (left, timed out, or refused); Reason says why.
	PeerLeft
	// Message: From sent Data.
	Message
)

// Incoming is something that happened on a Transport.
type Incoming struct {
	Kind IncomingKind
	From Member
	// Data is the message (Kind Message). It is valid only during the
	// call that received it.
	Data []byte
	// Reason is why a peer left (Kind PeerLeft); it may be nil.
	Reason error
}

// Transport is what a Game needs from a session of peers: who this peer
// is, the peers it is connected to, sending framed messages, and whether
// newcomers may join. SessionTransport implements it over a lobby
// session; tests use an in-memory one.
//
// A Transport belongs to the goroutine that calls Game.Update: none of its
// methods may block.
type Transport interface {
	// Self returns this peer.
	Self() Member
	// Poll runs the network's side of one frame and calls handle, in
	// order, for every peer that joined or left and every message that
	// arrived since the last Poll. A peer joins before its first message.
	Poll(handle func(Incoming))
	// Send queues data for each peer in to (IDs of joined peers), in mode.
	// It never blocks; an unknown ID is skipped.
	Send(to []string, mode Mode, data []byte) error
	// SetOpen opens the session to newcomers (true) or locks its seats
	// (false): a locked session neither looks for nor accepts new peers.
	SetOpen(open bool)
	// Stats returns the transport statistics of the connection to a peer,
	// if the transport has any.
	Stats(id string) (netcode.Stats, bool)
	// Drop closes the connection to a joined peer that the game gave up on
	// (a host that went silent), so that both ends agree it is gone: the
	// transport must not report messages from it afterwards. A PeerLeft
	// for it may follow, and the peer may later join again as a newcomer.
	// An unknown ID is ignored.
	Drop(id string)
	// Close leaves the session: the peers see this peer leave.
	Close() error
}
