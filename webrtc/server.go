//go:build !js

package webrtc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pumpnet/pumpnet/netcode"
)

// ServerConfig configures a Server. The zero value works. It must not
// change after use.
type ServerConfig struct {
	Config
	// MaxOfferBytes bounds the body of a signaling request. Default
	// DefaultMaxOfferBytes (64 KiB); an offer is about 1-3 KiB.
	MaxOfferBytes int
	// MaxPendingHandshakes bounds the connections between their offer and
	// their open channels (ICE, DTLS, SCTP). Offers beyond it are refused
	// with 503 at once. Default 32.
	MaxPendingHandshakes int
	// MaxHandshakesPerIP bounds the signaling requests and pending
	// handshakes one source address (IPv4 address, or IPv6 /64) may hold
	// at a time, from the start of its request until its channels open or
	// its handshake ends; requests beyond it are refused with 429 at once,
	// before the body is read. Default MaxPendingHandshakes/4 (8), at
	// least 1. Players behind one NAT share it, and so do all clients
	// when the Server sits behind a reverse proxy unless SourceAddr names
	// the real client.
	MaxHandshakesPerIP int
	// SourceAddr, if set, gives the source address of a signaling request
	// for MaxHandshakesPerIP, e.g. from a header that a trusted reverse
	// proxy sets (never from one a client can set). ok false, or a nil
	// SourceAddr, uses the request's RemoteAddr; requests whose source
	// cannot be told share one quota. It runs on the handler's goroutine
	// and must be safe for concurrent use.
	SourceAddr func(r *http.Request) (addr netip.Addr, ok bool)
	// AcceptQueue bounds connections made but not yet taken by Accept;
	// beyond it a new connection is closed with CodeServerBusy. Default 64.
	AcceptQueue int
	// PublicAddrs, if set, are announced as the server's ICE candidates
	// instead of the UDP socket's own addresses (a server behind a 1:1 NAT
	// or a port forward). Connectivity checks still arrive at the socket.
	PublicAddrs []netip.Addr
}

// Server accepts WebRTC connections: browsers and native clients POST an
// SDP offer to its signaling handler (ServeHTTP) and get an answer; the
// connections then run over one UDP socket (ICE-lite, one port). All
// methods are safe for concurrent use.
type Server struct {
	cfg     *config
	scfg    ServerConfig
	api     *webrtc.API
	udp     net.PacketConn
	mux     ice.UDPMux
	cert    webrtc.Certificate
	fp      Fingerprint
	pending chan struct{}
	accept  chan *Conn
	done    chan struct{}

	mu      sync.Mutex
	closed  bool
	conns   map[*Conn]struct{}
	sources map[netip.Prefix]int // signalings and pending handshakes per source
	wg      sync.WaitGroup       // handshake watchers
	http    *http.Server
	tcp     net.Listener
}

// NewServer makes a Server whose connections use the UDP socket udp, which
// it owns from now on (Close closes it). ICE candidates are the socket's
// address (every local address when it is bound to an unspecified one,
// less those Config.IPFilter refuses), or ServerConfig.PublicAddrs. Mount
// the Server (an http.Handler) where clients can POST offers, or use
// Listen. NewServer does not block.
func NewServer(udp net.PacketConn, cfg *ServerConfig) (*Server, error) {
	var sc ServerConfig
	if cfg != nil {
		sc = *cfg
	}
	c, err := sc.Config.resolve()
	if err != nil {
		return nil, err
	}
	if sc.MaxOfferBytes <= 0 {
		sc.MaxOfferBytes = DefaultMaxOfferBytes
	}
	if sc.MaxPendingHandshakes <= 0 {
		sc.MaxPendingHandshakes = 32
	}
	if sc.MaxHandshakesPerIP <= 0 {
		sc.MaxHandshakesPerIP = max(1, sc.MaxPendingHandshakes/4)
	}
	if sc.AcceptQueue <= 0 {
		sc.AcceptQueue = 64
	}
	cert, fp, err := certificateFor(c.Certificate)
	if err != nil {
		return nil, err
	}
	mux := webrtc.NewICEUDPMux(silentLogs.NewLogger("ice"), udp)
	se := settings(c)
	se.SetLite(true)
	se.SetICEUDPMux(mux)
	if len(sc.PublicAddrs) > 0 {
		ips := make([]string, len(sc.PublicAddrs))
		for i, a := range sc.PublicAddrs {
			ips[i] = a.String()
		}
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: ips, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("webrtc: PublicAddrs: %w", err)
		}
	}
	s := &Server{
		cfg:     c,
		scfg:    sc,
		api:     webrtc.NewAPI(webrtc.WithSettingEngine(se)),
		udp:     udp,
		mux:     mux,
		cert:    *cert,
		fp:      fp,
		pending: make(chan struct{}, sc.MaxPendingHandshakes),
		accept:  make(chan *Conn, sc.AcceptQueue),
		done:    make(chan struct{}),
		conns:   make(map[*Conn]struct{}),
		sources: make(map[netip.Prefix]int),
	}
	return s, nil
}

// Listen opens a UDP socket on addr for the connections and an HTTP server
// for signaling on the same address over TCP (the same port number; with
// port 0 both get the UDP socket's port), serving the signaling handler at
// every path. SignalURL tells the URL to give clients. For HTTPS, or to
// serve pages beside signaling, use NewServer and mount the Server in your
// own http.Server instead. Listen does not block.
func Listen(addr string, cfg *ServerConfig) (*Server, error) {
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("webrtc: listen: %w", err)
	}
	ua := udp.LocalAddr().(*net.UDPAddr)
	tcp, err := net.Listen("tcp", net.JoinHostPort(ua.IP.String(), strconv.Itoa(ua.Port)))
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("webrtc: listen for signaling: %w", err)
	}
	s, err := NewServer(udp, cfg)
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, err
	}
	s.tcp = tcp
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	go s.http.Serve(tcp)
	return s, nil
}

// SignalURL returns the signaling URL of a Server made by Listen
// ("http://host:port/"), or "" for one made by NewServer.
func (s *Server) SignalURL() string {
	if s.tcp == nil {
		return ""
	}
	return "http://" + s.tcp.Addr().String() + "/"
}

// LocalAddr returns the address of the server's UDP socket.
func (s *Server) LocalAddr() net.Addr { return s.udp.LocalAddr() }

// Fingerprint returns the server's identity, the fingerprint of its key
// (what native clients pin with DialOptions.Fingerprint).
func (s *Server) Fingerprint() Fingerprint { return s.fp }

// Accept waits for the next connection whose channels are all open. After
// Close it returns ErrServerClosed. It blocks; it is safe for concurrent
// use.
func (s *Server) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-s.accept:
		return c, nil
	case <-s.done:
		return nil, ErrServerClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// AcceptTransport is Accept for the engine (netcode.TransportListener):
// engine.Server.Serve(webrtcServer) takes a server's browser connections
// beside its native ones.
func (s *Server) AcceptTransport(ctx context.Context) (netcode.Transport, error) {
	c, err := s.Accept(ctx)
	if err != nil {
		return nil, err // not a nil *Conn in a non-nil interface
	}
	return c, nil
}

var _ netcode.TransportListener = (*Server)(nil)

// Close stops signaling, closes every connection (CodeEndpointClosed), and
// closes the UDP socket. It waits for the handshake watchers to end and is
// idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if s.http != nil {
		s.http.Close()
	}
	for _, c := range conns {
		c.CloseWithReason(CodeEndpointClosed, "server closed")
	}
	s.wg.Wait()
	for _, c := range conns {
		<-c.tornDown
	}
	s.mux.Close()
	// The mux closes the socket it reads; a second close is not an error
	// of this Close.
	if err := s.udp.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// signalError is an HTTP status with a message for the client.
type signalError struct {
	status int
	msg    string
}

func (e *signalError) Error() string { return e.msg }

// ServeHTTP is the signaling handler: a POST whose body is the JSON offer
// a client of this package sends (at most ServerConfig.MaxOfferBytes),
// answered with the JSON answer once the server's candidates are gathered
// (no trickle). Refusals: 405 (not POST), 413 (too large), 400 (not an
// offer), 409 (another channel list), 429 (the source address holds
// MaxHandshakesPerIP), 503 (too many pending handshakes, closed, or the
// handshake deadline passed during the exchange); 429 and 503 carry
// Retry-After. The body must arrive within
// Config.HandshakeTimeout (the handler sets the connection's read
// deadline), and a request holds a pending-handshake slot only once its
// offer is read and parsed. It blocks for the exchange only (the
// handshake goes on after the answer) and is safe for concurrent use.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webrtc signaling: POST an offer", http.StatusMethodNotAllowed)
		return
	}
	answer, err := s.signal(w, r)
	if err != nil {
		status := http.StatusBadRequest
		var se *signalError
		if errors.As(err, &se) {
			status = se.status
		}
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int((s.cfg.HandshakeTimeout+time.Second-1)/time.Second)))
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(answer)
}

// sourceOf is the unit MaxHandshakesPerIP applies to: the IPv4 address,
// or the /64 of an IPv6 one (as netcode's per-source limits); the zero
// Prefix for a request whose source is unknown.
func (s *Server) sourceOf(r *http.Request) netip.Prefix {
	var a netip.Addr
	ok := false
	if s.scfg.SourceAddr != nil {
		a, ok = s.scfg.SourceAddr(r)
	}
	if !ok {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return netip.Prefix{}
		}
		a = ap.Addr()
	}
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// takeSource counts one more signaling for src, unless it holds its share.
func (s *Server) takeSource(src netip.Prefix) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sources[src] >= s.scfg.MaxHandshakesPerIP {
		return false
	}
	s.sources[src]++
	return true
}

func (s *Server) releaseSource(src netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sources[src]--; s.sources[src] <= 0 {
		delete(s.sources, src)
	}
}

// signal runs one exchange: offer in, answer out.
func (s *Server) signal(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > int64(s.scfg.MaxOfferBytes) {
		return nil, &signalError{http.StatusRequestEntityTooLarge, fmt.Sprintf("webrtc signaling: offer above %d bytes", s.scfg.MaxOfferBytes)}
	}
	src := s.sourceOf(r)
	if !s.takeSource(src) {
		return nil, &signalError{http.StatusTooManyRequests, "webrtc signaling: too many pending handshakes from your address"}
	}
	slot := false
	var once sync.Once
	release := func() {
		once.Do(func() {
			if slot {
				<-s.pending
			}
			s.releaseSource(src)
		})
	}
	// Reading the offer takes no pending slot, and at most
	// HandshakeTimeout (a mounted handler's http.Server may have no read
	// timeout of its own).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.scfg.MaxOfferBytes)))
	if err != nil {
		// The deadline stays: net/http must not wait for the rest of
		// the body after the refusal.
		release()
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &signalError{http.StatusRequestEntityTooLarge, fmt.Sprintf("webrtc signaling: offer above %d bytes", mbe.Limit)}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, &signalError{http.StatusRequestTimeout, fmt.Sprintf("webrtc signaling: offer not received in %v", s.cfg.HandshakeTimeout)}
		}
		return nil, &signalError{http.StatusBadRequest, "webrtc signaling: reading offer: " + err.Error()}
	}
	_ = rc.SetReadDeadline(time.Time{})
	offer, err := parseOffer(raw)
	if err != nil {
		release()
		return nil, &signalError{http.StatusBadRequest, "webrtc signaling: " + err.Error()}
	}
	if !s.cfg.sameChannels(offer.Channels) {
		release()
		return nil, &signalError{http.StatusConflict, fmt.Sprintf("webrtc signaling: channels %v, the server has %v", offer.Channels, s.cfg.channels)}
	}
	select {
	case s.pending <- struct{}{}:
		slot = true
	default:
		release()
		return nil, &signalError{http.StatusServiceUnavailable, "webrtc signaling: too many pending handshakes"}
	}
	ctx := r.Context()
	c, err := newConn(s.api, s.cfg, &s.cert, true)
	if err != nil {
		release()
		return nil, &signalError{http.StatusInternalServerError, err.Error()}
	}
	c.onEnd = func() {
		release()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
	// The handshake deadline covers the exchange too. Until
	// SetLocalDescription has returned, only this goroutine may close the
	// peer connection: closed before its ICE agent exists, pion (v4.2)
	// still makes the agent afterwards and never closes it (a leak of its
	// goroutines). So the deadline is checked here between the steps, and
	// the timer and Server.Close take over only after.
	expires := time.Now().Add(s.cfg.HandshakeTimeout)
	timedOut := &CloseError{Code: CodeTimeout, Reason: fmt.Sprintf("handshake not finished in %v", s.cfg.HandshakeTimeout)}
	var deadline *time.Timer
	fail := func(status int, err error) ([]byte, error) {
		if deadline != nil {
			deadline.Stop()
		}
		if cerr := c.Err(); cerr != nil {
			// The deadline or Close ended the connection during the
			// exchange: pion's error would only say it is closed.
			return nil, &signalError{http.StatusServiceUnavailable, "webrtc signaling: " + cerr.Error()}
		}
		c.closeWith(&CloseError{Code: CodeProtocolViolation, Reason: err.Error()}, false)
		return nil, &signalError{status, "webrtc signaling: " + err.Error()}
	}
	expired := func() bool {
		if time.Now().Before(expires) {
			return false
		}
		c.closeWith(timedOut, false)
		return true
	}
	errExpired := errors.New("handshake deadline passed")
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		return fail(http.StatusBadRequest, err)
	}
	if expired() {
		return fail(http.StatusServiceUnavailable, errExpired)
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return fail(http.StatusBadRequest, err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(ans); err != nil {
		return fail(http.StatusInternalServerError, err)
	}
	if expired() {
		return fail(http.StatusServiceUnavailable, errExpired)
	}
	deadline = time.AfterFunc(time.Until(expires), func() { c.closeWith(timedOut, false) })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.closeWith(&CloseError{Code: CodeEndpointClosed, Reason: "server closed"}, false)
		return fail(http.StatusServiceUnavailable, ErrServerClosed)
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	select {
	case <-gathered:
	case <-c.done:
		return fail(http.StatusServiceUnavailable, errExpired)
	case <-ctx.Done():
		return fail(http.StatusServiceUnavailable, ctx.Err())
	}
	if expired() {
		// No answer for a connection whose deadline passed (its timer
		// may not have run yet): the client would wait for nothing.
		return fail(http.StatusServiceUnavailable, errExpired)
	}
	out, err := json.Marshal(answerMessage{Version: signalVersion, SDP: c.pc.LocalDescription().SDP, Fingerprint: s.fp.String()})
	if err != nil {
		return fail(http.StatusInternalServerError, err)
	}
	// Close sets closed, then waits for the watchers: a watcher is added
	// before that, or not at all.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.closeWith(&CloseError{Code: CodeEndpointClosed, Reason: "server closed"}, false)
		return fail(http.StatusServiceUnavailable, ErrServerClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go s.watch(c, deadline, release)
	return out, nil
}

// watch waits for c's channels to open (or c to end: the deadline), then
// hands it to Accept.
func (s *Server) watch(c *Conn, deadline *time.Timer, release func()) {
	defer s.wg.Done()
	select {
	case <-c.opened:
	case <-c.done:
		return
	}
	deadline.Stop()
	if err := c.established(); err != nil {
		c.CloseWithReason(CodeProtocolViolation, err.Error())
		return
	}
	release()
	select {
	case s.accept <- c:
	default:
		c.CloseWithReason(CodeServerBusy, "accept queue full")
	}
}

// openPeerConnections returns how many peer connections exist (tests).
func openPeerConnections() int64 { return livePeerConnections.Load() }
