package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// Mode is a delivery mode, a SendOption: Send(msg, engine.Unreliable).
// Without one, a message is ReliableOrdered.
type Mode uint8

// Delivery modes. The engine opens one netcode channel per mode, numbered
// as these constants.
const (
	// ReliableOrdered: delivered once, in the order sent (the default).
	ReliableOrdered Mode = Mode(netcode.ReliableOrdered)
	// ReliableUnordered: delivered once, as it arrives.
	ReliableUnordered Mode = Mode(netcode.ReliableUnordered)
	// Unreliable: delivered at most once, as it arrives; never resent.
	Unreliable Mode = Mode(netcode.Unreliable)
	// UnreliableSequenced: like Unreliable, but a message older than the
	// newest one received on the channel is dropped (states, positions).
	UnreliableSequenced Mode = Mode(netcode.UnreliableSequenced)
)

// String returns the mode's name, as netcode names it
// ("reliable-ordered", ...).
func (m Mode) String() string { return netcode.DeliveryMode(m).String() }

func (Mode) sendOption() {}

// SendOption is an option of Send, Request, Reply and ReplyTo: a delivery
// Mode, the recipients of a server's or session's Send (To, Except), or a
// request's Timeout. Each kind may be given once: a second mode, To,
// Except or Timeout is an error wrapping ErrSendOption, never silently
// ignored.
type SendOption interface{ sendOption() }

// Recipients is the SendOption that To and Except return.
type Recipients struct {
	// Peers lists the peers.
	Peers []*Peer
	// Except: every peer but those in Peers (Except); otherwise only
	// those in Peers (To).
	Except bool
}

func (Recipients) sendOption() {}

// To sends to the listed peers only (Multipeer's to_peer): a
// SendOption of Server.Send and lobby.Session.Send. A peer listed twice
// gets the message once; To() with no peer sends to nobody.
func To(peers ...*Peer) Recipients { return Recipients{Peers: peers} }

// Except sends to every peer but the listed ones (a chat's echo to the
// others): a SendOption of Server.Send and lobby.Session.Send. With To,
// it removes peers from To's list.
func Except(peers ...*Peer) Recipients { return Recipients{Peers: peers, Except: true} }

// Timeout bounds a request (a SendOption of Request, RequestFunc and
// Forward): its callback gets ErrRequestTimeout when no reply came within
// d, or by ctx's deadline if that comes first. Without it (and without a
// ctx deadline) DefaultRequestTimeout applies. d must be positive.
func Timeout(d time.Duration) SendOption { return timeout(d) }

type timeout time.Duration

func (timeout) sendOption() {}

// ErrSendOption: Send, Request or Reply got options that contradict each
// other or do not apply: a mode given twice, To or Except given twice, an
// unknown mode, To/Except on a send that has one recipient only (a
// Peer's or a Client's), or Timeout on anything but a request.
var ErrSendOption = errors.New("engine: bad send option")

// ErrNotPeer: Server.Send was given a peer (in To) that is nil, belongs
// to another server, or is a session's peer not yet admitted (see
// NewSessionServer).
var ErrNotPeer = errors.New("engine: not a peer of this server")

// sendOpts is what a list of SendOptions asks for.
type sendOpts struct {
	mode             Mode
	to, except       []*Peer
	modeSet          bool
	toSet, exceptSet bool
	timeout          time.Duration
	timeoutSet       bool
}

// parseSendOptions reads opts. It does not allocate unless it fails.
func parseSendOptions(opts []SendOption) (sendOpts, error) {
	var o sendOpts
	for _, opt := range opts {
		switch v := opt.(type) {
		case Mode:
			if o.modeSet {
				return o, fmt.Errorf("%w: two delivery modes (%v, then %v)", ErrSendOption, o.mode, v)
			}
			if v > UnreliableSequenced {
				return o, fmt.Errorf("%w: unknown delivery mode %d", ErrSendOption, uint8(v))
			}
			o.mode, o.modeSet = v, true
		case Recipients:
			if v.Except {
				if o.exceptSet {
					return o, fmt.Errorf("%w: Except given twice", ErrSendOption)
				}
				o.except, o.exceptSet = v.Peers, true
			} else {
				if o.toSet {
					return o, fmt.Errorf("%w: To given twice", ErrSendOption)
				}
				o.to, o.toSet = v.Peers, true
			}
		case timeout:
			if o.timeoutSet {
				return o, fmt.Errorf("%w: Timeout given twice", ErrSendOption)
			}
			if v <= 0 {
				return o, fmt.Errorf("%w: Timeout(%v) is not positive", ErrSendOption, time.Duration(v))
			}
			o.timeout, o.timeoutSet = time.Duration(v), true
		case nil:
			return o, fmt.Errorf("%w: nil option", ErrSendOption)
		default:
			// Not %T of opt: formatting it would make every option
			// escape to the heap, and Send allocate.
			return o, fmt.Errorf("%w: an option that is not a Mode, To, Except or Timeout", ErrSendOption)
		}
	}
	return o, nil
}

// modeOnly reads opts of a send with one recipient (a Peer's, a
// Client's, a reply): only a Mode applies.
func modeOnly(op string, opts []SendOption) (Mode, error) {
	o, err := onePeerOptions(op, opts)
	if err == nil && o.timeoutSet {
		err = fmt.Errorf("%w: %s takes no Timeout (requests do)", ErrSendOption, op)
	}
	return o.mode, err
}

// onePeerOptions reads opts of a send or request with one recipient: To
// and Except do not apply.
func onePeerOptions(op string, opts []SendOption) (sendOpts, error) {
	o, err := parseSendOptions(opts)
	if err != nil {
		return o, err
	}
	if o.toSet || o.exceptSet {
		return o, fmt.Errorf("%w: %s goes to one peer; To and Except are for Server.Send and Session.Send", ErrSendOption, op)
	}
	return o, nil
}

// Send queues msg (a Msg or a struct with an Action field) for every open
// peer, or for those the options pick (To, Except), with the delivery mode
// they give (default ReliableOrdered); Pump flushes it. It encodes once.
// A session's peers not yet admitted (NewSessionServer) never get it.
// It returns the first error, and every peer is still tried: a peer in To
// that is nil or another server's is an error wrapping ErrNotPeer, a full
// queue one wrapping ErrQueueFull. Peers whose connection already ended
// are skipped: their "disconnected" event comes with the next Pump. It
// does not block and does not allocate in steady state; call it from the
// Pump goroutine.
func (s *Server) Send(msg any, opts ...SendOption) error {
	o, err := parseSendOptions(opts)
	if err != nil {
		return err
	}
	if o.timeoutSet {
		return fmt.Errorf("%w: Server.Send takes no Timeout (requests do)", ErrSendOption)
	}
	list := s.peers
	if o.toSet {
		list = o.to
	}
	// A stamp per Send marks the peers excluded or already served, so
	// Except and duplicate listings cost no allocation.
	s.sendStamp++
	stamp := s.sendStamp
	for _, p := range o.except {
		if p != nil && p.server == s {
			p.sendStamp = stamp
		}
	}
	var first error
	var frame []byte
	for _, p := range list {
		if p == nil || p.server != s || p.pending {
			if first == nil && (o.toSet || p == nil || p.server != s) {
				first = fmt.Errorf("%w: %s", ErrNotPeer, describePeer(p))
			}
			continue // a session's pending peer is no one's to reach yet
		}
		if p.sendStamp == stamp {
			continue
		}
		p.sendStamp = stamp
		if p.gone || p.conn.Err() != nil {
			continue
		}
		if frame == nil {
			b, err := p.frame(kindMessage, 0, msg)
			if err != nil {
				return err
			}
			frame = append(s.fanout[:0], b...)
			s.fanout = frame
		}
		if err := p.sendFrame(frame, o.mode); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func describePeer(p *Peer) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%q (%v)", p.Name, p.Addr())
}

// Send queues msg (a Msg or a struct with an Action field) for this
// client; the server's Pump flushes it. A Mode option picks the delivery
// mode (default ReliableOrdered); To and Except do not apply (an error
// wrapping ErrSendOption). After the connection ended the error matches
// ErrClosed. It does not block; call it from the Pump goroutine.
func (p *Peer) Send(msg any, opts ...SendOption) error {
	mode, err := modeOnly("Peer.Send", opts)
	if err != nil {
		return err
	}
	if p.disconnected {
		return errClosed("send")
	}
	return p.send(msg, mode)
}

// Send queues msg for the server; Pump flushes it. A Mode option picks
// the delivery mode (default ReliableOrdered); To and Except do not apply
// (an error wrapping ErrSendOption). It does not block.
//
// Before the connection is up, messages wait in the client's queue, in
// order; they also wait there, behind the older ones, while the
// transport's send queue has no room for those yet, so nothing overtakes
// them. That queue holds at most ClientConfig.QueueLimit messages: beyond
// it Send returns an error matching ErrQueueFull and the message is not
// sent. After Close, or once the connection ended, the error matches
// ErrClosed (and net.ErrClosed).
func (c *Client) Send(msg any, opts ...SendOption) error {
	mode, err := modeOnly("Client.Send", opts)
	if err != nil {
		return err
	}
	if c.disconnected || c.userClosed.Load() {
		return errClosed("send")
	}
	defer c.syncUnsent()
	return c.send(msg, mode)
}
