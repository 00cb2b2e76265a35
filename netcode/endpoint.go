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
	DropNotHello         uint64 // valid cookie, but no syntactically valid ClientHello to start a handshake with
	DropHandshakeLimit   uint64 // MaxHandshakes in flight and none could be evicted
	DropAddrLimit        uint64 // per-source-IP limits (MaxHandshakesPerIP, MaxFailedHandshakesPerIP)
	DropHandshakeBacklog uint64 // a handshake's inbox was full
	EarlyQueued          uint64 // protected packets kept until their handshake installed keys
	AmplificationDrops   uint64 // writes held back by the 3x limit
	CookiesSent          uint64
	HandshakesStarted    uint64
	HandshakesFailed     uint64
	HandshakesEvicted    uint64 // stalled handshakes that lost their slot to a newcomer (also counted failed)
	HandshakesDone       uint64
	HandshakesInFlight   int // includes established connections waiting for Accept
	Connections          int

	// Socket calls: ReadCalls reads and WriteCalls writes (one recvmmsg
	// or sendmmsg call counts once, whatever the number of datagrams it
	// moved), DatagramsOut datagrams written, LocalDrops datagrams the
	// socket refused to send (a full local buffer; not network loss).
	ReadCalls, WriteCalls, DatagramsOut, LocalDrops uint64
	// SocketReadBuffer and SocketWriteBuffer are the socket buffer sizes
	// the OS granted (Config.ReceiveBufferBytes, SendBufferBytes); 0 when
	// not a UDP socket or left to the OS.
	SocketReadBuffer, SocketWriteBuffer int
}

type endpointCounters struct {
	DatagramsIn, DropUnknown, DropNoConn, DropBadCookie, DropStrayDTLS, DropNotHello,
	DropHandshakeLimit, DropAddrLimit, DropHandshakeBacklog, EarlyQueued, AmplificationDrops,
	CookiesSent, HandshakesStarted, HandshakesFailed, HandshakesEvicted, HandshakesDone atomic.Uint64
	ReadCalls atomic.Uint64
}

// Endpoint is one UDP socket that dials and (when created by Listen or
// ListenPacket) accepts connections. All methods are safe for concurrent
// use. Dial and Accept block; nothing else does.
type Endpoint struct {
	cfg       *config
	pc        PacketConn
	io        packetIO
	out       outQueue
	sockRead  int // socket buffer sizes granted
	sockWrite int
	accepting bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  endpointCounters

	minter        *cookieMinter // reader goroutine only
	rxQueued      bool          // reader goroutine only: this batch queued packets
	handleBatchFn func(n int)

	mu         sync.Mutex
	closed     bool
	conns      map[wire.ConnID]*Conn
	handshakes map[netip.AddrPort]*handshake
	dials      map[netip.AddrPort]chan cookie
	sources    map[netip.Prefix]*source
	lastPrune  time.Time

	acceptQ chan *Conn
	wake    chan struct{}

	flushMu    sync.Mutex // FlushAll
	flushConns []*Conn
}

// source is what an endpoint remembers about one source IP (an IPv6 /64)
// that passed address validation: its handshakes in flight and the times of
// its handshakes that failed in the last minute (at most
// MaxFailedHandshakesPerIP of them).
type source struct {
	inFlight int
	failures []time.Time
}

// score orders sources for eviction: the more a source holds and the more
// it failed lately, the sooner it loses a stalled handshake.
func (s *source) score() int {
	if s == nil {
		return 0
	}
	return s.inFlight + len(s.failures)
}

// sourceOf is the unit per-source limits apply to: the IPv4 address, or
// the /64 an IPv6 address is in (one host or site usually has a whole /64).
func sourceOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// Stall limits (PROTOCOL.md §1.1; see handshake.stalled): when the
// handshake slots are short, a newcomer may evict a server handshake whose
// client sent no second flight within stallAge of the server's answer, or
// any that is progressedStallAge old.
const (
	stallAge           = time.Second
	progressedStallAge = 5 * time.Second
)

// Listen opens a UDP socket on addr ("host:port"; ":0" picks a port) and
// returns an endpoint that accepts connections and can also dial. The
// unspecified address (":31425", "[::]:31425") gives one dual-stack socket
// for IPv4 and IPv6 peers; IPv4 peers' addresses are reported as IPv4,
// never v4-mapped.
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
	rd, wr := sizeSocketBuffers(pc, cfg)
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
		sources:    make(map[netip.Prefix]*source),
		wake:       make(chan struct{}, 1),
		sockRead:   rd,
		sockWrite:  wr,
	}
	clear(secret)
	if accepting {
		e.acceptQ = make(chan *Conn, cfg.AcceptBacklog) // nil otherwise: never ready
	}
	e.io = newPacketIO(pc)
	e.handleBatchFn = e.handleBatch
	e.out.init(cfg.MaxDatagramSize)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(2)
	go e.readLoop()
	go e.writeLoop()
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
		DropStrayDTLS: s.DropStrayDTLS.Load(), DropNotHello: s.DropNotHello.Load(),
		DropHandshakeLimit: s.DropHandshakeLimit.Load(),
		DropAddrLimit:      s.DropAddrLimit.Load(), DropHandshakeBacklog: s.DropHandshakeBacklog.Load(),
		EarlyQueued:        s.EarlyQueued.Load(),
		AmplificationDrops: s.AmplificationDrops.Load(), CookiesSent: s.CookiesSent.Load(),
		HandshakesStarted: s.HandshakesStarted.Load(), HandshakesFailed: s.HandshakesFailed.Load(),
		HandshakesEvicted: s.HandshakesEvicted.Load(),
		HandshakesDone:    s.HandshakesDone.Load(), HandshakesInFlight: inflight, Connections: conns,
		ReadCalls: s.ReadCalls.Load(), WriteCalls: e.out.writeCalls.Load(),
		DatagramsOut: e.out.datagramsOut.Load(), LocalDrops: e.out.localDrops.Load(),
		SocketReadBuffer: e.sockRead, SocketWriteBuffer: e.sockWrite,
	}
}

func (e *Endpoint) count(c *atomic.Uint64) { c.Add(1) }

// writeTo writes one datagram at once (handshakes, cookie requests: not
// under any connection's lock, never on the reader goroutine).
func (e *Endpoint) writeTo(b []byte, to netip.AddrPort) error {
	_, err := e.pc.WriteToUDPAddrPort(b, to)
	e.out.writeCalls.Add(1)
	if err == nil {
		e.out.datagramsOut.Add(1)
	}
	return err
}

func (e *Endpoint) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// readLoop is the reader goroutine. It never writes to the socket and
// never waits on a connection's flush: what handling a batch of datagrams
// sealed (acknowledgements, data the acknowledgements released, cookie
// replies) goes to the writer goroutine.
func (e *Endpoint) readLoop() {
	defer e.wg.Done()
	for {
		err := e.io.read(e.handleBatchFn)
		if err == nil {
			continue
		}
		e.stats.ReadCalls.Add(1)
		if errors.Is(err, net.ErrClosed) || e.isClosed() {
			return
		}
		// e.g. ICMP errors surfaced by the OS: not fatal to the socket
	}
}

// handleBatch handles the n datagrams of one read (reader goroutine).
func (e *Endpoint) handleBatch(n int) {
	e.stats.ReadCalls.Add(1)
	now := time.Now()
	e.rxQueued = false
	for i := range n {
		b, from, ok := e.io.message(i)
		if !ok {
			e.count(&e.stats.DatagramsIn)
			e.count(&e.stats.DropUnknown)
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		e.handleDatagram(now, b, from)
	}
	if e.rxQueued {
		e.kickWriter()
	}
}

// handleDatagram sorts one datagram (PROTOCOL.md §1). It runs on the reader
// goroutine; b is reused after it returns. It sets rxQueued when it queued
// packets for the writer goroutine.
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
		if e.out.enqueue(reply, from) {
			e.rxQueued = true
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
	case first == typeHandshakeLost:
		e.mu.Lock()
		hs := e.handshakes[from]
		e.mu.Unlock()
		if len(b) != cookieReplyLen || hs == nil || hs.server || !hs.lost(b[1:]) {
			e.count(&e.stats.DropUnknown)
		}
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
	if c.handleDatagram(now, b, from) {
		e.rxQueued = true
	}
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
		if !e.accepting || e.closed || len(dtlsBytes) == 0 {
			e.mu.Unlock()
			e.count(&e.stats.DropStrayDTLS)
			return
		}
		if !isClientHello(dtlsBytes) {
			e.mu.Unlock()
			e.count(&e.stats.DropNotHello)
			// A validated address continues a handshake this endpoint does
			// not have (evicted, timed out): tell it, so that it starts
			// over instead of retransmitting into the void (PROTOCOL.md
			// §1.1). 25 bytes for at least 28 received.
			var out [cookieReplyLen]byte
			e.rxQueued = e.out.enqueue(appendHandshakeLost(out[:0], ck), from) || e.rxQueued
			return
		}
		var drop *atomic.Uint64
		if hs, drop = e.admitLocked(now, from); hs == nil {
			e.mu.Unlock()
			e.count(drop)
			return
		}
		e.count(&e.stats.HandshakesStarted)
		e.wg.Add(1)
		go e.serve(hs)
	}
	e.mu.Unlock()
	if !hs.deliver(dtlsBytes, len(b)) {
		e.count(&e.stats.DropHandshakeBacklog)
	}
}

// admitLocked gives from a handshake slot, evicting a stalled handshake if
// that is what it takes (PROTOCOL.md §1.1), or returns the counter of the
// limit that refused it:
//
//   - a source IP (IPv6: /64) that failed MaxFailedHandshakesPerIP
//     handshakes in the last minute gets none;
//   - nor does one with MaxHandshakesPerIP slots;
//   - with MaxHandshakes in flight, a newcomer evicts a stalled handshake
//     of the source that holds and failed the most, and only if that
//     source's score is above its own: a fresh client wins over a flood,
//     and flooders do not just churn each other's slots.
func (e *Endpoint) admitLocked(now time.Time, from netip.AddrPort) (*handshake, *atomic.Uint64) {
	e.pruneSourcesLocked(now)
	key := sourceOf(from.Addr())
	src := e.sources[key]
	if src == nil {
		src = &source{}
		e.sources[key] = src
	}
	src.expire(now)
	refuse := func(c *atomic.Uint64) (*handshake, *atomic.Uint64) {
		if src.inFlight == 0 && len(src.failures) == 0 {
			delete(e.sources, key)
		}
		return nil, c
	}
	if len(src.failures) >= e.cfg.MaxFailedHandshakesPerIP || src.inFlight >= e.cfg.MaxHandshakesPerIP {
		return refuse(&e.stats.DropAddrLimit)
	}
	if len(e.handshakes) >= e.cfg.MaxHandshakes {
		mine := src.score()
		v := e.stalledLocked(now, func(h *handshake) bool { return e.sources[h.source].score() > mine })
		if v == nil {
			return refuse(&e.stats.DropHandshakeLimit)
		}
		e.evictLocked(now, v)
	}
	hs := newHandshake(e, from, true)
	hs.started, hs.source = now, key
	hs.ctx, hs.cancel = context.WithTimeout(e.ctx, e.cfg.HandshakeTimeout)
	src.inFlight++
	e.handshakes[from] = hs
	return hs, nil
}

// stalledLocked returns the server handshake that ok accepts and that has
// stalled (see stallAge), preferring the source with the highest score,
// then the oldest; nil if there is none.
func (e *Endpoint) stalledLocked(now time.Time, ok func(*handshake) bool) *handshake {
	var best *handshake
	bestScore := 0
	for _, h := range e.handshakes {
		if !h.server || h.waiting {
			continue
		}
		if !h.stalled(now) || !ok(h) {
			continue
		}
		sc := e.sources[h.source].score()
		if best == nil || sc > bestScore || (sc == bestScore && h.started.Before(best.started)) {
			best, bestScore = h, sc
		}
	}
	return best
}

// stalled reports whether a server handshake has stalled (PROTOCOL.md
// §1.1): the server answered the ClientHello stallAge ago and the client's
// second flight never came, or it is progressedStallAge old whatever it
// did (the progress signal is syntactic, so it is not trusted for long).
// The clock of the first case starts at the server's answer, not at the
// ClientHello, so a server slowed down by its own load does not evict
// clients it has not answered yet.
func (h *handshake) stalled(now time.Time) bool {
	if now.Sub(h.started) >= progressedStallAge {
		return true
	}
	at := h.answered.Load()
	return at != 0 && !h.progressed.Load() && now.Sub(time.Unix(0, at)) >= stallAge
}

// evictLocked takes hs's slot away (counted as a failure of its source)
// and ends its handshake.
func (e *Endpoint) evictLocked(now time.Time, hs *handshake) {
	e.endHandshakeLocked(now, hs, true)
	hs.cancel()
	e.count(&e.stats.HandshakesEvicted)
}

// expire forgets failures older than a minute.
func (s *source) expire(now time.Time) {
	i := 0
	for i < len(s.failures) && now.Sub(s.failures[i]) > time.Minute {
		i++
	}
	s.failures = s.failures[i:]
}

// pruneSourcesLocked drops, once a minute, sources with nothing in flight
// and no failure in the last minute. Sources exist only for addresses that
// passed cookie validation and sent a ClientHello.
func (e *Endpoint) pruneSourcesLocked(now time.Time) {
	if now.Sub(e.lastPrune) <= time.Minute {
		return
	}
	for k, s := range e.sources {
		s.expire(now)
		if s.inFlight == 0 && len(s.failures) == 0 {
			delete(e.sources, k)
		}
	}
	e.lastPrune = now
}

// endHandshakeLocked frees hs's slot (if it still holds it) and, for a
// server handshake, its source's; failed records a failure of the source.
func (e *Endpoint) endHandshakeLocked(now time.Time, hs *handshake, failed bool) {
	if e.handshakes[hs.raddr] != hs {
		return
	}
	delete(e.handshakes, hs.raddr)
	if !hs.server || !hs.source.IsValid() {
		return
	}
	src := e.sources[hs.source]
	if src == nil {
		return
	}
	src.inFlight--
	if failed {
		src.failures = append(src.failures, now)
		if n := len(src.failures) - e.cfg.MaxFailedHandshakesPerIP; n > 0 {
			src.failures = src.failures[n:]
		}
	}
	if src.inFlight == 0 && len(src.failures) == 0 {
		delete(e.sources, hs.source)
	}
}

func (e *Endpoint) removeHandshake(hs *handshake, failed bool) {
	e.mu.Lock()
	e.endHandshakeLocked(time.Now(), hs, failed)
	e.mu.Unlock()
}

// serve runs an accepted handshake to completion on its own goroutine, so a
// stalled or spoofed handshake never delays another. hs.ctx ends at the
// handshake timeout or when hs is evicted.
func (e *Endpoint) serve(hs *handshake) {
	defer e.wg.Done()
	// Only a handshake the client let stall counts against its source:
	// the server answered and the client's second flight never came. One
	// that ended while the server was slow to answer, or after the client
	// answered, may be the server's own overload (a legitimate burst from
	// one address must not lock that address out).
	established := false
	defer func() { e.removeHandshake(hs, !established && hs.answered.Load() != 0 && !hs.progressed.Load()) }()
	ctx, cancel := hs.ctx, hs.cancel
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
	established = true
	e.count(&e.stats.HandshakesDone)
	// A full backlog makes the connection wait, never ends it: the client
	// is connected (its keepalives are answered) and the application
	// accepts it when it catches up. Meanwhile it keeps its handshake slot,
	// so an application that falls behind slows new handshakes down (their
	// clients knock again) instead of refusing them.
	e.mu.Lock()
	hs.waiting = true
	e.mu.Unlock()
	select {
	case e.acceptQ <- c:
		e.signal()
	case <-c.done:
	case <-e.ctx.Done():
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
	e.flushOut()
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
		e.removeHandshake(hs, false)
	}()

	ck, err := e.fetchCookie(ctx, addr, cookies)
	if err != nil {
		hs.finishDTLS()
		return nil, err
	}
	var (
		ex protect.Exported
		fp Fingerprint
	)
	for restarts := 0; ; restarts++ {
		// One attempt: the server may say it lost our handshake
		// (HANDSHAKE_LOST); then we start over with a fresh one, within
		// the same deadline.
		actx, abort := context.WithCancelCause(ctx)
		hs.mu.Lock()
		hs.cookie, hs.abort = ck, abort
		hs.mu.Unlock()
		stopKnock, knocked := make(chan struct{}), make(chan struct{})
		go hs.knock(stopKnock, knocked)
		ex, fp, err = hs.runDTLS(actx, e.cfg, &opts)
		close(stopKnock)
		<-knocked
		hs.finishDTLS()
		lost := err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errHandshakeLost)
		abort(nil)
		if !lost || restarts == maxHandshakeRestarts {
			break
		}
		next := newHandshake(e, addr, false)
		e.mu.Lock()
		if e.closed || e.handshakes[addr] != hs {
			e.mu.Unlock()
			return nil, fmt.Errorf("netcode: dial: %w", net.ErrClosed)
		}
		e.handshakes[addr] = next
		e.mu.Unlock()
		hs = next
	}
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
	e.drainBeforeClose() // the CLOSE frames
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
