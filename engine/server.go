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
	// conditioner). Its Channels and Application fields are ignored: the
	// engine opens one channel per delivery mode and names its codec
	// (ApplicationProtocol), so clients of another codec are closed at
	// connect.
	Net netcode.Config
	// Codec encodes messages. Default: codec.Default() (msgpack).
	Codec codec.Codec
	// MaxBadMessages closes the connection of a peer that sent this many messages
	// that could not be decoded. Default 16.
	MaxBadMessages int
	// SkipGreeting stops the server from sending PodSixNet's "connected"
	// greeting to each new peer (peer-to-peer sessions greet with their
	// own hello).
	SkipGreeting bool
	// Gate, when set, sees every message before it is dispatched (the
	// payload is the encoded message); false means it is not dispatched
	// (the gate may have handled it itself). The lobby uses it to admit a
	// peer only after its hello.
	Gate func(ch *Peer, payload []byte) bool
}

// Server accepts clients and gives each a Peer. Its methods must be
// called from one goroutine, the one that calls Pump (the game loop), except
// Close, CloseWithReason, Serve and Wake, which are safe from any goroutine.
type Server struct {
	ep     *netcode.Endpoint
	codec  codec.Codec
	maxBad int
	// unhandled: actions reported as having no handler (once each)
	unhandled unhandledLog
	handlers  *dispatch.Table[*Peer]
	onConn    func(*Peer)
	onDisc    func(*Peer, error)
	onAccept  func(Arrival) error // see OnAccept (admit.go)
	greet     bool
	gate      func(*Peer, []byte) bool
	session   *SessionHooks // NewSessionServer's: new peers wait for Admit
	wake      chan struct{} // capacity 1; the endpoint signals it (Notify) or a relay does
	stop      chan struct{}
	relay     sync.WaitGroup
	// incoming carries the connections other transports' listeners
	// accepted (Serve) to Pump; listeners are closed with the server.
	incoming  chan netcode.Transport
	listeners []netcode.TransportListener
	serveCtx  context.Context
	endServe  context.CancelFunc

	// mu lets Close run beside Pump: Pump (the only writer) changes
	// peers and reads closed under it; Close reads peers and sets
	// closed under it. Pump's goroutine reads peers without it.
	mu     sync.Mutex
	peers  []*Peer
	closed bool
	// sendStamp numbers Send calls (see Peer.sendStamp); fanout is
	// Send's reused copy of the frame it encodes once.
	sendStamp   uint64
	fanout      []byte
	closeReason string
}

// MaxDispatchPerPump bounds the messages one peer gets dispatched in one
// Server.Pump, and a Client in one Client.Pump, so that a flooding peer
// (or a hostile server) cannot hold the game loop: what is left waits for
// the next Pump (which Wake and PumpWait do not sleep through).
const MaxDispatchPerPump = 256

// Listen opens a server on addr ("host:port", ":31425"; port 0 picks one).
// The unspecified address (":31425", "[::]:31425") takes IPv4 and IPv6
// clients on one dual-stack socket; "[::1]:31425" listens on IPv6 loopback.
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
	nc.Application = ApplicationProtocol(c.Codec)
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
// channel layout and the application protocol of cfg.Codec: see
// EndpointConfig.
func NewServer(ep *netcode.Endpoint, cfg *ServerConfig) *Server {
	var c ServerConfig
	if cfg != nil {
		c = *cfg
	}
	return newServer(ep, c, nil)
}

// EndpointConfig returns cfg with the channel layout the engine needs, for
// endpoints made outside Listen and Connect, and, if cfg.Application is
// empty, the application protocol of the default codec
// (ApplicationProtocol(nil)); for another codec set cfg.Application to
// ApplicationProtocol(thatCodec) first.
func EndpointConfig(cfg netcode.Config) *netcode.Config {
	cfg.Channels = engineChannels
	if cfg.Application == "" {
		cfg.Application = ApplicationProtocol(nil)
	}
	return &cfg
}

func newServer(ep *netcode.Endpoint, c ServerConfig, wake chan struct{}) *Server {
	if c.Codec == nil {
		c.Codec = codec.Default()
	}
	if c.MaxBadMessages <= 0 {
		c.MaxBadMessages = 16
	}
	t := dispatch.New[*Peer](c.Codec)
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
		incoming: make(chan netcode.Transport, 64),
	}
	s.serveCtx, s.endServe = context.WithCancel(context.Background())
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

// OnConnect sets a function called (inside Pump) for each new peer,
// before any of its messages are dispatched: the place to set ch.Value.
func (s *Server) OnConnect(f func(ch *Peer)) { s.onConn = f }

// OnDisconnect sets a function called (inside Pump) once per peer after
// it closed, for any reason, with that reason.
func (s *Server) OnDisconnect(f func(ch *Peer, reason error)) { s.onDisc = f }

// Register adds a listener: obj's methods named Network_<action> (and the
// catch-all Network), with a *Peer first parameter and the message
// second (a Msg, or a struct decoded straight into). Mistakes in a method's
// signature are reported here.
func (s *Server) Register(obj any) error { return s.handlers.Register(obj) }

// Handle adds a handler for one action ("" for every action). fn takes
// (*Peer, Msg) or (*Peer, T) for a struct type T.
func (s *Server) Handle(action string, fn any) error { return s.handlers.Handle(action, fn) }

// Peers returns the open peers, oldest first (on a NewSessionServer, the
// admitted ones). The slice is a copy.
func (s *Server) Peers() []*Peer {
	out := make([]*Peer, 0, len(s.peers))
	for _, p := range s.peers {
		if !p.gone && !p.pending {
			out = append(out, p)
		}
	}
	return out
}

// Wake returns a channel that receives a value whenever there is something
// for Pump to do. Safe from any goroutine.
func (s *Server) Wake() <-chan struct{} { return s.wake }

// Pump accepts new clients, runs every handler for what arrived since the
// last call (on the caller's goroutine), fires request timeouts, prunes
// closed peers, and flushes what handlers sent: one packed datagram per
// client per frame. It never blocks.
//
// After Close, Pump still delivers each peer's "disconnected" event (and
// OnDisconnect), so a game sees every player leave.
func (s *Server) Pump() {
	for !s.isClosed() {
		c, ok := s.ep.TryAccept()
		if !ok {
			break
		}
		if s.admit(c) {
			s.accept(c)
		}
	}
	for !s.isClosed() {
		if !s.acceptServed() {
			break
		}
	}
	now := time.Now()
	more := false
	for _, p := range s.peers {
		if p.pump(now) {
			more = true
		}
	}
	if more {
		s.signal() // the next Pump continues; Wake and PumpWait must not sleep
	}
	s.mu.Lock()
	live := s.peers[:0]
	for _, p := range s.peers {
		if !p.gone {
			live = append(live, p)
		}
	}
	clear(s.peers[len(live):])
	s.peers = live
	s.mu.Unlock()
	s.Flush()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Flush sends what handlers and the game queued for every peer now,
// without waiting for the next Pump (Pump flushes at its end anyway): the
// native peers' packets in a few batched socket calls (netcode's
// Endpoint.FlushAll), other transports' peers each. It never blocks.
func (s *Server) Flush() {
	s.ep.FlushAll()
	for _, p := range s.peers {
		if _, native := p.conn.(*netcode.Conn); !native {
			p.conn.Flush()
		}
	}
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

// Serve takes the connections that another transport's listener accepts
// — a webrtc.Server, for players in browsers — into this server beside
// its native clients: each becomes a Peer like any other, with the same
// handlers, events, Send, requests, Stats and per-Pump budgets
// (MaxDispatchPerPump), and the Gate and OnConnect hooks. Its
// connections must use the engine's channel layout (for WebRTC:
// webrtc.EngineConfig). It returns at once; the server owns l from then
// on and closes it when the server closes. Safe from any goroutine; after
// Close it closes l and returns an error matching ErrClosed.
func (s *Server) Serve(l netcode.TransportListener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return errClosed("serve")
	}
	s.listeners = append(s.listeners, l)
	s.relay.Add(1)
	s.mu.Unlock()
	go s.serve(l)
	return nil
}

// serve hands what l accepts to Pump, and relays each connection's
// wake-ups, until the server closes.
func (s *Server) serve(l netcode.TransportListener) {
	defer s.relay.Done()
	for {
		c, err := l.AcceptTransport(s.serveCtx)
		if err != nil {
			return // the server (or l) closed
		}
		select {
		case s.incoming <- c:
		case <-s.stop:
			c.CloseWithReason(netcode.CodeEndpointClosed, "server closed")
			return
		}
		s.signal()
		s.relay.Add(1)
		go func() {
			defer s.relay.Done()
			for {
				select {
				case <-c.Wake():
					s.signal()
				case <-c.Done():
					s.signal()
					return
				case <-s.stop:
					return
				}
			}
		}()
	}
}

// acceptServed takes one connection a listener handed over, if any.
func (s *Server) acceptServed() bool {
	select {
	case c := <-s.incoming:
		if s.admit(c) {
			s.accept(c)
		}
		return true
	default:
		return false
	}
}

// Adopt makes an established connection one of the server's peers,
// as if it had been accepted: OnConnect and the "connected" event follow.
// Peer-to-peer sessions use it for the connections their endpoint dialed.
// The connection must use the engine's channel layout (EndpointConfig).
func (s *Server) Adopt(c netcode.Transport) *Peer { return s.accept(c) }

func (s *Server) accept(c netcode.Transport) *Peer {
	ch := &Peer{server: s, link: newLink(s.codec, 0)}
	ch.wakeUp = s.signal
	ch.conn = c
	s.mu.Lock()
	s.peers = append(s.peers, ch)
	closed, reason := s.closed, s.closeReason
	s.mu.Unlock()
	if closed {
		// Close ran on another goroutine: this peer closes too.
		c.CloseWithReason(netcode.CodeNormal, reason)
	}
	if s.greet {
		// PodSixNet: the server greets every new connection.
		_ = ch.Send(Msg{"action": "connected"})
	}
	if s.session != nil {
		s.pend(ch) // OnConnect and "connected" wait for Admit
		return ch
	}
	_ = s.connected(ch)
	return ch
}

// connected runs OnConnect and the "connected" event for a new (or newly
// admitted) peer; a panic in either closes the peer and is returned.
func (s *Server) connected(p *Peer) error {
	if s.onConn != nil {
		if err := recoverHook("connected", "OnConnect", func() { s.onConn(p) }); err != nil {
			p.fail(err) // no "connected" event: "disconnected" follows
			return err
		}
	}
	if _, err := s.handlers.Event(p, "connected", Connected{Action: "connected", Addr: p.conn.RemoteAddr().String(),
		Fingerprint: p.conn.PeerFingerprint().String()}); err != nil {
		p.fail(err)
		return err
	}
	return nil
}

// Close closes every peer at once (each client is told, with the
// reason "server closed") and the endpoint. Like Peer.Close it discards
// what was not yet delivered: a client whose reliable messages were not
// all acknowledged sees a close matching netcode.ErrUnsentData; Shutdown
// is the graceful way. The next Pump delivers the peers'
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
	var chs []*Peer
	if first {
		s.closed, s.closeReason = true, reason
		chs = append(chs, s.peers...)
	}
	s.mu.Unlock()
	var ls []netcode.TransportListener
	if first {
		for _, p := range chs {
			p.conn.CloseWithReason(netcode.CodeNormal, reason)
		}
		close(s.stop)
		s.endServe()
		s.mu.Lock()
		ls = s.listeners
		s.mu.Unlock()
	}
	err := s.ep.Close()
	for _, l := range ls {
		if lerr := l.Close(); lerr != nil && err == nil {
			err = lerr
		}
	}
	s.relay.Wait()
	// Connections handed over but never pumped in close too.
	for {
		select {
		case c := <-s.incoming:
			c.CloseWithReason(netcode.CodeNormal, reason)
			continue
		default:
		}
		break
	}
	s.signal() // a Pump delivers the disconnects
	return err
}

// Shutdown is the graceful close: it waits (at most until ctx ends) until
// every peer's reliable messages were acknowledged, then closes like
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

// acknowledged reports whether every open peer's reliable messages
// were acknowledged.
func (s *Server) acknowledged() bool {
	for _, p := range s.peers {
		if p.conn.Err() == nil && p.conn.Stats().QueuedReliableBytes > 0 {
			return false
		}
	}
	return true
}

// Peer is the server's side of one client. Value holds the game's state
// for that client. Its methods must be called from the goroutine that calls
// the server's Pump.
type Peer struct {
	// Value is for the game: the player behind this peer.
	Value any
	// Name is a display name for the peer: the lobby sets it from the
	// peer's hello; servers may set it (a chat nickname, say).
	Name string

	server *Server
	link
	gone         bool // disconnected delivered; pruned from the server
	disconnected bool
	sendStamp    uint64 // the server's Send that last served or excluded it
	pending      bool   // a NewSessionServer's peer not yet admitted
}

// Addr returns the client's address.
func (p *Peer) Addr() netip.AddrPort { return p.conn.RemoteAddr() }

// Fingerprint returns the client's identity (its key fingerprint).
func (p *Peer) Fingerprint() netcode.Fingerprint { return p.conn.PeerFingerprint() }

// Stats returns the connection's statistics (RTT, loss, bandwidth).
func (p *Peer) Stats() netcode.Stats { return p.conn.Stats() }

// Conn returns the underlying connection: a *netcode.Conn for a native
// client, a *webrtc.Conn for a browser (see Server.Serve).
func (p *Peer) Conn() netcode.Transport { return p.conn }

// Close closes the peer at once; the client is told. It discards what
// was not yet delivered: if reliable messages were not all acknowledged
// the client sees a close matching netcode.ErrUnsentData, not a normal
// one (Shutdown the server, or wait for Stats().QueuedReliableBytes to be
// 0, to close gracefully). Its "disconnected" event follows in the next
// Pump.
func (p *Peer) Close() error { return p.conn.Close() }

// pump dispatches up to MaxDispatchPerPump messages that arrived on the
// peer and reports whether more wait. Once the connection ended and
// everything before the end was dispatched, it delivers "disconnected"
// exactly once.
func (p *Peer) pump(now time.Time) bool {
	if p.disconnected {
		return false
	}
	defer func() {
		if err := p.expire(now); err != nil {
			p.fail(err)
		}
	}()
	for range MaxDispatchPerPump {
		m, ok := p.conn.Receive()
		if !ok {
			if p.conn.Err() == nil {
				return false
			}
			// Ended: a message may have arrived just before the end.
			if m, ok = p.conn.Receive(); !ok {
				p.end()
				return false
			}
		}
		p.handle(m.Data)
		if p.disconnected {
			return false
		}
	}
	return true
}

// end delivers "disconnected" (and OnDisconnect) exactly once.
func (p *Peer) end() {
	s := p.server
	p.disconnected = true
	p.gone = true
	reason := p.conn.Err()
	if err := p.failRequests(reason); err != nil {
		s.handlers.Event(p, "error", err)
	}
	if s.session != nil && s.sessionEnd(p, reason) {
		return // never admitted: the game never saw it
	}
	if s.onDisc != nil {
		if err := recoverHook("disconnected", "OnDisconnect", func() { s.onDisc(p, reason) }); err != nil {
			s.handlers.Event(p, "error", err)
		}
	}
	if _, err := s.handlers.Event(p, "disconnected", Disconnected{Action: "disconnected", Reason: reasonText(reason), Err: reason}); err != nil {
		s.handlers.Event(p, "error", err)
	}
}

// handle dispatches one engine frame from the client.
func (p *Peer) handle(b []byte) {
	s := p.server
	kind, rid, payload, err := parseFrame(b)
	if err == nil {
		switch kind {
		case kindReply, kindReplyError:
			err = p.handleReply(kind, rid, payload)
		default:
			if s.gate != nil {
				pass := false
				if err = recoverHook("", "Gate", func() { pass = s.gate(p, payload) }); err != nil {
					err.(*PanicError).Action, _ = s.codec.Action(payload)
					break
				}
				if !pass {
					return
				}
			}
			p.curRID, p.curPayload = rid, payload
			var n int
			n, err = s.handlers.Dispatch(p, payload)
			if err == nil && n == 0 && kind == kindRequest {
				p.replyError(rid, RemoteNoHandler, ErrNoHandler.Error())
			}
			p.curRID, p.curPayload = 0, nil
			if err == nil && n == 0 && kind == kindMessage {
				if e := s.unhandled.report(s.codec, payload); e != nil {
					s.handlers.Event(p, "error", e)
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
		// A panicking handler closes only this peer.
		s.handlers.Event(p, "error", err)
		p.conn.CloseWithReason(netcode.CodeApplication, "server handler failed")
		return
	}
	p.badFrames++
	s.handlers.Event(p, "error", err)
	if p.badFrames >= s.maxBad {
		p.conn.CloseWithReason(netcode.CodeProtocolViolation, fmt.Sprintf("%d undecodable messages", p.badFrames))
	}
}

// fail reports err (a panic in game code) and closes only this peer.
func (p *Peer) fail(err error) {
	p.server.handlers.Event(p, "error", err)
	p.conn.CloseWithReason(netcode.CodeApplication, "server handler failed")
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
