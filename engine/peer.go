package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/netcode"
)

// Engine frames: every netcode message starts with a kind byte, then (for
// requests and replies) a varint request ID, then the codec payload.
const (
	kindMessage    = 0 // a plain message
	kindRequest    = 1 // a request: the receiver may Reply
	kindReply      = 2 // the reply to a request
	kindReplyError = 3 // a request could not be answered: UTF-8 reason
)

// Delivery modes, per send. The engine opens one netcode channel per mode.
const (
	ReliableOrdered     = netcode.ReliableOrdered
	ReliableUnordered   = netcode.ReliableUnordered
	Unreliable          = netcode.Unreliable
	UnreliableSequenced = netcode.UnreliableSequenced
)

// Mode is a delivery mode for Send; the default is ReliableOrdered.
type Mode = netcode.DeliveryMode

// engineChannels is the netcode channel layout: channel i has mode i.
var engineChannels = []netcode.DeliveryMode{ReliableOrdered, ReliableUnordered, Unreliable, UnreliableSequenced}

// RequestID names a request being answered; see Channel.RequestID.
type RequestID uint64

// Errors returned by the engine. Match them with errors.Is.
var (
	ErrRequestTimeout = errors.New("engine: request timed out")
	ErrNoHandler      = errors.New("engine: no handler for the request")
	ErrNotARequest    = errors.New("engine: no request is being handled")
	ErrQueueFull      = errors.New("engine: send queue full")
	ErrClosed         = errors.New("engine: closed")
	ErrBadFrame       = errors.New("engine: malformed frame")
	ErrRemote         = errors.New("engine: the peer could not answer")
)

// Msg is an untyped message: a map whose "action" names its handler.
type Msg = codec.Msg

type pendingRequest struct {
	deadline time.Time
	cb       func(Msg, error)
}

type queued struct {
	frame []byte
	mode  Mode
}

// peer is what Channel (server side) and Client share: framing, the send
// queue kept until a connection exists, and request/reply bookkeeping. Not
// safe for concurrent use: it belongs to the goroutine that calls Pump.
type peer struct {
	codec    codec.Codec
	conn     *netcode.Conn // nil until connected (client)
	queue    []queued      // frames sent before conn existed, in order
	queueMax int
	enc      []byte
	nextRID  uint64
	requests map[uint64]*pendingRequest
	// the request being dispatched (0: none) and its payload
	curRID     uint64
	curPayload []byte
	badFrames  int
}

func newPeer(c codec.Codec, queueMax int) peer {
	return peer{codec: c, queueMax: queueMax, requests: make(map[uint64]*pendingRequest)}
}

// frame encodes msg behind an engine header into p.enc (reused).
func (p *peer) frame(kind byte, rid uint64, msg any) ([]byte, error) {
	b := append(p.enc[:0], kind)
	if kind != kindMessage {
		b = binary.AppendUvarint(b, rid)
	}
	b, err := p.codec.Append(b, msg)
	if err != nil {
		return nil, err
	}
	p.enc = b
	return b, nil
}

func (p *peer) sendFrame(b []byte, mode []Mode) error {
	m := ReliableOrdered
	if len(mode) > 0 {
		m = mode[0]
	}
	if m > UnreliableSequenced {
		return fmt.Errorf("engine: unknown delivery mode %d", m)
	}
	if p.conn == nil {
		if len(p.queue) >= p.queueMax {
			return fmt.Errorf("%w: %d messages wait for the connection", ErrQueueFull, len(p.queue))
		}
		p.queue = append(p.queue, queued{frame: append([]byte(nil), b...), mode: m})
		return nil
	}
	if err := p.conn.Send(uint8(m), b); err != nil {
		if errors.Is(err, netcode.ErrQueueFull) {
			return fmt.Errorf("%w: %w", ErrQueueFull, err)
		}
		return err
	}
	return nil
}

// flushQueue hands messages sent before the connection to it, in order.
func (p *peer) flushQueue() error {
	for i, q := range p.queue {
		if err := p.conn.Send(uint8(q.mode), q.frame); err != nil {
			p.queue = p.queue[i:]
			return err
		}
	}
	p.queue = nil
	return nil
}

func (p *peer) send(msg any, mode []Mode) error {
	b, err := p.frame(kindMessage, 0, msg)
	if err != nil {
		return err
	}
	return p.sendFrame(b, mode)
}

func (p *peer) request(msg any, timeout time.Duration, cb func(Msg, error), mode []Mode) error {
	if timeout <= 0 {
		return errors.New("engine: request timeout must be positive")
	}
	p.nextRID++
	rid := p.nextRID
	b, err := p.frame(kindRequest, rid, msg)
	if err != nil {
		return err
	}
	if err := p.sendFrame(b, mode); err != nil {
		return err
	}
	p.requests[rid] = &pendingRequest{deadline: time.Now().Add(timeout), cb: cb}
	return nil
}

func (p *peer) replyTo(id RequestID, msg any, mode []Mode) error {
	if id == 0 {
		return ErrNotARequest
	}
	b, err := p.frame(kindReply, uint64(id), msg)
	if err != nil {
		return err
	}
	return p.sendFrame(b, mode)
}

func (p *peer) replyError(rid uint64, reason string) {
	b := binary.AppendUvarint(append(p.enc[:0], kindReplyError), rid)
	b = append(b, reason...)
	p.enc = b
	_ = p.sendFrame(b, nil)
}

// expire fails requests past their deadline. Callbacks run here, inside
// Pump.
func (p *peer) expire(now time.Time) {
	for rid, r := range p.requests {
		if now.After(r.deadline) {
			delete(p.requests, rid)
			r.cb(nil, ErrRequestTimeout)
		}
	}
}

// failRequests ends every pending request with err (the connection ended).
func (p *peer) failRequests(err error) {
	for rid, r := range p.requests {
		delete(p.requests, rid)
		r.cb(nil, err)
	}
}

// parseFrame splits an engine frame.
func parseFrame(b []byte) (kind byte, rid uint64, payload []byte, err error) {
	if len(b) == 0 {
		return 0, 0, nil, fmt.Errorf("%w: empty", ErrBadFrame)
	}
	kind, b = b[0], b[1:]
	switch kind {
	case kindMessage:
		return kind, 0, b, nil
	case kindRequest, kindReply, kindReplyError:
		v, n := binary.Uvarint(b)
		if n <= 0 || v == 0 {
			return 0, 0, nil, fmt.Errorf("%w: bad request ID", ErrBadFrame)
		}
		return kind, v, b[n:], nil
	}
	return 0, 0, nil, fmt.Errorf("%w: unknown kind %d", ErrBadFrame, kind)
}

// handleReply completes a pending request. Replies to unknown requests
// (late, after a timeout) are dropped.
func (p *peer) handleReply(kind byte, rid uint64, payload []byte) error {
	r := p.requests[rid]
	if r == nil {
		return nil
	}
	delete(p.requests, rid)
	if kind == kindReplyError {
		r.cb(nil, fmt.Errorf("%w: %q", ErrRemote, payload))
		return nil
	}
	var m Msg
	if err := p.codec.Decode(payload, &m); err != nil {
		r.cb(nil, err)
		return err
	}
	r.cb(m, nil)
	return nil
}
