package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/netcode"
)

// Engine frames: every netcode message starts with a kind byte, then (for
// requests and replies) a varint request ID, then the codec payload.
const (
	kindMessage    = 0 // a plain message
	kindRequest    = 1 // a request: the receiver may Reply
	kindReply      = 2 // the reply to a request
	kindReplyError = 3 // a request could not be answered: RemoteCode varint, UTF-8 text
)

// engineChannels is the netcode channel layout: channel i has mode i.
var engineChannels = []netcode.DeliveryMode{netcode.ReliableOrdered, netcode.ReliableUnordered, netcode.Unreliable, netcode.UnreliableSequenced}

// RequestID names a request being answered; see Peer.RequestID.
type RequestID uint64

// Errors returned by the engine. Match them with errors.Is.
var (
	// ErrRequestTimeout: a request's callback got no reply in time. A
	// request that the peer forwarded and that timed out there fails with
	// a *RemoteError matching both ErrRemote and ErrRequestTimeout.
	ErrRequestTimeout = errors.New("engine: request timed out")
	// ErrNoHandler: the peer has no handler for a request's action. The
	// requester's callback gets a *RemoteError matching it and ErrRemote.
	ErrNoHandler = errors.New("engine: no handler for the request")
	// ErrNotARequest: Reply, ReplyTo (ID 0) or Forward with no request
	// being handled.
	ErrNotARequest = errors.New("engine: no request is being handled")
	// ErrQueueFull: Send found no room, in the transport's send queue or,
	// on a client, in the queue of messages waiting for the connection
	// (ClientConfig.QueueLimit).
	ErrQueueFull = errors.New("engine: send queue full")
	// ErrClosed: a send or request on a client or peer that was closed
	// or whose connection ended (the error also matches net.ErrClosed), a
	// pending request whose connection ended, and a client's
	// "disconnected" reason when it was closed before connecting.
	ErrClosed = errors.New("engine: closed")
	// ErrBadFrame: a peer sent a message that is not an engine frame (an
	// "error" event).
	ErrBadFrame = errors.New("engine: malformed frame")
	// ErrRemote: the peer could not answer a request (a *RemoteError says
	// why).
	ErrRemote = errors.New("engine: the peer could not answer")
)

// RemoteCode says why the peer could not answer a request; it travels in
// the failed-request frame, so a forwarded request's failure reaches the
// original requester with its code.
type RemoteCode uint64

// Remote codes.
const (
	RemoteFailed    RemoteCode = 0 // another reason: see RemoteError.Text
	RemoteNoHandler RemoteCode = 1 // no handler for the action (ErrNoHandler)
	RemoteTimeout   RemoteCode = 2 // a forwarded request timed out (ErrRequestTimeout)
	RemoteClosed    RemoteCode = 3 // a forwarded request's connection ended (ErrClosed)
)

// maxRemoteText bounds a RemoteError's text, sent and received.
const maxRemoteText = 256

// RemoteError is how a request failed on the peer. It matches ErrRemote
// with errors.Is, and the sentinel of its Code: ErrNoHandler,
// ErrRequestTimeout or ErrClosed. Reach it with errors.As.
type RemoteError struct {
	Code RemoteCode
	// Text is the peer's description (at most 256 bytes, UTF-8; from the
	// network: treat it as untrusted text).
	Text string
}

// Error returns "engine: the peer could not answer: <Text>".
func (e *RemoteError) Error() string {
	return fmt.Sprintf("%v: %s", ErrRemote, e.Text)
}

// Is matches ErrRemote and the sentinel of the code.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrRemote:
		return true
	case ErrNoHandler:
		return e.Code == RemoteNoHandler
	case ErrRequestTimeout:
		return e.Code == RemoteTimeout
	case ErrClosed, net.ErrClosed:
		return e.Code == RemoteClosed
	}
	return false
}

// remoteErrorOf turns why a request failed here into what its requester
// gets: a RemoteError passes on unchanged (a chain of forwards keeps the
// first code), a local error gets the code of its sentinel.
func remoteErrorOf(err error) (RemoteCode, string) {
	var re *RemoteError
	switch {
	case errors.As(err, &re):
		return re.Code, re.Text
	case errors.Is(err, ErrNoHandler):
		return RemoteNoHandler, err.Error()
	case errors.Is(err, ErrRequestTimeout):
		return RemoteTimeout, err.Error()
	case errors.Is(err, ErrClosed), errors.Is(err, net.ErrClosed):
		return RemoteClosed, err.Error()
	}
	return RemoteFailed, err.Error()
}

// parseRemoteError reads a failed-request payload (hostile input: any
// bytes give an error, never a panic).
func parseRemoteError(b []byte) *RemoteError {
	code, n := binary.Uvarint(b)
	if n <= 0 {
		return &RemoteError{Code: RemoteFailed, Text: "malformed failure from the peer"}
	}
	return &RemoteError{Code: RemoteCode(code), Text: clipText(string(b[n:]), maxRemoteText)}
}

// clipText returns s as valid UTF-8 of at most max bytes.
func clipText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // do not split a rune
		}
		s = s[:cut]
	}
	return s
}

// Msg is an untyped message: a map whose "action" names its handler.
type Msg = codec.Msg

type pendingRequest struct {
	ctx      context.Context
	deadline time.Time
	// ctxDeadline: deadline is ctx's (a timeout matches
	// context.DeadlineExceeded too)
	ctxDeadline bool
	done        replyFunc
	action      string
	// stop ends the timer and ctx watch that wake Pump for this request
	stopTimer func() bool
	stopCtx   func() bool
}

// release stops r's wake-ups (its reply, failure or expiry came).
func (r *pendingRequest) release() {
	if r.stopTimer != nil {
		r.stopTimer()
	}
	if r.stopCtx != nil {
		r.stopCtx()
	}
}

type queued struct {
	frame []byte
	mode  Mode
}

// link is what Peer (server side) and Client share: framing, the send
// queue kept until a connection exists, and request/reply bookkeeping. Not
// safe for concurrent use: it belongs to the goroutine that calls Pump.
type link struct {
	codec    codec.Codec
	conn     netcode.Transport // nil until connected (client)
	queue    []queued          // frames sent before conn existed (or behind those), in order
	queueMax int
	// queuedRel counts the reliable frames in queue (discarded if the
	// connection closes now).
	queuedRel int
	enc       []byte
	nextRID   uint64
	requests  map[uint64]*pendingRequest
	// the request being dispatched (0: none) and its payload
	curRID     uint64
	curPayload []byte
	badFrames  int
	// wake signals the owner's Pump (a request's deadline came, or its
	// ctx ended), so PumpWait does not sleep through it.
	wakeUp func()
}

func newLink(c codec.Codec, queueMax int) link {
	return link{codec: c, queueMax: queueMax, requests: make(map[uint64]*pendingRequest)}
}

// frame encodes msg behind an engine header into p.enc (reused).
func (p *link) frame(kind byte, rid uint64, msg any) ([]byte, error) {
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

func (p *link) sendFrame(b []byte, m Mode) error {
	if m > UnreliableSequenced {
		return fmt.Errorf("engine: unknown delivery mode %d", m)
	}
	if p.conn != nil && len(p.queue) > 0 {
		p.drainQueue() // older frames first: room may have come
	}
	if p.conn == nil || len(p.queue) > 0 {
		// Before the connection, or while frames sent before it still
		// wait for room in the transport's queue: wait behind them, so
		// nothing overtakes.
		if len(p.queue) >= p.queueMax {
			return fmt.Errorf("%w: %d messages wait for the connection", ErrQueueFull, len(p.queue))
		}
		p.queue = append(p.queue, queued{frame: append([]byte(nil), b...), mode: m})
		if reliable(m) {
			p.queuedRel++
		}
		return nil
	}
	if err := p.conn.Send(uint8(m), b); err != nil {
		if errors.Is(err, netcode.ErrQueueFull) {
			return fmt.Errorf("%w: %w", ErrQueueFull, err)
		}
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("%w: %w", ErrClosed, err)
		}
		return err
	}
	return nil
}

// errClosed is what sends on a closed client or peer return: it
// matches ErrClosed and net.ErrClosed.
func errClosed(op string) error {
	return fmt.Errorf("%w: %s (%w)", ErrClosed, op, net.ErrClosed)
}

// drainQueue hands the frames that wait for the connection to it, oldest
// first, until the transport's send queue is full (the rest wait for the
// next call, in order) or the connection ended (the client's end discards
// them). A frame the connection refuses for another reason (too large) is
// dropped, so nothing behind it is stranded; the first such error is
// returned.
func (p *link) drainQueue() error {
	var first error
	i := 0
	for ; i < len(p.queue); i++ {
		q := p.queue[i]
		err := p.conn.Send(uint8(q.mode), q.frame)
		if err == nil {
			continue
		}
		if errors.Is(err, netcode.ErrQueueFull) || errors.Is(err, net.ErrClosed) {
			break // room later; or the end, which discards the queue
		}
		if first == nil {
			first = fmt.Errorf("engine: a message sent before the connection was dropped: %w", err)
		}
	}
	n := copy(p.queue, p.queue[i:])
	clear(p.queue[n:])
	p.queue = p.queue[:n]
	p.queuedRel = 0
	for _, q := range p.queue {
		if reliable(q.mode) {
			p.queuedRel++
		}
	}
	if n == 0 {
		p.queue = nil
	}
	return first
}

func (p *link) send(msg any, mode Mode) error {
	b, err := p.frame(kindMessage, 0, msg)
	if err != nil {
		return err
	}
	return p.sendFrame(b, mode)
}

func (p *link) replyTo(id RequestID, msg any, mode Mode) error {
	if id == 0 {
		return ErrNotARequest
	}
	b, err := p.frame(kindReply, uint64(id), msg)
	if err != nil {
		return err
	}
	return p.sendFrame(b, mode)
}

// replyError tells the requester that request rid failed: a kind 3 frame
// whose payload is the RemoteCode (varint) and a UTF-8 text of at most
// maxRemoteText bytes.
func (p *link) replyError(rid uint64, code RemoteCode, text string) {
	b := binary.AppendUvarint(append(p.enc[:0], kindReplyError), rid)
	b = binary.AppendUvarint(b, uint64(code))
	b = append(b, clipText(text, maxRemoteText)...)
	p.enc = b
	_ = p.sendFrame(b, ReliableOrdered)
}

// call runs a request's callback; a panic in it is recovered and returned
// as a *PanicError.
func (r *pendingRequest) call(c codec.Codec, payload []byte, err error) (perr error) {
	defer func() {
		if v := recover(); v != nil {
			perr = &PanicError{Action: r.action, Handler: "Request callback", Value: v, Stack: debug.Stack()}
		}
	}()
	r.done(c, payload, err)
	return nil
}

// expire fails requests past their deadline. Callbacks run here, inside
// Pump; the first that panicked is returned as a *PanicError (the others
// still run).
func (p *link) expire(now time.Time) error {
	var first error
	for rid, r := range p.requests {
		var fail error
		switch {
		case now.After(r.deadline) && r.ctxDeadline:
			fail = fmt.Errorf("%w (%w)", ErrRequestTimeout, context.DeadlineExceeded)
		case now.After(r.deadline):
			fail = ErrRequestTimeout
		default:
			fail = r.ctx.Err()
			if errors.Is(fail, context.DeadlineExceeded) {
				fail = fmt.Errorf("%w (%w)", ErrRequestTimeout, fail)
			}
		}
		if fail == nil {
			continue
		}
		delete(p.requests, rid)
		r.release()
		if err := r.call(nil, nil, fail); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// failRequests ends every pending request with an error matching ErrClosed
// and reason (the connection ended); it returns the first callback panic.
func (p *link) failRequests(reason error) error {
	if len(p.requests) == 0 {
		return nil
	}
	err := fmt.Errorf("%w: the connection ended: %w", ErrClosed, reason)
	var first error
	for rid, r := range p.requests {
		delete(p.requests, rid)
		r.release()
		if perr := r.call(nil, nil, err); perr != nil && first == nil {
			first = perr
		}
	}
	return first
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
func (p *link) handleReply(kind byte, rid uint64, payload []byte) error {
	r := p.requests[rid]
	if r == nil {
		return nil
	}
	delete(p.requests, rid)
	r.release()
	if kind == kindReplyError {
		return r.call(nil, nil, parseRemoteError(payload))
	}
	return r.call(p.codec, payload, nil)
}

func reliable(m Mode) bool { return m == ReliableOrdered || m == ReliableUnordered }
