package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/codec"
)

// DefaultRequestTimeout bounds a request given neither a Timeout option
// nor a ctx with a deadline: its callback gets ErrRequestTimeout after
// that long without a reply.
const DefaultRequestTimeout = 10 * time.Second

// Requester is what can send a request: a *Peer (to its client) or a
// *Client (to its server). RequestFunc and Forward take one.
type Requester interface {
	// Request sends msg as a request; see Peer.Request.
	Request(ctx context.Context, msg any, cb func(reply Msg, err error), opts ...SendOption) error
	requestRaw(ctx context.Context, msg any, done replyFunc, opts []SendOption) error
}

// replyFunc receives a request's outcome: the reply's payload (encoded
// with c), or err. It runs inside Pump.
type replyFunc func(c codec.Codec, payload []byte, err error)

// RequestFunc is Request with a typed reply: the reply is decoded
// straight into a T (a struct, as HandleFunc's messages), and cb gets it
// or the error (as Request's callback; a reply that does not decode into
// T is an error too, and cb gets T's zero value). It does not block.
func RequestFunc[T any](ctx context.Context, r Requester, msg any, cb func(reply T, err error), opts ...SendOption) error {
	if cb == nil {
		return errors.New("engine: request callback is nil")
	}
	return r.requestRaw(ctx, msg, func(c codec.Codec, payload []byte, err error) {
		var v T
		if err == nil {
			if derr := c.Decode(payload, &v); derr != nil {
				var zero T
				v, err = zero, fmt.Errorf("engine: reply does not decode into %T: %w", v, derr)
			}
		}
		cb(v, err)
	}, opts)
}

// msgReply adapts a Msg callback.
func msgReply(cb func(Msg, error)) replyFunc {
	return func(c codec.Codec, payload []byte, err error) {
		if err != nil {
			cb(nil, err)
			return
		}
		var m Msg
		if derr := c.Decode(payload, &m); derr != nil {
			cb(nil, fmt.Errorf("engine: reply does not decode: %w", derr))
			return
		}
		cb(m, nil)
	}
}

// Request sends msg as a request to this peer's client; cb runs inside
// Pump, exactly once, with the reply or with an error:
//   - ErrRequestTimeout when no reply came within the Timeout option, or
//     by ctx's deadline if that is sooner (DefaultRequestTimeout when
//     there is neither); it matches context.DeadlineExceeded too when the
//     deadline was ctx's;
//   - ctx's error when ctx was cancelled (checked at each Pump);
//   - a *RemoteError matching ErrRemote and, by its code, ErrNoHandler
//     (the peer has no handler), ErrRequestTimeout or ErrClosed (a
//     request the peer forwarded failed so);
//   - an error matching ErrClosed when the connection ends first.
//
// ctx is for cancelling (a scene the game leaves); most requests pass
// context.Background() and a Timeout. A Mode option picks the delivery
// mode. A panic in cb is recovered like a handler's. It does not block;
// call it from the Pump goroutine.
func (p *Peer) Request(ctx context.Context, msg any, cb func(reply Msg, err error), opts ...SendOption) error {
	if cb == nil {
		return errors.New("engine: request callback is nil")
	}
	return p.requestRaw(ctx, msg, msgReply(cb), opts)
}

func (p *Peer) requestRaw(ctx context.Context, msg any, done replyFunc, opts []SendOption) error {
	o, err := onePeerOptions("Peer.Request", opts)
	if err != nil {
		return err
	}
	if p.disconnected {
		return errClosed("request")
	}
	return p.request(ctx, msg, done, o)
}

// Reply answers the request being handled right now (ErrNotARequest if
// none is). A Mode option picks the delivery mode.
func (p *Peer) Reply(msg any, opts ...SendOption) error {
	return p.ReplyTo(RequestID(p.curRID), msg, opts...)
}

// RequestID returns the request being handled right now (0 if the message
// being handled is not a request), to answer it later with ReplyTo.
func (p *Peer) RequestID() RequestID { return RequestID(p.curRID) }

// ReplyTo answers a request whose ID was kept from RequestID. A Mode
// option picks the delivery mode.
func (p *Peer) ReplyTo(id RequestID, msg any, opts ...SendOption) error {
	mode, err := modeOnly("Peer.ReplyTo", opts)
	if err != nil {
		return err
	}
	return p.replyTo(id, msg, mode)
}

// Forward passes the request being handled to another requester (p2py's
// bounce): another peer of this server, or a Client (a server that
// relays to an upstream one). The reply goes back to this peer's
// requester, and so does a failure, with its code: the requester's error
// matches ErrRemote and ErrNoHandler, ErrRequestTimeout or ErrClosed as
// the forwarded request failed (see RemoteError). ctx and a Timeout
// option bound the forwarded request as Request's do; a Mode option picks
// its delivery mode (the reply always travels reliably). It does not
// block.
func (p *Peer) Forward(ctx context.Context, to Requester, opts ...SendOption) error {
	return p.forward(ctx, to, opts)
}

// Request sends msg as a request to the server; cb runs inside Pump with
// the reply or an error (see Peer.Request). Before the connection is up
// the request waits in the client's queue like a Send. It does not block;
// errors as for Send.
func (c *Client) Request(ctx context.Context, msg any, cb func(reply Msg, err error), opts ...SendOption) error {
	if cb == nil {
		return errors.New("engine: request callback is nil")
	}
	return c.requestRaw(ctx, msg, msgReply(cb), opts)
}

func (c *Client) requestRaw(ctx context.Context, msg any, done replyFunc, opts []SendOption) error {
	o, err := onePeerOptions("Client.Request", opts)
	if err != nil {
		return err
	}
	if c.disconnected || c.userClosed.Load() {
		return errClosed("request")
	}
	defer c.syncUnsent()
	return c.request(ctx, msg, done, o)
}

// Reply answers the server's request being handled right now.
func (c *Client) Reply(msg any, opts ...SendOption) error {
	return c.ReplyTo(RequestID(c.curRID), msg, opts...)
}

// RequestID returns the request being handled right now (0 if none).
func (c *Client) RequestID() RequestID { return RequestID(c.curRID) }

// ReplyTo answers a request whose ID was kept from RequestID.
func (c *Client) ReplyTo(id RequestID, msg any, opts ...SendOption) error {
	mode, err := modeOnly("Client.ReplyTo", opts)
	if err != nil {
		return err
	}
	defer c.syncUnsent()
	return c.replyTo(id, msg, mode)
}

// Forward passes the server's request being handled to another requester
// (a *Peer of a server this process runs, or another Client), as
// Peer.Forward does: the answer or the failure, with its code, goes back
// to the server. It does not block.
func (c *Client) Forward(ctx context.Context, to Requester, opts ...SendOption) error {
	defer c.syncUnsent()
	return c.forward(ctx, to, opts)
}

// forward is Forward for either side: l is the link the request came in
// on.
func (l *link) forward(ctx context.Context, to Requester, opts []SendOption) error {
	rid := l.curRID
	if rid == 0 {
		return ErrNotARequest
	}
	if to == nil {
		return errors.New("engine: forward to a nil requester")
	}
	var m Msg
	if err := l.codec.Decode(l.curPayload, &m); err != nil {
		return err
	}
	return to.requestRaw(ctx, m, func(c codec.Codec, payload []byte, err error) {
		if err != nil {
			code, text := remoteErrorOf(err)
			l.replyError(rid, code, text)
			return
		}
		if l.conn == nil || l.conn.Err() != nil {
			return // the requester is gone
		}
		// The reply travels as it came: re-framed, not re-encoded when
		// both sides share a codec.
		var b []byte
		if c == l.codec {
			b = binary.AppendUvarint(append(l.enc[:0], kindReply), rid)
			b = append(b, payload...)
			l.enc = b
		} else {
			var reply Msg
			if derr := c.Decode(payload, &reply); derr != nil {
				l.replyError(rid, RemoteFailed, "the forwarded reply does not decode")
				return
			}
			var ferr error
			if b, ferr = l.frame(kindReply, rid, reply); ferr != nil {
				l.replyError(rid, RemoteFailed, "the forwarded reply does not encode")
				return
			}
		}
		_ = l.sendFrame(b, ReliableOrdered)
	}, opts)
}

// request frames msg as a request and keeps done until the reply, the
// deadline, ctx's end or the connection's end.
func (l *link) request(ctx context.Context, msg any, done replyFunc, o sendOpts) error {
	if ctx == nil {
		return errors.New("engine: request with a nil context")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := DefaultRequestTimeout
	if o.timeoutSet {
		d = o.timeout
	}
	deadline := time.Now().Add(d)
	ctxDeadline, ok := ctx.Deadline()
	if ok && (ctxDeadline.Before(deadline) || !o.timeoutSet) {
		deadline = ctxDeadline
	} else {
		ok = false
	}
	l.nextRID++
	rid := l.nextRID
	b, err := l.frame(kindRequest, rid, msg)
	if err != nil {
		return err
	}
	// The action, for the report of a panicking callback.
	action, _ := l.codec.Action(b[len(binary.AppendUvarint(nil, rid))+1:])
	if err := l.sendFrame(b, o.mode); err != nil {
		return err
	}
	r := &pendingRequest{ctx: ctx, deadline: deadline, ctxDeadline: ok, done: done, action: action}
	if l.wakeUp != nil {
		// Wake Pump when the request is due or ctx ends: PumpWait with
		// no limit must not sleep through either.
		r.stopTimer = time.AfterFunc(time.Until(deadline)+time.Millisecond, l.wakeUp).Stop
		if ctx.Done() != nil {
			r.stopCtx = context.AfterFunc(ctx, l.wakeUp)
		}
	}
	l.requests[rid] = r
	return nil
}
