package netcode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
	"github.com/pumpnet/pumpnet/netcode/internal/protect"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// PacketConn is the datagram socket an Endpoint runs on. *net.UDPConn
// satisfies it; tests use an in-memory network. Its methods must be safe
// for concurrent use, and Close must unblock a pending read with an error
// matching net.ErrClosed.
type PacketConn interface {
	ReadFromUDPAddrPort(b []byte) (n int, addr netip.AddrPort, err error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	LocalAddr() net.Addr
	Close() error
}

// DialOptions says how to verify the server being dialed. Exactly one way
// must be chosen: a pinned Fingerprint, CA verification (Config.RootCAs
// with ServerName), PSK mode (Config.PSK), or the explicit
// InsecureAcceptAnyServer.
type DialOptions struct {
	// Fingerprint pins the server's key (the usual mode: connect strings
	// and lobby records carry it).
	Fingerprint Fingerprint
	// ServerName is checked against the server's CA-verified certificate
	// when Config.RootCAs is set.
	ServerName string
	// InsecureAcceptAnyServer accepts whatever key the server presents.
	// The traffic is still encrypted, but anyone on the path can pose as
	// the server. For development only.
	InsecureAcceptAnyServer bool
}

// EndpointStats counts what an endpoint dropped and why, and its
// handshakes. Drops that belong to a connection are in Stats.
type EndpointStats struct {
	DatagramsIn          uint64
	DropUnknown          uint64 // first byte of no known class, or empty
	DropNoConn           uint64 // protected packet for an unknown connection ID
	DropBadCookie        uint64 // COOKIE_DTLS with a missing, expired or forged cookie
	DropStrayDTLS        uint64 // bare DTLS from an address with no handshake
	DropHandshakeLimit   uint64 // MaxHandshakes in flight
	DropAddrLimit        uint64 // per-address attempt limit
	DropHandshakeBacklog uint64 // a handshake's inbox was full
	EarlyQueued          uint64 // protected packets kept until their handshake installed keys
	AmplificationDrops   uint64 // writes held back by the 3x limit
	CookiesSent          uint64
	HandshakesStarted    uint64
	HandshakesFailed     uint64
	HandshakesDone       uint64
	HandshakesInFlight   int
	Connections          int
}

type endpointCounters struct {
	DatagramsIn, DropUnknown, DropNoConn, DropBadCookie, DropStrayDTLS,
	DropHandshakeLimit, DropAddrLimit, DropHandshakeBacklog, EarlyQueued, AmplificationDrops,
	CookiesSent, HandshakesStarted, HandshakesFailed, HandshakesDone atomic.Uint64
}

// Endpoint is one UDP socket that dials and (when created by Listen or
// ListenPacket) accepts connections. All methods are safe for concurrent
// use. Dial and Accept block; nothing else does.
type Endpoint struct {
	cfg       *config
	pc        PacketConn
	accepting bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  endpointCounters

	minter *cookieMinter // reader goroutine only

	mu         sync.Mutex
	closed     bool
	conns      map[wire.ConnID]*Conn
	handshakes map[netip.AddrPort]*handshake
	dials      map[netip.AddrPort]chan cookie
	attempts   map[netip.AddrPort]*attemptLog
	lastPrune  time.Time

	acceptQ chan *Conn
	wake    chan struct{}
}

// attemptLog remembers when an address started handshakes (last minute).
type attemptLog struct {
	times []time.Time
}

// Listen opens a UDP socket on addr ("host:port"; ":0" picks a port) and
// returns an endpoint that accepts connections and can also dial.
func Listen(addr string, cfg *Config) (*Endpoint, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("netcode: listen %q: %w", addr, err)
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("netcode: listen %q: %w", addr, err)
	}
	e, err := newEndpoint(uc, cfg, true)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return e, nil
}

// ListenPacket returns an accepting endpoint on an existing socket, which
// it owns from then on (Close closes it).
func ListenPacket(pc PacketConn, cfg *Config) (*Endpoint, error) {
	return newEndpoint(pc, cfg, true)
}

// NewEndpoint returns an endpoint on an existing socket that dials but does
// not accept connections. It owns the socket from then on.
func NewEndpoint(pc PacketConn, cfg *Config) (*Endpoint, error) {
	return newEndpoint(pc, cfg, false)
}

func newEndpoint(pc PacketConn, c *Config, accepting bool) (*Endpoint, error) {
	cfg, err := c.resolve()
	if err != nil {
		return nil, err
	}
	if cfg.Link != nil {
		w, err := linkcond.Wrap(pc, *cfg.Link)
		if err != nil {
			return nil, fmt.Errorf("netcode: link conditioner: %w", err)
		}
		pc = w
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("netcode: cookie secret: %w", err)
	}
	e := &Endpoint{
		cfg:        cfg,
		pc:         pc,
		accepting:  accepting,
		minter:     newCookieMinter(secret),
		conns:      make(map[wire.ConnID]*Conn),
		handshakes: make(map[netip.AddrPort]*handshake),
		dials:      make(map[netip.AddrPort]chan cookie),
		attempts:   make(map[netip.AddrPort]*attemptLog),
		acceptQ:    make(chan *Conn, cfg.AcceptBacklog),
		wake:       make(chan struct{}, 1),
	}
	clear(secret)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(1)
	go e.readLoop()
	return e, nil
}

// LocalAddr returns the socket's address.
func (e *Endpoint) LocalAddr() net.Addr { return e.pc.LocalAddr() }

// AddrPort returns the socket's address as a netip.AddrPort (zero if the
// socket is not a UDP socket).
func (e *Endpoint) AddrPort() netip.AddrPort {
	if ua, ok := e.pc.LocalAddr().(*net.UDPAddr); ok {
		return ua.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(e.pc.LocalAddr().String())
	return ap
}

// Fingerprint returns the endpoint's identity (zero in PSK mode).
func (e *Endpoint) Fingerprint() Fingerprint { return e.cfg.fingerprint }

// Wake returns a channel that receives a value (capacity 1, coalesced)
// whenever any connection of this endpoint has messages to Receive, ends,
// or a connection is ready to Accept. Servers that sleep until traffic
// arrives wait on it.
func (e *Endpoint) Wake() <-chan struct{} { return e.wake }

func (e *Endpoint) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
	if n := e.cfg.Notify; n != nil {
		select {
		case n <- struct{}{}:
		default:
		}
	}
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() EndpointStats {
	s := &e.stats
	e.mu.Lock()
	inflight, conns := len(e.handshakes), len(e.conns)
	e.mu.Unlock()
	return EndpointStats{
		DatagramsIn: s.DatagramsIn.Load(), DropUnknown: s.DropUnknown.Load(),
		DropNoConn: s.DropNoConn.Load(), DropBadCookie: s.DropBadCookie.Load(),
		DropStrayDTLS: s.DropStrayDTLS.Load(), DropHandshakeLimit: s.DropHandshakeLimit.Load(),
		DropAddrLimit: s.DropAddrLimit.Load(), DropHandshakeBacklog: s.DropHandshakeBacklog.Load(),
		EarlyQueued:        s.EarlyQueued.Load(),
		AmplificationDrops: s.AmplificationDrops.Load(), CookiesSent: s.CookiesSent.Load(),
		HandshakesStarted: s.HandshakesStarted.Load(), HandshakesFailed: s.HandshakesFailed.Load(),
		HandshakesDone: s.HandshakesDone.Load(), HandshakesInFlight: inflight, Connections: conns,
	}
}

func (e *Endpoint) count(c *atomic.Uint64) { c.Add(1) }

func (e *Endpoint) writeTo(b []byte, to netip.AddrPort) error {
	_, err := e.pc.WriteToUDPAddrPort(b, to)
	return err
}

func (e *Endpoint) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *Endpoint) readLoop() {
	defer e.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := e.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || e.isClosed() {
				return
			}
			continue // e.g. ICMP errors surfaced by the OS: not fatal to the socket
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		e.handleDatagram(time.Now(), buf[:n], from)
	}
}

// handleDatagram sorts one datagram (PROTOCOL.md §1). It runs on the reader
// goroutine; b is reused after it returns.
func (e *Endpoint) handleDatagram(now time.Time, b []byte, from netip.AddrPort) {
	e.count(&e.stats.DatagramsIn)
	if len(b) == 0 {
		e.count(&e.stats.DropUnknown)
		return
	}
	switch first := b[0]; {
	case wire.IsPumpnet(first):
		e.handleProtected(now, b, from)
	case wire.IsDTLS(first):
		e.mu.Lock()
		hs := e.handshakes[from]
		e.mu.Unlock()
		if hs == nil {
			e.count(&e.stats.DropStrayDTLS)
			return
		}
		if !hs.deliver(b, len(b)) {
			e.count(&e.stats.DropHandshakeBacklog)
		}
	case first == typeCookieRequest:
		if !e.accepting || len(b) != cookieRequestLen {
			e.count(&e.stats.DropUnknown)
			return
		}
		var out [cookieReplyLen]byte
		reply := appendCookieReply(out[:0], e.minter.mint(now, from))
		if e.writeTo(reply, from) == nil {
			e.count(&e.stats.CookiesSent)
		}
	case first == typeCookie:
		ck, err := parseCookieReply(b)
		e.mu.Lock()
		ch := e.dials[from]
		e.mu.Unlock()
		if err != nil || ch == nil {
			e.count(&e.stats.DropUnknown)
			return
		}
		select {
		case ch <- ck:
		default:
		}
	case first == typeCookieDTLS:
		e.handleCookieDTLS(now, b, from)
	default:
		e.count(&e.stats.DropUnknown)
	}
}

func (e *Endpoint) handleProtected(now time.Time, b []byte, from netip.AddrPort) {
	if len(b) < wire.MinPacketLen {
		e.count(&e.stats.DropUnknown)
		return
	}
	var cid wire.ConnID
	copy(cid[:], b[1:1+wire.ConnIDLen])
	e.mu.Lock()
	c := e.conns[cid]
	var hs *handshake
	if c == nil {
		hs = e.handshakes[from]
	}
	e.mu.Unlock()
	if c == nil && hs != nil {
		if hs.queueEarly(b) {
			e.count(&e.stats.EarlyQueued)
			return
		}
		hs.mu.Lock()
		c = hs.conn
		hs.mu.Unlock()
	}
	if c == nil {
		e.count(&e.stats.DropNoConn)
		return
	}
	c.handleDatagram(now, b, from)
}

func (e *Endpoint) handleCookieDTLS(now time.Time, b []byte, from netip.AddrPort) {
	ck, dtlsBytes, err := parseCookieDTLS(b)
	if err == nil {
		err = e.minter.check(now, from, ck)
	}
	if err != nil {
		e.count(&e.stats.DropBadCookie)
		return
	}
	e.mu.Lock()
	hs := e.handshakes[from]
	if hs == nil {
		switch {
		case !e.accepting || e.closed || len(dtlsBytes) == 0 || dtlsBytes[0] != 22:
			e.mu.Unlock()
			e.count(&e.stats.DropStrayDTLS)
			return
		case len(e.handshakes) >= e.cfg.MaxHandshakes:
			e.mu.Unlock()
			e.count(&e.stats.DropHandshakeLimit)
			return
		case !e.allowAttemptLocked(from, now):
			e.mu.Unlock()
			e.count(&e.stats.DropAddrLimit)
			return
		}
		hs = newHandshake(e, from, true)
		e.handshakes[from] = hs
		e.count(&e.stats.HandshakesStarted)
		e.wg.Add(1)
		go e.serve(hs)
	}
	e.mu.Unlock()
	if !hs.deliver(dtlsBytes, len(b)) {
		e.count(&e.stats.DropHandshakeBacklog)
	}
}

// allowAttemptLocked applies MaxAttemptsPerAddr per minute. The map is
// pruned as it goes, so it holds only addresses seen in the last minute
// (and at most those that passed cookie validation).
func (e *Endpoint) allowAttemptLocked(from netip.AddrPort, now time.Time) bool {
	if now.Sub(e.lastPrune) > time.Minute {
		for a, l := range e.attempts {
			if len(l.times) == 0 || now.Sub(l.times[len(l.times)-1]) > time.Minute {
				delete(e.attempts, a)
			}
		}
		e.lastPrune = now
	}
	l := e.attempts[from]
	if l == nil {
		l = &attemptLog{}
		e.attempts[from] = l
	}
	keep := l.times[:0]
	for _, t := range l.times {
		if now.Sub(t) <= time.Minute {
			keep = append(keep, t)
		}
	}
	l.times = keep
	if len(l.times) >= e.cfg.MaxAttemptsPerAddr {
		return false
	}
	l.times = append(l.times, now)
	return true
}

func (e *Endpoint) removeHandshake(hs *handshake) {
	e.mu.Lock()
	if e.handshakes[hs.raddr] == hs {
		delete(e.handshakes, hs.raddr)
	}
	e.mu.Unlock()
}

// serve runs an accepted handshake to completion on its own goroutine, so a
// stalled or spoofed handshake never delays another.
func (e *Endpoint) serve(hs *handshake) {
	defer e.wg.Done()
	defer e.removeHandshake(hs)
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.HandshakeTimeout)
	defer cancel()
	ex, fp, err := hs.runDTLS(ctx, e.cfg, &DialOptions{})
	if err != nil {
		e.count(&e.stats.HandshakesFailed)
		hs.finishDTLS()
		return
	}
	c, err := e.install(hs, ex, fp, true)
	if err != nil {
		e.count(&e.stats.HandshakesFailed)
		hs.finishDTLS()
		return
	}
	// pion stays alive until the client proves it has keys, so that a lost
	// last flight is retransmitted when the client repeats its own.
	select {
	case <-c.established:
	case <-c.done:
	case <-ctx.Done():
		c.closeWith(&CloseError{Code: CodeTimeout, Reason: "client never confirmed its keys"}, true)
	}
	hs.finishDTLS()
	select {
	case <-c.established:
	default:
		e.count(&e.stats.HandshakesFailed)
		return
	}
	e.count(&e.stats.HandshakesDone)
	select {
	case e.acceptQ <- c:
		e.signal()
	default:
		c.closeWith(&CloseError{Code: CodeServerBusy, Reason: "accept backlog full"}, true)
	}
}

// install creates the connection from exported keys, registers its
// connection ID, and replays packets that arrived before the keys.
func (e *Endpoint) install(hs *handshake, ex protect.Exported, fp Fingerprint, server bool) (*Conn, error) {
	c, err := newConn(e, hs.raddr, ex, fp, server)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, net.ErrClosed
	}
	if _, dup := e.conns[c.localCID]; dup {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: connection ID collision", ErrHandshake)
	}
	e.conns[c.localCID] = c
	e.mu.Unlock()

	hs.mu.Lock()
	hs.conn = c
	early := hs.early
	hs.early = nil
	hs.mu.Unlock()
	now := time.Now()
	c.start(now)
	for _, b := range early {
		c.handleDatagram(now, b, hs.raddr)
	}
	return c, nil
}

func (e *Endpoint) removeConn(c *Conn) {
	e.mu.Lock()
	if e.conns[c.localCID] == c {
		delete(e.conns, c.localCID)
	}
	e.mu.Unlock()
}

// Accept returns the next established incoming connection. It blocks until
// one arrives, ctx ends, or the endpoint closes (net.ErrClosed).
func (e *Endpoint) Accept(ctx context.Context) (*Conn, error) {
	if !e.accepting {
		return nil, errNotAccepting
	}
	select {
	case c := <-e.acceptQ:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.ctx.Done():
		return nil, fmt.Errorf("netcode: accept: %w", net.ErrClosed)
	}
}

// TryAccept returns an established incoming connection if one is waiting.
// It never blocks.
func (e *Endpoint) TryAccept() (*Conn, bool) {
	select {
	case c := <-e.acceptQ:
		return c, true
	default:
		return nil, false
	}
}

// Dial connects to a pumpnet endpoint at addr and blocks until the
// connection is established, ctx ends, or Config.HandshakeTimeout passes.
func (e *Endpoint) Dial(ctx context.Context, addr netip.AddrPort, opts DialOptions) (*Conn, error) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if e.cfg.PSK == nil && opts.Fingerprint.IsZero() && e.cfg.RootCAs == nil && !opts.InsecureAcceptAnyServer {
		return nil, fmt.Errorf("%w: no way to verify %s: set DialOptions.Fingerprint, Config.RootCAs, Config.PSK or InsecureAcceptAnyServer", ErrHandshake, addr)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.HandshakeTimeout)
	defer cancel()
	stop := context.AfterFunc(e.ctx, cancel)
	defer stop()

	hs := newHandshake(e, addr, false)
	cookies := make(chan cookie, 1)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("netcode: dial: %w", net.ErrClosed)
	}
	if e.handshakes[addr] != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: a handshake with %s is already in progress", ErrHandshake, addr)
	}
	e.handshakes[addr] = hs
	e.dials[addr] = cookies
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.dials, addr)
		e.mu.Unlock()
		e.removeHandshake(hs)
	}()

	ck, err := e.fetchCookie(ctx, addr, cookies)
	if err != nil {
		hs.finishDTLS()
		return nil, err
	}
	hs.cookie = ck
	ex, fp, err := hs.runDTLS(ctx, e.cfg, &opts)
	hs.finishDTLS()
	if err != nil {
		return nil, err
	}
	c, err := e.install(hs, ex, fp, false)
	if err != nil {
		return nil, err
	}
	select {
	case <-c.established:
		return c, nil
	case <-c.done:
		select {
		case <-c.established:
			// Keys confirmed and closed in the same batch of packets: the
			// connection was established; the caller sees it end.
			return c, nil
		default:
		}
		return nil, fmt.Errorf("%w with %s: %w", ErrHandshake, addr, c.Err())
	case <-ctx.Done():
		c.closeWith(&CloseError{Code: CodeTimeout, Reason: "server never confirmed its keys"}, true)
		if e.ctx.Err() != nil {
			return nil, fmt.Errorf("netcode: dial: %w", net.ErrClosed)
		}
		return nil, fmt.Errorf("%w with %s: %w: server never confirmed its keys", ErrHandshake, addr, ErrTimeout)
	}
}

// fetchCookie asks addr for an address-validation cookie, repeating the
// request with backoff until an answer or ctx ends.
func (e *Endpoint) fetchCookie(ctx context.Context, addr netip.AddrPort, ch chan cookie) (cookie, error) {
	req := appendCookieRequest(nil)
	wait := 200 * time.Millisecond
	for {
		if err := e.writeTo(req, addr); err != nil {
			return cookie{}, fmt.Errorf("%w with %s: %w", ErrHandshake, addr, err)
		}
		t := time.NewTimer(wait)
		select {
		case ck := <-ch:
			t.Stop()
			return ck, nil
		case <-ctx.Done():
			t.Stop()
			if e.ctx.Err() != nil {
				return cookie{}, fmt.Errorf("netcode: dial: %w", net.ErrClosed)
			}
			return cookie{}, fmt.Errorf("%w with %s: %w: no answer", ErrHandshake, addr, ErrTimeout)
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Close closes every connection (each peer is told, best effort), stops
// the handshakes in flight and closes the socket. It is idempotent.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	conns := make([]*Conn, 0, len(e.conns))
	for _, c := range e.conns {
		conns = append(conns, c)
	}
	hss := make([]*handshake, 0, len(e.handshakes))
	for _, hs := range e.handshakes {
		hss = append(hss, hs)
	}
	e.mu.Unlock()
	for _, c := range conns {
		c.closeWith(&CloseError{Code: CodeEndpointClosed, Reason: "endpoint closed"}, true)
	}
	e.cancel()
	for _, hs := range hss {
		hs.close()
	}
	err := e.pc.Close()
	e.wg.Wait()
	for {
		select {
		case c := <-e.acceptQ:
			c.closeWith(&CloseError{Code: CodeEndpointClosed, Reason: "endpoint closed"}, false)
			continue
		default:
		}
		break
	}
	e.signal()
	return err
}

// Dial opens a socket on an ephemeral port and connects to addr ("host:port").
// The returned connection owns the socket: closing it closes the socket.
func Dial(ctx context.Context, addr string, cfg *Config, opts DialOptions) (*Conn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("netcode: dial %q: %w", addr, err)
	}
	ap := ua.AddrPort()
	network, local := "udp4", "0.0.0.0:0"
	if ap.Addr().Unmap().Is6() {
		network, local = "udp6", "[::]:0"
	}
	la, _ := net.ResolveUDPAddr(network, local)
	uc, err := net.ListenUDP(network, la)
	if err != nil {
		return nil, fmt.Errorf("netcode: dial %q: %w", addr, err)
	}
	e, err := newEndpoint(uc, cfg, false)
	if err != nil {
		uc.Close()
		return nil, err
	}
	c, err := e.Dial(ctx, ap, opts)
	if err != nil {
		e.Close()
		return nil, err
	}
	c.ownsEndpoint = true
	return c, nil
}
