package game

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

// ServiceType is the lobby service type lightcycle peers advertise and
// browse for.
const ServiceType = "lightcycle"

// MaxPeers is the size of a lightcycle session, this peer included: one
// seat per colour.
const MaxPeers = 8

// wireAction is the engine action that carries every game message.
const wireAction = "lc"

// wireMsg is the engine message that frames a game message: the netcode
// message boundary is the frame, the game's binary message is D.
type wireMsg struct {
	Action string `msgpack:"action"`
	D      []byte `msgpack:"d"`
}

// SessionTransport is the Transport of a Game over a lobby session: peer
// IDs are key fingerprints in lower-case hex (which sort as the lobby
// orders identities), Reliable is engine.ReliableOrdered and Sequenced is
// engine.UnreliableSequenced. Like the session, it belongs to the goroutine
// that calls Poll, except Close.
type SessionTransport struct {
	s      *lobby.Session
	peers  map[string]*lobby.Peer
	to     []*lobby.Peer
	handle func(Incoming)
	queued []Incoming // events raised outside Poll (by Close)
}

// NewSessionTransport makes s the transport of a Game. It registers a
// listener and a handler on s; s must not be used for other messages of
// action "lc".
func NewSessionTransport(s *lobby.Session) (*SessionTransport, error) {
	t := &SessionTransport{s: s, peers: make(map[string]*lobby.Peer)}
	if err := s.Register(sessionEvents{t}); err != nil {
		return nil, err
	}
	if err := lobby.HandleFunc(s, wireAction, func(p *lobby.Peer, m wireMsg) {
		t.emit(Incoming{Kind: Message, From: member(p), Data: m.D})
	}); err != nil {
		return nil, err
	}
	for _, p := range s.Peers() {
		t.peers[p.Fingerprint().String()] = p
	}
	return t, nil
}

// LANConfig configures JoinLAN.
type LANConfig struct {
	// Name is the display name (1..63 bytes of UTF-8).
	Name string
	// Interface is the network interface to find peers on; nil: every
	// multicast-capable interface.
	Interface *net.Interface
	// Net configures the transport (timeouts, link conditioner).
	Net netcode.Config
}

// ErrNoLAN reports that JoinLAN found no network interface to find
// players on: none is up with multicast (a machine offline, or only a
// loopback interface). A program says what to do about it: connect to a
// network, name an interface, or play offline.
var ErrNoLAN = errors.New("game: no network interface to find players on (none is up with multicast)")

// JoinLAN joins (or starts) the lightcycle session on the LAN: a lobby
// session of service type "lightcycle" and at most MaxPeers peers. It
// returns at once; peers arrive as the Game is updated. Without a network
// interface that can find peers it returns an error wrapping ErrNoLAN.
func JoinLAN(ctx context.Context, cfg LANConfig) (*SessionTransport, error) {
	s, err := lobby.Join(ctx, lobby.Config{
		DisplayName: cfg.Name,
		ServiceType: ServiceType,
		MaxPeers:    MaxPeers,
		Interface:   cfg.Interface,
		Net:         cfg.Net,
	})
	if err != nil {
		if strings.Contains(err.Error(), "no usable multicast interface") {
			return nil, fmt.Errorf("%w (%w)", ErrNoLAN, err)
		}
		return nil, fmt.Errorf("game: %w", err)
	}
	t, err := NewSessionTransport(s)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("game: %w", err)
	}
	return t, nil
}

// RoomConfig configures JoinRoom.
type RoomConfig struct {
	// Name is the display name (1..63 bytes of UTF-8).
	Name string
	// Rendezvous is the rendezvous server's address: a URL
	// ("https://rdv.example.org", "http://10.0.0.1:7777"), or host:port,
	// which means https://host:port.
	Rendezvous string
	// Room is the code of the room to join; empty with Create.
	Room string
	// Create makes a new room instead; its code is
	// SessionTransport.Session().Room().
	Create bool
	// Public lists a created room in the rendezvous's public list of
	// lightcycle rooms.
	Public bool
	// ICEServers are STUN and TURN servers for reaching peers behind NATs,
	// besides those the rendezvous hands out.
	ICEServers []webrtc.ICEServer
}

// JoinRoom joins (or, with Create, creates) a lightcycle room on a
// rendezvous server: the players meet there and connect to each other
// directly through their NATs where they can, through a TURN relay where
// they cannot (see the lobby's "Over the internet"). It blocks until the
// rendezvous has answered (ctx bounds that); peers arrive as the Game is
// updated.
func JoinRoom(ctx context.Context, cfg RoomConfig) (*SessionTransport, error) {
	if cfg.Rendezvous == "" {
		return nil, errors.New("game: JoinRoom needs a rendezvous address")
	}
	s, err := lobby.Join(ctx, lobby.Config{
		DisplayName: cfg.Name,
		ServiceType: ServiceType,
		MaxPeers:    MaxPeers,
		Rendezvous:  cfg.Rendezvous,
		Room:        cfg.Room,
		CreateRoom:  cfg.Create,
		PublicRoom:  cfg.Public,
		ICEServers:  cfg.ICEServers,
	})
	if err != nil {
		return nil, fmt.Errorf("game: %w", err)
	}
	t, err := NewSessionTransport(s)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("game: %w", err)
	}
	return t, nil
}

// Session returns the lobby session.
func (t *SessionTransport) Session() *lobby.Session { return t.s }

func member(p *lobby.Peer) Member { return Member{ID: p.Fingerprint().String(), Name: p.Name} }

func (t *SessionTransport) emit(in Incoming) {
	if t.handle == nil {
		in.Data = append([]byte(nil), in.Data...)
		t.queued = append(t.queued, in)
		return
	}
	t.handle(in)
}

// sessionEvents receives the session's peer events.
type sessionEvents struct{ t *SessionTransport }

func (e sessionEvents) PeerAdded(p *lobby.Peer) {
	m := member(p)
	e.t.peers[m.ID] = p
	e.t.emit(Incoming{Kind: PeerJoined, From: m})
}

func (e sessionEvents) PeerRemoved(p *lobby.Peer, reason error) {
	m := member(p)
	if e.t.peers[m.ID] != p {
		return
	}
	delete(e.t.peers, m.ID)
	e.t.emit(Incoming{Kind: PeerLeft, From: m, Reason: reason})
}

// Self returns this peer: its fingerprint and display name.
func (t *SessionTransport) Self() Member {
	return Member{ID: t.s.ID().String(), Name: t.s.Name()}
}

// Poll pumps the session and hands its events to handle.
func (t *SessionTransport) Poll(handle func(Incoming)) {
	t.handle = handle
	defer func() { t.handle = nil }()
	for len(t.queued) > 0 {
		in := t.queued[0]
		t.queued = t.queued[1:]
		handle(in)
	}
	t.s.Pump()
}

// Send queues data for the peers in to.
func (t *SessionTransport) Send(to []string, mode Mode, data []byte) error {
	t.to = t.to[:0]
	for _, id := range to {
		if p := t.peers[id]; p != nil {
			t.to = append(t.to, p)
		}
	}
	if len(t.to) == 0 {
		return nil
	}
	m := engine.ReliableOrdered
	if mode == Sequenced {
		m = engine.UnreliableSequenced
	}
	return t.s.Send(wireMsg{Action: wireAction, D: data}, m, engine.To(t.to...))
}

// SetOpen starts or stops looking for peers.
func (t *SessionTransport) SetOpen(open bool) {
	if open {
		_ = t.s.StartLookingForPeers()
	} else {
		t.s.StopLookingForPeers()
	}
}

// Drop closes the connection to peer id (see Transport.Drop); the
// session reports it removed, and its discovery may connect to it again.
func (t *SessionTransport) Drop(id string) {
	if p := t.peers[id]; p != nil {
		_ = p.Close()
	}
}

// Stats returns the statistics of the connection to peer id.
func (t *SessionTransport) Stats(id string) (netcode.Stats, bool) {
	p := t.peers[id]
	if p == nil {
		return netcode.Stats{}, false
	}
	return p.Stats(), true
}

// Close leaves the session and closes its socket. It is idempotent.
func (t *SessionTransport) Close() error {
	err := t.s.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
