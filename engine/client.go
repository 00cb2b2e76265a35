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
	// Net configures the transport. Its Channels and Application fields
	// are ignored (the engine sets them: see ApplicationProtocol).
	Net netcode.Config
	// Codec encodes messages. Default: codec.Default() (msgpack). It must
	// match the server's: a client of another codec is closed at connect,
	// with a reason naming both (see ApplicationProtocol).
	Codec codec.Codec
	// InsecureAcceptAnyServer allows a target without a fingerprint
	// ("host:port" instead of the connect string): the traffic is
	// encrypted, but anyone on the path can pose as the server. For
	// development only; the examples' -insecure flag sets it.
	InsecureAcceptAnyServer bool
	// QueueLimit bounds the client's own queue: messages sent before the
	// connection is up, and those sent after it while older ones still
	// wait for room in the transport's queue. Send returns ErrQueueFull
	// beyond it. Default 1024.
	QueueLimit int
	// MaxBadMessages closes the connection after this many undecodable
	// messages from the server. Default 16.
	MaxBadMessages int
	// Endpoint, when set, is dialed from instead of a fresh socket (the
	// lobby shares one endpoint; tests use an in-memory network). It must
	// use the engine's channel layout and the application protocol of
	// Codec (EndpointConfig), and the target's host must then be an IP
	// address. Net is ignored.
	Endpoint *netcode.Endpoint
	// Dial, when set, makes the connection instead of netcode: another
	// transport, such as WebRTC data channels (webrtc.Dial, whose Config
	// must list the engine's channels: webrtc.EngineConfig). The target
	// given to Connect is then only the client's label for it; the
	// transport verifies the server itself. Endpoint and Net are ignored.
	Dial func(ctx context.Context) (netcode.Transport, error)
}

type dialResult struct {
	conn netcode.Transport
	err  error
}

// Client is a connection to a Server, PodSixNet style: Connect returns at
// once, Send works before the connection is up (order kept), and events and
// messages reach handlers inside Pump. Its methods must be called from the
// goroutine that calls Pump, except Close and Wake, which are safe from any
// goroutine.
type Client struct {
	link
	handlers *dispatch.Table[*Client]
	target   Target
	maxBad   int
	// unhandled: actions reported as having no handler (once each)
	unhandled unhandledLog

	ctx      context.Context
	cancel   context.CancelFunc
	dialDone chan dialResult
	wg       sync.WaitGroup
	wake     chan struct{}

	relay bool // the endpoint is the caller's: relay its conn's wake-ups
	// mu makes Pump's connect step (taking the dial's result, assigning
	// conn) and Close exclusive: Close either sees conn, or the connect
	// step sees userClosed and closes what the dial made.
	mu         sync.Mutex
	userClosed atomic.Bool // set by Close before it takes mu
	// unsent mirrors peer.queuedRel for Close, which may run on another
	// goroutine: reliable messages still waiting in the engine's queue.
	unsent       atomic.Int64
	retry        *time.Timer // wakes Pump to retry a queue the transport had no room for
	connecting   bool
	disconnected bool
}

// Connect starts connecting to target ("host:port#fingerprint", a connect
// string, or "host:port" with cfg.InsecureAcceptAnyServer) and returns at
// once. In a browser build (GOOS=js) target may be a WebRTC signaling
// URL, "https://host/path#fingerprint" (the fragment pins the server's
// key; over https it may be left out): the client then runs over the
// browser's RTCPeerConnection, with the same API. The outcome arrives in Pump: "socketConnect" then the server's
// "connected", or "error" then "disconnected".
func Connect(target string, cfg *ClientConfig) (*Client, error) {
	var err error
	var c ClientConfig
	if cfg != nil {
		c = *cfg
	}
	if c.Dial == nil && isSignalURL(target) {
		if c.Dial, err = signalDialer(target, c.InsecureAcceptAnyServer); err != nil {
			return nil, err
		}
	}
	var t Target
	if c.Dial != nil {
		t = Target{Addr: target}
	} else if t, err = ParseTarget(target); err != nil {
		return nil, err
	}
	if c.Dial == nil && t.Fingerprint.IsZero() && !c.InsecureAcceptAnyServer && c.Net.PSK == nil && c.Net.RootCAs == nil {
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
	if c.Endpoint != nil {
		if err := checkEndpointCodec(c.Endpoint, c.Codec); err != nil {
			return nil, err
		}
	}
	nc := c.Net
	nc.Channels = engineChannels
	nc.Application = ApplicationProtocol(c.Codec)
	wake := make(chan struct{}, 1)
	nc.Notify = wake // the connection wakes the client directly
	table := dispatch.New[*Client](c.Codec)
	// A peer may not send what only the connection itself may say.
	table.Reserve("disconnected", "error", "socketConnect")
	cl := &Client{
		link:       newLink(c.Codec, c.QueueLimit),
		handlers:   table,
		target:     t,
		maxBad:     c.MaxBadMessages,
		dialDone:   make(chan dialResult, 1),
		wake:       wake,
		relay:      c.Endpoint != nil || c.Dial != nil,
		connecting: true,
	}
	cl.wakeUp = cl.signal
	ctx, cancel := context.WithCancel(context.Background())
	cl.ctx, cl.cancel = ctx, cancel
	opts := netcode.DialOptions{Fingerprint: t.Fingerprint, InsecureAcceptAnyServer: c.InsecureAcceptAnyServer}
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		// conn stays a nil interface on failure (never a nil *Conn in it).
		var conn netcode.Transport
		var err error
		switch {
		case c.Dial != nil:
			conn, err = c.Dial(ctx)
			if err == nil && conn == nil {
				err = errors.New("engine: ClientConfig.Dial returned no connection and no error")
			}
		case c.Endpoint != nil:
			var ap netip.AddrPort
			if ap, err = netip.ParseAddrPort(t.Addr); err == nil {
				var nconn *netcode.Conn
				if nconn, err = c.Endpoint.Dial(ctx, ap, opts); err == nil {
					conn = nconn
				}
			}
		default:
			var nconn *netcode.Conn
			if nconn, err = netcode.Dial(ctx, t.Addr, &nc, opts); err == nil {
				conn = nconn
			}
		}
		if err != nil {
			conn = nil
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

func (c *Client) syncUnsent() { c.unsent.Store(int64(c.queuedRel)) }

// Connected reports whether the secure connection is up.
func (c *Client) Connected() bool { return c.conn != nil && !c.disconnected }

// Stats returns the connection's statistics (zero before it is up).
func (c *Client) Stats() netcode.Stats {
	if c.conn == nil {
		return netcode.Stats{}
	}
	return c.conn.Stats()
}

// Conn returns the underlying connection (nil before it is up): a
// *netcode.Conn, or what ClientConfig.Dial made.
func (c *Client) Conn() netcode.Transport { return c.conn }

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
// when the client dials from the caller's endpoint (ClientConfig.Endpoint)
// or through another transport (ClientConfig.Dial); otherwise the
// endpoint signals the client's channel itself
// (netcode.Config.Notify).
func (c *Client) forwardWakes(ctx context.Context, conn netcode.Transport) {
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
	if c.connecting && !c.connectStep() {
		return
	}
	if c.disconnected {
		return
	}
	if len(c.queue) > 0 {
		if err := c.drainQueue(); err != nil {
			c.event("error", err)
		}
		c.syncUnsent()
	}
	defer c.armRetry()
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
	if err := c.expire(time.Now()); err != nil {
		c.event("error", err)
		c.conn.CloseWithReason(netcode.CodeApplication, "client handler failed")
	}
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

// connectStep takes the dial's result if it came, under mu so that Close
// either finds the connection or is seen here. It reports whether the
// client is connected or ended (false: still connecting).
func (c *Client) connectStep() bool {
	c.mu.Lock()
	var r dialResult
	select {
	case r = <-c.dialDone:
	default:
		c.mu.Unlock()
		return false
	}
	if testHookDialTaken != nil {
		testHookDialTaken()
	}
	c.connecting = false
	closed := c.userClosed.Load()
	switch {
	case closed && r.conn != nil:
		// Close ran while the dial finished: it must not stay open, and
		// Close returns only after this (it waits for mu).
		r.conn.Close()
	case r.err == nil:
		c.conn = r.conn
		if c.relay {
			c.wg.Add(1) // before Close's wg.Wait: Close stores userClosed, then takes mu, then waits
			go c.forwardWakes(c.ctx, r.conn)
		}
	}
	c.mu.Unlock()
	switch {
	case closed:
		c.end(closedBeforeConnecting())
	case r.err != nil:
		c.event("error", r.err)
		c.end(r.err)
	case c.userClosed.Load():
		// Close came just now: no "socketConnect" after it.
		c.end(closedBeforeConnecting())
	default:
		c.event("socketConnect", SocketConnect{Action: "socketConnect", Addr: c.target.Addr})
	}
	return true
}

// testHookDialTaken, when set by a test, runs in Pump's connect step
// right after the dial's result was taken (to race Close against it).
var testHookDialTaken func()

// armRetry wakes Pump soon if messages still wait for room in the
// transport's queue: acknowledgements free that room without waking
// anything.
func (c *Client) armRetry() {
	if len(c.queue) == 0 || c.disconnected {
		return
	}
	const d = 5 * time.Millisecond
	if c.retry == nil {
		c.retry = time.AfterFunc(d, c.signal)
		return
	}
	c.retry.Reset(d)
}

func closedBeforeConnecting() error {
	return fmt.Errorf("%w before connecting (%w)", ErrClosed, net.ErrClosed)
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

// end frees everything the client holds (the socket and its reader when
// the client dialed its own, the wake relay, the queue) and then delivers
// "disconnected", exactly once.
func (c *Client) end(reason error) {
	if c.disconnected {
		return
	}
	c.disconnected = true
	c.cancel()
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close() // ended already: this closes the socket the client dialed from
	}
	c.wg.Wait()
	if c.retry != nil {
		c.retry.Stop()
	}
	c.queue, c.queuedRel = nil, 0
	c.syncUnsent()
	if err := c.failRequests(reason); err != nil {
		c.event("error", err)
	}
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
				c.replyError(rid, RemoteNoHandler, ErrNoHandler.Error())
			}
			c.curRID, c.curPayload = 0, nil
			if err == nil && n == 0 && kind == kindMessage {
				if e := c.unhandled.report(c.codec, payload); e != nil {
					c.event("error", e)
				}
				return
			}
		}
	}
	if err == nil {
		return
	}
	c.event("error", err)
	var pe *PanicError
	if errors.As(err, &pe) {
		c.conn.CloseWithReason(netcode.CodeApplication, "client handler failed")
		return
	}
	c.badFrames++
	if c.badFrames >= c.maxBad {
		c.conn.CloseWithReason(netcode.CodeProtocolViolation, fmt.Sprintf("%d undecodable messages", c.badFrames))
	}
}

// Shutdown is the graceful close: it flushes what was sent and waits (at
// most until ctx ends) until the server acknowledged every reliable
// message, then closes; the server's "disconnected" reason carries
// reason. Before the connection is up it waits for it first (pumping). It
// blocks; call it from the Pump goroutine (Close is the one for other
// goroutines). If ctx ends first it closes anyway, as Close does, and
// returns ctx's error. Server.Shutdown and lobby.Session.Shutdown have the
// same contract.
func (c *Client) Shutdown(ctx context.Context, reason string) error {
	for c.connecting {
		c.PumpWait(ctx, 50*time.Millisecond)
		if err := ctx.Err(); err != nil {
			c.Close()
			return err
		}
	}
	// Messages still waiting for room in the transport's queue go first.
	for len(c.queue) > 0 && !c.disconnected && c.conn.Err() == nil {
		if err := c.drainQueue(); err != nil {
			c.event("error", err)
		}
		c.syncUnsent()
		if len(c.queue) == 0 {
			break
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			c.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
	if c.conn != nil && !c.disconnected {
		c.conn.Flush()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for c.conn.Err() == nil && c.conn.Stats().QueuedReliableBytes > 0 {
			select {
			case <-ctx.Done():
				c.Close()
				return ctx.Err()
			case <-tick.C:
				c.conn.Flush()
			}
		}
		c.conn.CloseWithReason(netcode.CodeNormal, reason)
	}
	return c.Close()
}

// Close ends the connection at once (the server is told) or stops
// connecting. It discards what was not yet delivered: messages still in
// the client's queue, and reliable messages the server has not
// acknowledged. The server then sees a close matching
// netcode.ErrUnsentData (code netcode.CodeUnsentData, with how much was
// dropped), not a normal close; Shutdown is the graceful way. When Close
// returns, the connection is closed, and a dial in progress was stopped
// (or its connection closed); the "disconnected" event is delivered by
// the next Pump if it was not yet, and a PumpWait in progress returns. It
// blocks only for that. Safe from any goroutine; idempotent.
func (c *Client) Close() error {
	c.userClosed.Store(true)
	defer c.signal() // a PumpWait in progress returns; the next Pump delivers "disconnected"
	c.cancel()
	// A connect step in progress finishes first (it holds mu); one that
	// starts later sees userClosed: it adds nothing to wg, assigns no
	// conn, and closes what the dial made. So conn is final here.
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	c.wg.Wait() // the dial goroutine and the wake relay end
	if conn == nil {
		// Pump has not taken the dial's result: close what it made.
		c.mu.Lock()
		defer c.mu.Unlock()
		select {
		case r := <-c.dialDone:
			if r.conn != nil {
				r.conn.Close()
				r = dialResult{err: closedBeforeConnecting()}
			}
			c.dialDone <- r
		default:
		}
		return nil
	}
	if n := c.unsent.Load(); n > 0 {
		return conn.CloseWithReason(netcode.CodeUnsentData, fmt.Sprintf("%d reliable messages never sent", n))
	}
	return conn.Close()
}
