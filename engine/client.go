package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine/internal/dispatch"
	"github.com/pumpnet/pumpnet/netcode"
)

// ClientConfig configures a Client. The zero value works for connect
// strings that carry the server's fingerprint.
type ClientConfig struct {
	// Net configures the transport. Its Channels field is ignored.
	Net netcode.Config
	// Codec encodes messages. Default: codec.Default() (msgpack). It must
	// match the server's.
	Codec codec.Codec
	// InsecureAcceptAnyServer allows a target without a fingerprint: the
	// traffic is encrypted, but anyone on the path can pose as the server.
	// For development only.
	InsecureAcceptAnyServer bool
	// QueueLimit bounds messages sent before the connection is up.
	// Default 1024.
	QueueLimit int
	// MaxBadMessages closes the connection after this many undecodable
	// messages from the server. Default 16.
	MaxBadMessages int
	// Endpoint, when set, is dialed from instead of a fresh socket (the
	// lobby shares one endpoint; tests use an in-memory network). It must
	// use the engine's channel layout (EndpointConfig), and the target's
	// host must then be an IP address. Net is ignored.
	Endpoint *netcode.Endpoint
}

type dialResult struct {
	conn *netcode.Conn
	err  error
}

// Client is a connection to a Server, PodSixNet style: Connect returns at
// once, Send works before the connection is up (order kept), and events and
// messages reach handlers inside Pump. Its methods must be called from the
// goroutine that calls Pump, except Close and Wake.
type Client struct {
	peer
	handlers *dispatch.Table[*Client]
	target   Target
	maxBad   int

	ctx      context.Context
	cancel   context.CancelFunc
	dialDone chan dialResult
	wg       sync.WaitGroup
	wake     chan struct{}

	relay        bool       // the endpoint is the caller's: relay its conn's wake-ups
	mu           sync.Mutex // guards conn's assignment against Close
	userClosed   atomic.Bool
	connecting   bool
	disconnected bool
}

// Connect starts connecting to target ("host:port#fingerprint", a connect
// string, or "host:port" with cfg.InsecureAcceptAnyServer) and returns at
// once. The outcome arrives in Pump: "socketConnect" then the server's
// "connected", or "error" then "disconnected".
func Connect(target string, cfg *ClientConfig) (*Client, error) {
	var c ClientConfig
	if cfg != nil {
		c = *cfg
	}
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if t.Fingerprint.IsZero() && !c.InsecureAcceptAnyServer && c.Net.PSK == nil && c.Net.RootCAs == nil {
		return nil, fmt.Errorf("engine: %q has no key fingerprint to verify the server: use the connect string the server prints, or set InsecureAcceptAnyServer", target)
	}
	if c.Codec == nil {
		c.Codec = codec.Default()
	}
	if c.QueueLimit <= 0 {
		c.QueueLimit = 1024
	}
	if c.MaxBadMessages <= 0 {
		c.MaxBadMessages = 16
	}
	nc := c.Net
	nc.Channels = engineChannels
	wake := make(chan struct{}, 1)
	nc.Notify = wake // the connection wakes the client directly
	table := dispatch.New[*Client](c.Codec)
	// A peer may not send what only the connection itself may say.
	table.Reserve("disconnected", "error", "socketConnect")
	cl := &Client{
		peer:       newPeer(c.Codec, c.QueueLimit),
		handlers:   table,
		target:     t,
		maxBad:     c.MaxBadMessages,
		dialDone:   make(chan dialResult, 1),
		wake:       wake,
		relay:      c.Endpoint != nil,
		connecting: true,
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl.ctx, cl.cancel = ctx, cancel
	opts := netcode.DialOptions{Fingerprint: t.Fingerprint, InsecureAcceptAnyServer: c.InsecureAcceptAnyServer}
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		var conn *netcode.Conn
		var err error
		if c.Endpoint != nil {
			var ap netip.AddrPort
			if ap, err = netip.ParseAddrPort(t.Addr); err == nil {
				conn, err = c.Endpoint.Dial(ctx, ap, opts)
			}
		} else {
			conn, err = netcode.Dial(ctx, t.Addr, &nc, opts)
		}
		cl.dialDone <- dialResult{conn, err}
		cl.signal()
	}()
	return cl, nil
}

// Register adds a listener: obj's methods named Network_<action> (and the
// catch-all Network), taking the message (a Msg or a struct) and optionally
// the *Client first.
func (c *Client) Register(obj any) error { return c.handlers.Register(obj) }

// Handle adds a handler for one action ("" for every action).
func (c *Client) Handle(action string, fn any) error { return c.handlers.Handle(action, fn) }

// Send queues msg for the server; Pump flushes it. Before the connection is
// up, messages wait in order (at most ClientConfig.QueueLimit).
func (c *Client) Send(msg any, mode ...Mode) error {
	if c.disconnected {
		return fmt.Errorf("engine: send: %w", net.ErrClosed)
	}
	return c.send(msg, mode)
}

// Request sends msg as a request; cb runs inside Pump with the reply or an
// error.
func (c *Client) Request(msg any, timeout time.Duration, cb func(reply Msg, err error), mode ...Mode) error {
	if c.disconnected {
		return fmt.Errorf("engine: request: %w", net.ErrClosed)
	}
	return c.request(msg, timeout, cb, mode)
}

// Reply answers the server's request being handled right now.
func (c *Client) Reply(msg any, mode ...Mode) error { return c.replyTo(RequestID(c.curRID), msg, mode) }

// RequestID returns the request being handled right now (0 if none).
func (c *Client) RequestID() RequestID { return RequestID(c.curRID) }

// ReplyTo answers a request whose ID was kept from RequestID.
func (c *Client) ReplyTo(id RequestID, msg any, mode ...Mode) error {
	return c.replyTo(id, msg, mode)
}

// Connected reports whether the secure connection is up.
func (c *Client) Connected() bool { return c.conn != nil && !c.disconnected }

// Stats returns the connection's statistics (zero before it is up).
func (c *Client) Stats() netcode.Stats {
	if c.conn == nil {
		return netcode.Stats{}
	}
	return c.conn.Stats()
}

// Conn returns the underlying connection (nil before it is up).
func (c *Client) Conn() *netcode.Conn { return c.conn }

// Wake returns a channel that receives a value when there is something for
// Pump to do. It is the same channel for the client's whole life. Safe from
// any goroutine.
func (c *Client) Wake() <-chan struct{} { return c.wake }

func (c *Client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// forwardWakes relays the connection's wake-ups to the client's own wake
// channel until the connection ends or the client closes. It is needed only
// when the client dials from the caller's endpoint (ClientConfig.Endpoint);
// otherwise the endpoint signals the client's channel itself
// (netcode.Config.Notify).
func (c *Client) forwardWakes(ctx context.Context, conn *netcode.Conn) {
	defer c.wg.Done()
	for {
		select {
		case <-conn.Wake():
			c.signal()
		case <-conn.Done():
			c.signal()
			return
		case <-ctx.Done():
			return
		}
	}
}

// Pump runs every handler for what happened since the last call, on the
// caller's goroutine, and flushes what was sent. It never blocks. It
// dispatches at most MaxDispatchPerPump messages; if more wait, Wake is
// signalled and the next Pump carries on (events stay in order:
// "disconnected" comes after every message that arrived before the end).
func (c *Client) Pump() {
	if c.disconnected {
		return
	}
	if c.connecting {
		select {
		case r := <-c.dialDone:
			c.connecting = false
			if r.err != nil {
				if c.userClosed.Load() {
					c.end(fmt.Errorf("engine: %w before connecting", net.ErrClosed))
					return
				}
				c.event("error", r.err)
				c.end(r.err)
				return
			}
			c.mu.Lock()
			c.conn = r.conn
			if c.relay && !c.userClosed.Load() {
				c.wg.Add(1)
				go c.forwardWakes(c.ctx, r.conn)
			}
			c.mu.Unlock()
			c.event("socketConnect", SocketConnect{Action: "socketConnect", Addr: c.target.Addr})
			if err := c.flushQueue(); err != nil {
				c.event("error", err)
			}
		default:
			return
		}
	}
	// At most MaxDispatchPerPump messages per Pump, as a server does per
	// channel: a flooding server cannot hold the game's frame. What is left
	// waits for the next Pump, which Wake and PumpWait do not sleep through.
	n := 0
	for ; n < MaxDispatchPerPump && !c.disconnected; n++ {
		m, ok := c.conn.Receive()
		if !ok {
			break
		}
		c.handle(m.Data)
	}
	c.expire(time.Now())
	if c.disconnected {
		return
	}
	if n == MaxDispatchPerPump {
		// More may wait (even after the connection ended: the messages
		// before the end come first, then "disconnected").
		c.signal()
		c.conn.Flush()
		return
	}
	if err := c.conn.Err(); err != nil {
		// Ended: a message may have arrived just before the end.
		for n = 0; n < MaxDispatchPerPump; n++ {
			m, ok := c.conn.Receive()
			if !ok {
				break
			}
			c.handle(m.Data)
		}
		if n == MaxDispatchPerPump {
			c.signal()
			return
		}
		c.end(err)
		return
	}
	c.conn.Flush()
}

// PumpWait sleeps until there is something to do, ctx ends or timeout
// passes (timeout <= 0: no limit), then Pumps.
func (c *Client) PumpWait(ctx context.Context, timeout time.Duration) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-c.Wake():
	case <-ctx.Done():
	case <-tc:
	}
	c.Pump()
}

func (c *Client) event(action string, v any) {
	if _, err := c.handlers.Event(c, action, v); err != nil && action != "error" {
		c.handlers.Event(c, "error", err)
	}
}

// end delivers "disconnected" exactly once.
func (c *Client) end(reason error) {
	if c.disconnected {
		return
	}
	c.disconnected = true
	c.failRequests(reason)
	c.event("disconnected", Disconnected{Action: "disconnected", Reason: reasonText(reason), Err: reason})
}

func (c *Client) handle(b []byte) {
	kind, rid, payload, err := parseFrame(b)
	if err == nil {
		switch kind {
		case kindReply, kindReplyError:
			err = c.handleReply(kind, rid, payload)
		default:
			c.curRID, c.curPayload = rid, payload
			var n int
			n, err = c.handlers.Dispatch(c, payload)
			if err == nil && n == 0 && kind == kindRequest {
				c.replyError(rid, ErrNoHandler.Error())
			}
			c.curRID, c.curPayload = 0, nil
		}
	}
	if err == nil {
		return
	}
	c.event("error", err)
	var pe *dispatch.PanicError
	if errors.As(err, &pe) {
		c.conn.CloseWithReason(netcode.CodeApplication, "client handler failed")
		return
	}
	c.badFrames++
	if c.badFrames >= c.maxBad {
		c.conn.CloseWithReason(netcode.CodeProtocolViolation, fmt.Sprintf("%d undecodable messages", c.badFrames))
	}
}

// Shutdown flushes what was sent and waits (at most until ctx ends) until
// the server acknowledged every reliable message, then closes. Before the
// connection is up it waits for it first. Call it from the Pump goroutine.
func (c *Client) Shutdown(ctx context.Context) error {
	for c.connecting {
		c.PumpWait(ctx, 50*time.Millisecond)
		if err := ctx.Err(); err != nil {
			c.Close()
			return err
		}
	}
	if c.conn != nil && !c.disconnected {
		c.conn.Flush()
		if err := c.conn.Shutdown(ctx); err != nil {
			c.Close()
			return err
		}
	}
	return c.Close()
}

// Close ends the connection (the server is told) or stops connecting. The
// "disconnected" event is delivered by the next Pump if it was not yet.
// Safe from any goroutine; idempotent.
func (c *Client) Close() error {
	c.userClosed.Store(true)
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		// Pump has not taken the dial's result: close what it made.
		select {
		case r := <-c.dialDone:
			if r.conn != nil {
				r.conn.Close()
				r = dialResult{err: net.ErrClosed}
			}
			c.dialDone <- r
		default:
		}
		return nil
	}
	return conn.Close()
}
