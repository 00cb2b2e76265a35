package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine/internal/dispatch"
	"github.com/pumpnet/pumpnet/netcode"
)

// ServerConfig configures a Server. The zero value works.
type ServerConfig struct {
	// Net configures the transport (identity, limits, timeouts, link
	// conditioner). Its Channels field is ignored: the engine opens one
	// channel per delivery mode.
	Net netcode.Config
	// Codec encodes messages. Default: codec.Default() (msgpack).
	Codec codec.Codec
	// MaxBadMessages closes a channel whose peer sent this many messages
	// that could not be decoded. Default 16.
	MaxBadMessages int
	// SkipGreeting stops the server from sending PodSixNet's "connected"
	// greeting to each new channel (peer-to-peer sessions greet with their
	// own hello).
	SkipGreeting bool
	// Gate, when set, sees every message before it is dispatched (the
	// payload is the encoded message); false means it is not dispatched
	// (the gate may have handled it itself). The lobby uses it to admit a
	// peer only after its hello.
	Gate func(ch *Channel, payload []byte) bool
}

// Server accepts clients and gives each a Channel. Its methods must be
// called from one goroutine, the one that calls Pump (the game loop), except
// Close, CloseWithReason and Wake, which are safe from any goroutine.
type Server struct {
	ep     *netcode.Endpoint
	codec  codec.Codec
	maxBad int
	// unhandled: actions reported as having no handler (once each)
	unhandled unhandledLog
	handlers  *dispatch.Table[*Channel]
	onConn    func(*Channel)
	onDisc    func(*Channel, error)
	greet     bool
	gate      func(*Channel, []byte) bool
	wake      chan struct{} // capacity 1; the endpoint signals it (Notify) or a relay does
	stop      chan struct{}
	relay     sync.WaitGroup

	// mu lets Close run beside Pump: Pump (the only writer) changes
	// channels and reads closed under it; Close reads channels and sets
	// closed under it. Pump's goroutine reads channels without it.
	mu          sync.Mutex
	channels    []*Channel
	closed      bool
	closeReason string
}

// MaxDispatchPerPump bounds the messages one channel gets dispatched in one
// Server.Pump, and a Client in one Client.Pump, so that a flooding peer
// (or a hostile server) cannot hold the game loop: what is left waits for
// the next Pump (which Wake and PumpWait do not sleep through).
const MaxDispatchPerPump = 256

// Listen opens a server on addr ("host:port", ":31425"; port 0 picks one).
func Listen(addr string, cfg *ServerConfig) (*Server, error) {
	var c ServerConfig
	if cfg != nil {
		c = *cfg
	}
	if err := listenAddrError(addr); err != nil {
		return nil, err
	}
	nc := c.Net
	nc.Channels = engineChannels
	wake := make(chan struct{}, 1)
	nc.Notify = wake
	ep, err := netcode.Listen(addr, &nc)
	if err != nil {
		return nil, listenError(addr, err)
	}
	return newServer(ep, c, wake), nil
}

// NewServer runs a server on an existing accepting endpoint (e.g. one the
// lobby made). The endpoint must have been created with the engine's
// channel layout: see EndpointConfig.
func NewServer(ep *netcode.Endpoint, cfg *ServerConfig) *Server {
	var c ServerConfig
	if cfg != nil {
		c = *cfg
	}
	return newServer(ep, c, nil)
}

// EndpointConfig returns cfg with the channel layout the engine needs, for
// endpoints made outside Listen and Connect.
func EndpointConfig(cfg netcode.Config) *netcode.Config {
	cfg.Channels = engineChannels
	return &cfg
}

func newServer(ep *netcode.Endpoint, c ServerConfig, wake chan struct{}) *Server {
	if c.Codec == nil {
		c.Codec = codec.Default()
	}
	if c.MaxBadMessages <= 0 {
		c.MaxBadMessages = 16
	}
	t := dispatch.New[*Channel](c.Codec)
	t.Reserve(localEvents...)
	s := &Server{
		ep:       ep,
		codec:    c.Codec,
		maxBad:   c.MaxBadMessages,
		handlers: t,
		greet:    !c.SkipGreeting,
		gate:     c.Gate,
		wake:     wake,
		stop:     make(chan struct{}),
	}
	if s.wake == nil {
		// The endpoint is the caller's: relay its wake-ups.
		s.wake = make(chan struct{}, 1)
		s.relay.Add(1)
		go func() {
			defer s.relay.Done()
			for {
				select {
				case <-ep.Wake():
					s.signal()
				case <-s.stop:
					return
				}
			}
		}()
	}
	return s
}

func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Endpoint returns the server's transport endpoint.
func (s *Server) Endpoint() *netcode.Endpoint { return s.ep }

// Addr returns the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.ep.AddrPort() }

// Fingerprint returns the server's identity, which clients pin.
func (s *Server) Fingerprint() netcode.Fingerprint { return s.ep.Fingerprint() }

// ConnectString returns what a client passes to Connect to reach and verify
// this server: "dtls://host:port#fingerprint". An unspecified listen address
// is replaced by this machine's first non-loopback IPv4 address (or
// 127.0.0.1).
func (s *Server) ConnectString() string {
	ap := s.Addr()
	if ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(lanAddr(), ap.Port())
	}
	return FormatTarget(ap, s.Fingerprint())
}

func lanAddr() netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
					return ip.Unmap()
				}
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// OnConnect sets a function called (inside Pump) for each new channel,
// before any of its messages are dispatched: the place to set ch.Value.
func (s *Server) OnConnect(f func(ch *Channel)) { s.onConn = f }

// OnDisconnect sets a function called (inside Pump) once per channel after
// it closed, for any reason, with that reason.
func (s *Server) OnDisconnect(f func(ch *Channel, reason error)) { s.onDisc = f }

// Register adds a listener: obj's methods named Network_<action> (and the
// catch-all Network), with a *Channel first parameter and the message
// second (a Msg, or a struct decoded straight into). Mistakes in a method's
// signature are reported here.
func (s *Server) Register(obj any) error { return s.handlers.Register(obj) }

// Handle adds a handler for one action ("" for every action). fn takes
// (*Channel, Msg) or (*Channel, T) for a struct type T.
func (s *Server) Handle(action string, fn any) error { return s.handlers.Handle(action, fn) }

// Channels returns the open channels, oldest first. The slice is a copy.
func (s *Server) Channels() []*Channel {
	out := make([]*Channel, 0, len(s.channels))
	for _, ch := range s.channels {
		if !ch.gone {
			out = append(out, ch)
		}
	}
	return out
}

// SendAll sends msg to every open channel. It returns the first error
// (every channel is still tried).
func (s *Server) SendAll(msg any, mode ...Mode) error {
	return s.SendTo(s.channels, msg, mode...)
}

// SendTo sends msg to each channel of a list (Multipeer's to_peer). It
// encodes once and returns the first error (every channel is still tried).
// Channels whose connection already ended are skipped: their
// "disconnected" event comes with the next Pump.
func (s *Server) SendTo(chs []*Channel, msg any, mode ...Mode) error {
	var first error
	var frame []byte
	for _, ch := range chs {
		if ch.gone || ch.conn.Err() != nil {
			continue
		}
		if frame == nil {
			b, err := ch.frame(kindMessage, 0, msg)
			if err != nil {
				return err
			}
			frame = append([]byte(nil), b...)
		}
		if err := ch.sendFrame(frame, mode); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Wake returns a channel that receives a value whenever there is something
// for Pump to do. Safe from any goroutine.
func (s *Server) Wake() <-chan struct{} { return s.wake }

// Pump accepts new clients, runs every handler for what arrived since the
// last call (on the caller's goroutine), fires request timeouts, prunes
// closed channels, and flushes what handlers sent: one packed datagram per
// client per frame. It never blocks.
//
// After Close, Pump still delivers each channel's "disconnected" event (and
// OnDisconnect), so a game sees every player leave.
func (s *Server) Pump() {
	for !s.isClosed() {
		c, ok := s.ep.TryAccept()
		if !ok {
			break
		}
		s.accept(c)
	}
	now := time.Now()
	more := false
	for _, ch := range s.channels {
		if ch.pump(now) {
			more = true
		}
	}
	if more {
		s.signal() // the next Pump continues; Wake and PumpWait must not sleep
	}
	s.mu.Lock()
	live := s.channels[:0]
	for _, ch := range s.channels {
		if !ch.gone {
			live = append(live, ch)
		}
	}
	clear(s.channels[len(live):])
	s.channels = live
	s.mu.Unlock()
	s.Flush()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Flush sends what handlers and the game queued for every channel now,
// without waiting for the next Pump (Pump flushes at its end anyway), all
// in a few batched socket calls (netcode's Endpoint.FlushAll). It never
// blocks.
func (s *Server) Flush() {
	s.ep.FlushAll()
}

// PumpWait sleeps until there is traffic, ctx ends or timeout passes
// (timeout <= 0: no limit), then Pumps. Servers that have nothing to do
// between messages use it instead of spinning.
func (s *Server) PumpWait(ctx context.Context, timeout time.Duration) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-s.wake:
	case <-ctx.Done():
	case <-tc:
	}
	s.Pump()
}

// Adopt makes an established connection one of the server's channels,
// as if it had been accepted: OnConnect and the "connected" event follow.
// Peer-to-peer sessions use it for the connections their endpoint dialed.
// The connection must use the engine's channel layout (EndpointConfig).
func (s *Server) Adopt(c *netcode.Conn) *Channel { return s.accept(c) }

func (s *Server) accept(c *netcode.Conn) *Channel {
	ch := &Channel{server: s, peer: newPeer(s.codec, 0)}
	ch.conn = c
	s.mu.Lock()
	s.channels = append(s.channels, ch)
	closed, reason := s.closed, s.closeReason
	s.mu.Unlock()
	if closed {
		// Close ran on another goroutine: this channel closes too.
		c.CloseWithReason(netcode.CodeNormal, reason)
	}
	if s.greet {
		// PodSixNet: the server greets every new connection.
		_ = ch.Send(Msg{"action": "connected"})
	}
	if s.onConn != nil {
		if err := recoverHook("connected", "OnConnect", func() { s.onConn(ch) }); err != nil {
			ch.fail(err) // no "connected" event: "disconnected" follows
			return ch
		}
	}
	if _, err := s.handlers.Event(ch, "connected", Connected{Action: "connected", Addr: c.RemoteAddr().String(),
		Fingerprint: c.PeerFingerprint().String()}); err != nil {
		ch.fail(err)
	}
	return ch
}

// Close closes every channel at once (each client is told, with the
// reason "server closed") and the endpoint. Like Channel.Close it discards
// what was not yet delivered: a client whose reliable messages were not
// all acknowledged sees a close matching netcode.ErrUnsentData; Shutdown
// is the graceful way. The next Pump delivers the channels'
// "disconnected" events. It blocks until the socket is closed. Safe from
// any goroutine, also while Pump runs; idempotent.
func (s *Server) Close() error {
	return s.CloseWithReason("server closed")
}

// CloseWithReason is Close with a reason every client sees. Safe from any
// goroutine; idempotent (the first reason counts).
func (s *Server) CloseWithReason(reason string) error {
	s.mu.Lock()
	first := !s.closed
	var chs []*Channel
	if first {
		s.closed, s.closeReason = true, reason
		chs = append(chs, s.channels...)
	}
	s.mu.Unlock()
	if first {
		for _, ch := range chs {
			ch.conn.CloseWithReason(netcode.CodeNormal, reason)
		}
		close(s.stop)
	}
	err := s.ep.Close()
	s.relay.Wait()
	s.signal() // a Pump delivers the disconnects
	return err
}

// Shutdown is the graceful close: it waits (at most until ctx ends) until
// every channel's reliable messages were acknowledged, then closes like
// CloseWithReason. It blocks; call it from the Pump goroutine.
func (s *Server) Shutdown(ctx context.Context, reason string) error {
	s.Flush()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var first error
	for first == nil && !s.acknowledged() {
		select {
		case <-ctx.Done():
			first = ctx.Err()
		case <-tick.C:
			s.Flush()
		}
	}
	// Each client sees the reason (netcode's own Shutdown would close
	// without it).
	if err := s.CloseWithReason(reason); err != nil && first == nil {
		first = err
	}
	return first
}

// acknowledged reports whether every open channel's reliable messages
// were acknowledged.
func (s *Server) acknowledged() bool {
	for _, ch := range s.channels {
		if ch.conn.Err() == nil && ch.conn.Stats().QueuedReliableBytes > 0 {
			return false
		}
	}
	return true
}

// Channel is the server's side of one client. Value holds the game's state
// for that client. Its methods must be called from the goroutine that calls
// the server's Pump.
type Channel struct {
	// Value is for the game: the player behind this channel.
	Value any
	// Name is a display name for the peer: the lobby sets it from the
	// peer's hello; servers may set it (a chat nickname, say).
	Name string

	server *Server
	peer
	gone         bool // disconnected delivered; pruned from the server
	disconnected bool
}

// Send queues msg (a Msg or a struct with an Action field) for this client;
// the server's Pump flushes it. mode picks the delivery mode (default
// ReliableOrdered).
func (ch *Channel) Send(msg any, mode ...Mode) error {
	if ch.disconnected {
		return errClosed("send")
	}
	return ch.send(msg, mode)
}

// Request sends msg as a request; cb runs inside Pump, exactly once, with
// the reply or with an error: ErrRequestTimeout; a *RemoteError matching
// ErrRemote and, by its code, ErrNoHandler (the peer has no handler),
// ErrRequestTimeout or ErrClosed (a request the peer forwarded failed so);
// or, when the connection ends first, an error matching ErrClosed. A panic
// in cb is recovered like a handler's. It does not block.
func (ch *Channel) Request(msg any, timeout time.Duration, cb func(reply Msg, err error), mode ...Mode) error {
	if ch.disconnected {
		return errClosed("request")
	}
	return ch.request(msg, timeout, cb, mode)
}

// Reply answers the request being handled right now.
func (ch *Channel) Reply(msg any, mode ...Mode) error {
	return ch.replyTo(RequestID(ch.curRID), msg, mode)
}

// RequestID returns the request being handled right now (0 if the message
// being handled is not a request), to answer it later with ReplyTo.
func (ch *Channel) RequestID() RequestID { return RequestID(ch.curRID) }

// ReplyTo answers a request whose ID was kept from RequestID.
func (ch *Channel) ReplyTo(id RequestID, msg any, mode ...Mode) error {
	return ch.replyTo(id, msg, mode)
}

// Forward passes the request being handled to another channel (p2py's
// bounce); that channel's reply goes back to this channel's requester, and
// so does its failure, with its code: the requester's error matches
// ErrRemote and ErrNoHandler, ErrRequestTimeout or ErrClosed as the
// forwarded request failed (see RemoteError).
func (ch *Channel) Forward(to *Channel, timeout time.Duration) error {
	rid := ch.curRID
	if rid == 0 {
		return ErrNotARequest
	}
	var m Msg
	if err := ch.codec.Decode(ch.curPayload, &m); err != nil {
		return err
	}
	return to.Request(m, timeout, func(reply Msg, err error) {
		if err != nil {
			code, text := remoteErrorOf(err)
			ch.replyError(rid, code, text)
			return
		}
		_ = ch.ReplyTo(RequestID(rid), reply)
	})
}

// Addr returns the client's address.
func (ch *Channel) Addr() netip.AddrPort { return ch.conn.RemoteAddr() }

// Fingerprint returns the client's identity (its key fingerprint).
func (ch *Channel) Fingerprint() netcode.Fingerprint { return ch.conn.PeerFingerprint() }

// Stats returns the connection's statistics (RTT, loss, bandwidth).
func (ch *Channel) Stats() netcode.Stats { return ch.conn.Stats() }

// Conn returns the underlying connection.
func (ch *Channel) Conn() *netcode.Conn { return ch.conn }

// Close closes the channel at once; the client is told. It discards what
// was not yet delivered: if reliable messages were not all acknowledged
// the client sees a close matching netcode.ErrUnsentData, not a normal
// one (Shutdown the server, or wait for Stats().QueuedReliableBytes to be
// 0, to close gracefully). Its "disconnected" event follows in the next
// Pump.
func (ch *Channel) Close() error { return ch.conn.Close() }

// pump dispatches up to MaxDispatchPerPump messages that arrived on the
// channel and reports whether more wait. Once the connection ended and
// everything before the end was dispatched, it delivers "disconnected"
// exactly once.
func (ch *Channel) pump(now time.Time) bool {
	if ch.disconnected {
		return false
	}
	defer func() {
		if err := ch.expire(now); err != nil {
			ch.fail(err)
		}
	}()
	for range MaxDispatchPerPump {
		m, ok := ch.conn.Receive()
		if !ok {
			if ch.conn.Err() == nil {
				return false
			}
			// Ended: a message may have arrived just before the end.
			if m, ok = ch.conn.Receive(); !ok {
				ch.end()
				return false
			}
		}
		ch.handle(m.Data)
		if ch.disconnected {
			return false
		}
	}
	return true
}

// end delivers "disconnected" (and OnDisconnect) exactly once.
func (ch *Channel) end() {
	s := ch.server
	ch.disconnected = true
	ch.gone = true
	reason := ch.conn.Err()
	if err := ch.failRequests(reason); err != nil {
		s.handlers.Event(ch, "error", err)
	}
	if s.onDisc != nil {
		if err := recoverHook("disconnected", "OnDisconnect", func() { s.onDisc(ch, reason) }); err != nil {
			s.handlers.Event(ch, "error", err)
		}
	}
	if _, err := s.handlers.Event(ch, "disconnected", Disconnected{Action: "disconnected", Reason: reasonText(reason), Err: reason}); err != nil {
		s.handlers.Event(ch, "error", err)
	}
}

// handle dispatches one engine frame from the client.
func (ch *Channel) handle(b []byte) {
	s := ch.server
	kind, rid, payload, err := parseFrame(b)
	if err == nil {
		switch kind {
		case kindReply, kindReplyError:
			err = ch.handleReply(kind, rid, payload)
		default:
			if s.gate != nil {
				pass := false
				if err = recoverHook("", "Gate", func() { pass = s.gate(ch, payload) }); err != nil {
					err.(*PanicError).Action, _ = s.codec.Action(payload)
					break
				}
				if !pass {
					return
				}
			}
			ch.curRID, ch.curPayload = rid, payload
			var n int
			n, err = s.handlers.Dispatch(ch, payload)
			if err == nil && n == 0 && kind == kindRequest {
				ch.replyError(rid, RemoteNoHandler, ErrNoHandler.Error())
			}
			ch.curRID, ch.curPayload = 0, nil
			if err == nil && n == 0 && kind == kindMessage {
				if e := s.unhandled.report(s.codec, payload); e != nil {
					s.handlers.Event(ch, "error", e)
				}
				return
			}
		}
	}
	if err == nil {
		return
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		// A panicking handler closes only this channel.
		s.handlers.Event(ch, "error", err)
		ch.conn.CloseWithReason(netcode.CodeApplication, "server handler failed")
		return
	}
	ch.badFrames++
	s.handlers.Event(ch, "error", err)
	if ch.badFrames >= s.maxBad {
		ch.conn.CloseWithReason(netcode.CodeProtocolViolation, fmt.Sprintf("%d undecodable messages", ch.badFrames))
	}
}

// fail reports err (a panic in game code) and closes only this channel.
func (ch *Channel) fail(err error) {
	ch.server.handlers.Event(ch, "error", err)
	ch.conn.CloseWithReason(netcode.CodeApplication, "server handler failed")
}

func reasonText(err error) string {
	var ce *netcode.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return ce.Reason
		}
		return ce.Code.String()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
