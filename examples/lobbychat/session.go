package main

import (
	"context"
	"errors"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/termtext"
	"github.com/pumpnet/pumpnet/lobby"
)

// chatMsg is the one message peers exchange: a line of chat, to everyone
// or (Private) to the receiver only. Who sent it is the connection's peer,
// never a field of the message.
type chatMsg struct {
	Action  string `msgpack:"action"`
	Text    string `msgpack:"text"`
	Private bool   `msgpack:"private,omitempty"`
}

// lockMsg tells the session that its sender locked (stopped looking for
// peers) or unlocked it. The lobby's lock is each peer's own: a newcomer
// refused by one peer could still join the others and split the session,
// so lobbychat makes /lock and /unlock the whole session's.
type lockMsg struct {
	Action string `msgpack:"action"`
	Locked bool   `msgpack:"locked"`
}

// sessionRoom is the room of a lobby session. Its listener methods run
// inside Session.Pump, on the chat's goroutine, and hand the events to the
// chat.
type sessionRoom struct {
	s  *lobby.Session
	ev events
}

// errGone is what /to reports for a peer that left meanwhile.
var errGone = errors.New("that peer has left")

// newSessionRoom registers the room's listener on s: s's events go to ev.
func newSessionRoom(s *lobby.Session, ev events) (*sessionRoom, error) {
	r := &sessionRoom{s: s, ev: ev}
	if err := s.Register(r); err != nil {
		return nil, err
	}
	return r, nil
}

func memberOf(p *lobby.Peer) member {
	return member{id: p.Fingerprint().String(), name: termtext.Clean(p.Name, maxNameRunes), rtt: p.Stats().RTT}
}

func (r *sessionRoom) self() member {
	return member{id: r.s.ID().String(), name: termtext.Clean(r.s.Name(), maxNameRunes)}
}

func (r *sessionRoom) members() []member {
	ps := r.s.Peers()
	ms := make([]member, len(ps))
	for i, p := range ps {
		ms[i] = memberOf(p)
	}
	return ms
}

func (r *sessionRoom) host() string { return r.s.Host().String() }

func (r *sessionRoom) send(text string, private bool, to ...string) error {
	var ps []*lobby.Peer
	for _, id := range to {
		for _, p := range r.s.Peers() {
			if p.Fingerprint().String() == id {
				ps = append(ps, p)
			}
		}
	}
	if len(to) > 0 && len(ps) == 0 {
		return errGone
	}
	msg := chatMsg{Action: "chat", Text: text, Private: private}
	if len(to) == 0 {
		return r.s.Send(msg) // everyone
	}
	return r.s.Send(msg, engine.To(ps...))
}

func (r *sessionRoom) locked() bool { return r.s.Locked() }

func (r *sessionRoom) code() string { return r.s.Room() }

// lock stops looking for peers here and tells every peer to do the same.
func (r *sessionRoom) lock() error {
	r.s.StopLookingForPeers()
	return r.s.Send(lockMsg{Action: "lock", Locked: true})
}

// unlock looks for peers again here and tells every peer to do the same.
func (r *sessionRoom) unlock() error {
	if err := r.s.StartLookingForPeers(); err != nil {
		return err
	}
	return r.s.Send(lockMsg{Action: "lock", Locked: false})
}

func (r *sessionRoom) wake() <-chan struct{} { return r.s.Wake() }
func (r *sessionRoom) pump()                 { r.s.Pump() }

// leave flushes what was sent, waits (up to 2 s) until every peer has
// acknowledged it, and closes the session: the peers see this one leave
// at once.
func (r *sessionRoom) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.s.Shutdown(ctx, "left")
}

// Listener methods (lobby.Session.Register).

// PeerAdded announces a peer whose connection is up and whose hello came.
// A peer admitted just before a lock reached this one is told of the lock.
func (r *sessionRoom) PeerAdded(p *lobby.Peer) {
	r.ev.joined(memberOf(p))
	if r.s.Locked() {
		if err := r.s.Send(lockMsg{Action: "lock", Locked: true}, engine.To(p)); err != nil {
			r.ev.problem(err)
		}
	}
}

// Network_lock follows a peer's /lock or /unlock.
func (r *sessionRoom) Network_lock(p *lobby.Peer, m lockMsg) {
	if m.Locked == r.s.Locked() {
		return
	}
	if m.Locked {
		r.s.StopLookingForPeers()
	} else if err := r.s.StartLookingForPeers(); err != nil {
		r.ev.problem(err)
		return
	}
	r.ev.lockChanged(memberOf(p), m.Locked)
}

// PeerRemoved announces a peer that left, timed out or was closed.
func (r *sessionRoom) PeerRemoved(p *lobby.Peer, reason error) { r.ev.left(memberOf(p), reason) }

// PeerRefused reports a session that would not take this peer.
func (r *sessionRoom) PeerRefused(_ *lobby.Peer, reason error) { r.ev.refused(reason) }

// Network_chat shows a line from a peer.
func (r *sessionRoom) Network_chat(p *lobby.Peer, m chatMsg) {
	r.ev.message(memberOf(p), termtext.Clean(m.Text, maxTextRunes), m.Private)
}
