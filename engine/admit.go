package engine

import (
	"net/netip"

	"github.com/pumpnet/pumpnet/netcode"
)

// Arrival is a client asking to join, as a Server's accept hook
// (OnAccept) sees it.
type Arrival struct {
	// Addr is the client's address (where its handshake came from; behind
	// a NAT, many players share one IP).
	Addr netip.AddrPort
	// Fingerprint is the client's key, proven in the handshake. A client
	// that keeps its key (netcode.Config.KeyFile or Certificate) is the
	// same Fingerprint every time, so it can be allowed or banned; a
	// client without one makes a fresh key per run. Zero in PSK mode.
	Fingerprint netcode.Fingerprint
	// Peers is how many peers the server has open now (not counting this
	// one): a hook can refuse with "server full".
	Peers int
}

// maxRefusalReason bounds the reason a refused client is told (a netcode
// CLOSE frame carries 256 bytes).
const maxRefusalReason = 256

// OnAccept sets the accept/deny hook (peerpy's offer handler): it is
// called inside Pump, on the Pump goroutine (so it may read game state
// without locks), once for each connection a client made, before
// anything else happens for it. Returning nil admits the client:
// OnConnect, the "connected" event and the greeting follow. Returning an
// error refuses it: the connection is closed at once with
// netcode.CodeRefused and err's text as the reason (at most 256 bytes;
// "refused" if empty), and the server's game sees nothing more of it — no
// Peer, no OnConnect, no "connected" or "disconnected" event. The client
// gets "disconnected" (after "socketConnect", without the greeting; or
// after "error" if the refusal overtook the end of its handshake) with an
// error matching netcode.ErrRefused whose CloseError.Reason is that text. A panicking hook refuses the client ("accept hook failed") and is
// reported as an "error" event (for a nil *Peer) holding a *PanicError.
//
// The hook runs after the handshake, not during it: by then the client has
// proved its key (Arrival.Fingerprint), and the game's state is at hand
// without locks. What a refused client costs the server is bounded by
// what any client costs before its first Pump: one handshake (netcode's
// handshake limits bound how many run at once, per source IP and in all)
// and the few packets it sent before the refusal, which are discarded with
// the connection; nothing is kept after it. A refused client that was
// quick may have had its first messages acknowledged by the transport
// before the hook ran: they are dropped, never dispatched.
//
// The hook sees connections the server accepts, not those it adopts
// (Adopt: the caller chose them). OnAccept does not block; call it from
// the Pump goroutine, before or between Pumps. nil removes the hook.
func (s *Server) OnAccept(f func(a Arrival) error) { s.onAccept = f }

// admit runs the accept hook on an accepted connection and reports
// whether the client may join; a refused connection is closed here.
func (s *Server) admit(c netcode.Transport) bool {
	if s.onAccept == nil {
		return true
	}
	open := 0
	for _, p := range s.peers {
		if !p.gone {
			open++
		}
	}
	a := Arrival{Addr: c.RemoteAddr(), Fingerprint: c.PeerFingerprint(), Peers: open}
	var refusal error
	if perr := s.Guard(nil, "accept", "OnAccept", func() { refusal = s.onAccept(a) }); perr != nil {
		c.CloseWithReason(netcode.CodeRefused, "accept hook failed")
		return false
	}
	if refusal == nil {
		return true
	}
	reason := clipText(refusal.Error(), maxRefusalReason)
	if reason == "" {
		reason = "refused"
	}
	c.CloseWithReason(netcode.CodeRefused, reason)
	return false
}
