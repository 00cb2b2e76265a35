package lobby

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/rendezvous"
	"github.com/pumpnet/pumpnet/webrtc"
)

// Internet sessions (Config.Rendezvous): the room's roster is the
// discovery, and each pair connects with webrtc.ConnectPeer, the lower
// identity making the offer, signaling relayed by the rendezvous. The
// connection then goes through the LAN's admission (hello, accept/deny,
// seats) unchanged.

// Bounds and timings of an internet session.
const (
	// maxRoster bounds the members of a roster a session looks at (a
	// rendezvous's rooms hold 8 by default): the rest are ignored.
	maxRoster = 64
	// signalQueue bounds the signals waiting for one connection attempt
	// (it needs one: the offer, or the answer); beyond it they are dropped.
	signalQueue = 2
	// pollTimeout bounds one long poll (the server answers within its
	// PollTimeout, 25 s by default); requestTimeout bounds the others.
	pollTimeout    = 60 * time.Second
	requestTimeout = 15 * time.Second
	// leaveTimeout bounds the Leave that Close and Disconnect make.
	leaveTimeout = 2 * time.Second
	// backoffMin and backoffMax bound the wait between failed rendezvous
	// requests (doubling from the one to the other, with jitter).
	backoffMin = 250 * time.Millisecond
	backoffMax = 30 * time.Second
	// offerEvery bounds the offers a session takes from one peer (each
	// answered or refused, through the relay): one a second, the rest
	// dropped. An offerer tries again only after redialAfter, 5 s.
	offerEvery = time.Second
)

// testICEFilter, set by this package's tests, restricts ICE to the local
// addresses it keeps: loopback only, so that tests on a shared machine
// send nothing to its real interfaces. Nil otherwise.
var testICEFilter func(netip.Addr) bool

// testJoinHook, set by this package's tests, may change an internet
// session's settings as it joins (e.g. make it behave as a browser does).
var testJoinHook func(*Config, *internet)

// Kinds of signal.
const (
	kindOffer  = 'o' // offerer to answerer: ConnectPeer's offer
	kindAnswer = 'a' // answerer to offerer: ConnectPeer's answer
	kindRefuse = 'r' // answerer to offerer: no seat for you (the reason follows)
)

// internet is an internet session's side of the rendezvous: its room, the
// poll loop that brings the roster and the signals, the record it
// publishes, and the signaling of each connection attempt.
type internet struct {
	s      *Session
	client *rendezvous.Client
	http   *http.Client
	code   string
	wcfg   webrtc.Config
	update chan struct{} // capacity 1: the wanted record changed

	key     crypto.Signer // the identity's, which signs signals
	certDER []byte
	flags   byte // flagKeyIsID where the DTLS key is the identity key

	mu      sync.Mutex
	room    *rendezvous.Room // replaced when a lost membership is rejoined
	record  rendezvous.Record
	members []rendezvous.Member // the newest roster, for Pump
	fresh   bool                // members not yet taken by Pump
	inRoom  map[netcode.Fingerprint]bool
	links   map[netcode.Fingerprint]*link     // connection attempts in progress
	offers  map[netcode.Fingerprint]offerSeen // offers waiting for Pump
	err     error                             // the last rendezvous error, nil after a success
	gone    bool                              // the room is gone: no more requests
}

// offerSeen is an offer that arrived for no attempt in progress.
type offerSeen struct {
	attempt uint64
	flags   byte
	data    []byte
}

// link is the signaling of one connection attempt with one peer: a
// webrtc.Signaler over the rendezvous relay.
type link struct {
	r       *internet
	peer    netcode.Fingerprint
	attempt uint64
	offerer bool
	in      chan signal
	// peerFlags are the flags of the peer's last signal, taken by the
	// goroutine that runs ConnectPeer.
	peerFlags byte
}

// answering is an answer in progress (ConnectPeer as the answerer):
// StopLookingForPeers cancels it.
type answering struct {
	cancel context.CancelFunc
}

// answered is an answer's result, for Pump.
type answered struct {
	a    *answering
	id   netcode.Fingerprint
	conn netcode.Transport
	err  error
}

// Send relays msg to the peer, in this attempt's envelope. It blocks for
// one round trip to the rendezvous.
func (l *link) Send(ctx context.Context, msg []byte) error {
	kind := byte(kindAnswer)
	if l.offerer {
		kind = kindOffer
	}
	return l.r.signal(ctx, l.peer, kind, l.attempt, msg)
}

// Receive returns the peer's next message for this attempt; a refusal is
// an error holding a *RefusedError.
func (l *link) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m := <-l.in:
		if m.kind == kindRefuse {
			return nil, &RefusedError{ID: l.peer, Name: l.r.s.rosterName(l.peer), Reason: string(m.data)}
		}
		l.peerFlags = m.flags
		return m.data, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// signal sends one signed signal to peer.
func (r *internet) signal(ctx context.Context, peer netcode.Fingerprint, kind byte, attempt uint64, data []byte) error {
	msg, err := sealSignal(r.key, r.certDER, r.s.id, peer, kind, attempt, r.flags, data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return r.currentRoom().Signal(ctx, peer.String(), msg)
}

func (r *internet) currentRoom() *rendezvous.Room {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.room
}

// joinRendezvous creates or joins the session's room; ctx bounds it.
func joinRendezvous(ctx context.Context, cfg *Config, cert tls.Certificate) (*internet, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	hc := &http.Client{Transport: tr}
	client, err := rendezvous.NewClient(cfg.Rendezvous, cert, hc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	key, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: the identity's private key cannot sign", ErrConfig)
	}
	r := &internet{
		key:     key,
		certDER: cert.Certificate[0],
		client:  client,
		http:    hc,
		update:  make(chan struct{}, 1),
		inRoom:  make(map[netcode.Fingerprint]bool),
		links:   make(map[netcode.Fingerprint]*link),
		offers:  make(map[netcode.Fingerprint]offerSeen),
		record:  rendezvous.Record{Version: ProtocolVersion, Seats: cfg.MaxPeers - 1, Players: 1, Name: cfg.DisplayName},
	}
	r.wcfg = webrtc.EngineConfig(webrtc.Config{
		ICEServers:       cfg.ICEServers,
		IPFilter:         testICEFilter,
		HandshakeTimeout: cfg.Net.HandshakeTimeout,
		IdleTimeout:      cfg.Net.IdleTimeout,
	})
	if runtime.GOOS != "js" {
		// Natively the DTLS key is the identity key; a browser makes
		// its own for each connection (the signed SDP vouches for it).
		r.wcfg.Certificate = &cert
		r.flags = flagKeyIsID
	}
	if cfg.Interface != nil {
		keep, err := interfaceAddrs(cfg.Interface)
		if err != nil {
			return nil, err
		}
		if r.wcfg.IPFilter == nil { // tests' loopback filter first
			r.wcfg.IPFilter = func(a netip.Addr) bool { return keep[a] }
		}
	}
	if testJoinHook != nil {
		testJoinHook(cfg, r)
	}
	var room *rendezvous.Room
	if cfg.CreateRoom {
		room, err = client.Create(ctx, cfg.ServiceType, cfg.PublicRoom, r.record)
	} else {
		room, err = client.Join(ctx, cfg.Room, r.record)
	}
	if err != nil {
		tr.CloseIdleConnections()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("lobby: rendezvous: %w", ctx.Err())
		}
		return nil, fmt.Errorf("lobby: rendezvous %s: %w", cfg.Rendezvous, err)
	}
	r.room, r.code = room, room.Code
	return r, nil
}

// interfaceAddrs returns the addresses of ifi, for ICE to gather on.
func interfaceAddrs(ifi *net.Interface) (map[netip.Addr]bool, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, fmt.Errorf("%w: Interface %s: %w", ErrConfig, ifi.Name, err)
	}
	keep := make(map[netip.Addr]bool)
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			keep[p.Addr().Unmap()] = true
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("%w: Interface %s has no address", ErrConfig, ifi.Name)
	}
	return keep, nil
}

// start runs the poll and update loops on the session's goroutines.
func (r *internet) start() bool {
	return r.s.goLive(r.pollLoop) && r.s.goLive(r.updateLoop)
}

// pollLoop long-polls the rendezvous for roster changes and signals until
// the session leaves, then leaves the room. Errors are retried with a
// backoff and never end the session: connected peers do not need the
// rendezvous. A membership the server lost (it expired us after an
// outage, or restarted) is joined again by the room's code; if the room
// is gone (the server restarted: rooms live in its memory), the loop ends
// for good, and RendezvousErr says so. Guessing at a code that does not
// exist would only spend this address's allowance of unknown codes.
func (r *internet) pollLoop() {
	ctx := r.s.ctx
	defer r.leave()
	fails := 0
	for {
		pctx, cancel := context.WithTimeout(ctx, pollTimeout)
		ev, err := r.currentRoom().Poll(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			fails = 0
			r.setErr(nil)
			r.take(ev)
			r.s.signal()
			continue
		}
		r.setErr(err)
		if errors.Is(err, rendezvous.ErrNotMember) {
			err = r.rejoin(ctx)
			if ctx.Err() != nil {
				return
			}
			r.setErr(err)
			if err == nil {
				fails = 0
				continue
			}
			if errors.Is(err, rendezvous.ErrRoomNotFound) {
				r.mu.Lock()
				r.gone = true
				r.mu.Unlock()
				return
			}
		}
		fails++
		if !sleepCtx(ctx, backoff(fails)) {
			return
		}
	}
}

// rejoin joins the room again by its code with the current record.
func (r *internet) rejoin(ctx context.Context) error {
	r.mu.Lock()
	rec := r.record
	r.mu.Unlock()
	jctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	room, err := r.client.Join(jctx, r.code, rec)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.room = room
	r.mu.Unlock()
	return nil
}

// leave ends the membership, best effort within leaveTimeout, and lets
// the HTTP client's idle connections go.
func (r *internet) leave() {
	defer r.http.CloseIdleConnections()
	r.mu.Lock()
	gone := r.gone
	r.mu.Unlock()
	if gone {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	_ = r.currentRoom().Leave(ctx)
}

// updateLoop publishes the wanted record whenever it changes, retrying
// with a backoff, until the session leaves.
func (r *internet) updateLoop() {
	ctx := r.s.ctx
	fails := 0
	for {
		select {
		case <-r.update:
		case <-ctx.Done():
			return
		}
		r.mu.Lock()
		rec, gone := r.record, r.gone
		r.mu.Unlock()
		if gone {
			continue // nobody to tell
		}
		uctx, cancel := context.WithTimeout(ctx, requestTimeout)
		err := r.currentRoom().Update(uctx, rec)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			fails = 0
			continue
		}
		fails++
		r.poke() // again after the backoff
		if !sleepCtx(ctx, backoff(fails)) {
			return
		}
	}
}

// publish sets the record to publish (seats open, players present); the
// update loop sends it. It never blocks.
func (r *internet) publish(seats, players int) {
	r.mu.Lock()
	changed := r.record.Seats != seats || r.record.Players != players
	r.record.Seats, r.record.Players = seats, players
	r.mu.Unlock()
	if changed {
		r.poke()
	}
}

func (r *internet) poke() {
	select {
	case r.update <- struct{}{}:
	default:
	}
}

func (r *internet) setErr(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// take files what one poll brought: the roster for Pump, and each signal
// with its connection attempt. Signals are hostile input: from a sender
// not in the roster, malformed, badly signed, or for no attempt, they are
// dropped.
func (r *internet) take(ev rendezvous.Events) {
	self := r.s.id
	r.mu.Lock()
	if ev.Members != nil {
		ms := ev.Members[:min(len(ev.Members), maxRoster)]
		r.members, r.fresh = ms, true
		clear(r.inRoom)
		for _, m := range ms {
			if id, err := netcode.ParseFingerprint(m.ID); err == nil && id != self {
				r.inRoom[id] = true
			}
		}
	}
	r.mu.Unlock()
	for _, sig := range ev.Signals {
		from, err := netcode.ParseFingerprint(sig.From)
		if err != nil {
			continue
		}
		r.mu.Lock()
		member := r.inRoom[from]
		r.mu.Unlock()
		if !member {
			continue
		}
		m, err := openSignal(sig.Data, from, self) // outside the lock: it verifies a signature
		if err != nil || len(m.data) > webrtc.MaxSignalBytes {
			continue
		}
		r.file(from, m)
	}
}

// file hands a verified signal to its attempt, or keeps an offer for
// Pump.
func (r *internet) file(from netcode.Fingerprint, m signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.links[from]
	switch m.kind {
	case kindOffer:
		// Only a lower identity offers; an offer for the attempt in
		// progress is a duplicate.
		if !from.Less(r.s.id) || (l != nil && l.attempt == m.attempt) {
			return
		}
		r.offers[from] = offerSeen{attempt: m.attempt, flags: m.flags, data: m.data}
	case kindAnswer, kindRefuse:
		if l == nil || !l.offerer || l.attempt != m.attempt {
			return
		}
		select {
		case l.in <- m:
		default: // more than an attempt needs: dropped
		}
	}
}

// newLink starts the signaling of an attempt with peer, replacing any
// earlier attempt's.
func (r *internet) newLink(peer netcode.Fingerprint, attempt uint64, offerer bool) *link {
	l := &link{r: r, peer: peer, attempt: attempt, offerer: offerer, in: make(chan signal, signalQueue)}
	r.mu.Lock()
	r.links[peer] = l
	r.mu.Unlock()
	return l
}

// dropLink ends l's signaling, unless a newer attempt replaced it.
func (r *internet) dropLink(l *link) {
	r.mu.Lock()
	if r.links[l.peer] == l {
		delete(r.links, l.peer)
	}
	r.mu.Unlock()
}

// offer connects to peer as the offerer (this side's identity is the
// lower): a dial, for connectToRecords. It blocks until the connection is
// up, fails, or ctx ends.
func (r *internet) offer(ctx context.Context, peer netcode.Fingerprint) (netcode.Transport, error) {
	l := r.newLink(peer, randomAttempt(), true)
	defer r.dropLink(l)
	return r.connect(ctx, l)
}

// connect runs ConnectPeer over l's signaling. The peer is verified by
// its signed signals, whose SDP names the DTLS certificate the handshake
// must show (WebRTC checks it): that is why the handshake is not pinned
// to the peer's ID, which a browser's per-connection key is not. Where
// the peer says that its DTLS key is its identity key (a native peer) and
// this platform shows the peer's certificate, it must be. A connection
// whose DTLS key is not the peer's ID is handed on with the ID as its
// PeerFingerprint, so that admission and the game see the identity.
func (r *internet) connect(ctx context.Context, l *link) (netcode.Transport, error) {
	wcfg := r.wcfg
	wcfg.ICEServers = iceServers(r.wcfg.ICEServers, r.currentRoom().ICEServers())
	c, err := webrtc.ConnectPeer(ctx, &wcfg, webrtc.PeerOptions{Signaler: l, Offerer: l.offerer, InsecureAcceptAnyPeer: true})
	if err != nil {
		return nil, err
	}
	got := c.PeerFingerprint()
	if got == l.peer {
		return c, nil
	}
	if l.peerFlags&flagKeyIsID != 0 && !got.IsZero() {
		c.CloseWithReason(netcode.CodeProtocolViolation, "DTLS key is not the peer's identity")
		return nil, fmt.Errorf("%w: peer key %s, its identity %s", webrtc.ErrFingerprintMismatch, got, l.peer)
	}
	return &identified{Transport: c, id: l.peer}, nil
}

// iceServers is what a connection attempt's ICE asks: the session's own
// (Config.ICEServers) first, then the rendezvous's (its STUN and TURN,
// with credentials it refreshes while the session polls, so they are read
// afresh for each attempt), at most webrtc.MaxICEServers in all.
func iceServers(own []webrtc.ICEServer, room []rendezvous.ICEServer) []webrtc.ICEServer {
	out := slices.Clip(own)
	for _, s := range room {
		if len(out) >= webrtc.MaxICEServers {
			break
		}
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// identified is a connection whose peer's identity is not its DTLS key (a
// browser's): PeerFingerprint returns the identity its signals proved.
type identified struct {
	netcode.Transport
	id netcode.Fingerprint
}

// PeerFingerprint returns the peer's identity.
func (c *identified) PeerFingerprint() netcode.Fingerprint { return c.id }

// Conn returns the WebRTC connection underneath.
func (c *identified) Conn() *webrtc.Conn { return c.Transport.(*webrtc.Conn) }

// randomAttempt numbers a connection attempt: the answerer tells a new
// attempt from a late signal of an old one by it.
func randomAttempt() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// backoff is the wait after n failures in a row: backoffMin doubling up
// to backoffMax, less up to a quarter at random (so that a room's members
// do not all come back at once).
func backoff(n int) time.Duration {
	d := backoffMax
	if n < 20 {
		d = min(backoffMax, backoffMin<<(n-1))
	}
	j, err := rand.Int(rand.Reader, big.NewInt(int64(d/4)+1))
	if err != nil {
		return d
	}
	return d - time.Duration(j.Int64())
}

// sleepCtx waits d, or until ctx ends (then it reports false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pumpInternet is the internet part of Pump: the newest roster becomes
// the candidates, offers are answered or refused, answers that finished
// are admitted.
func (s *Session) pumpInternet() {
	r := s.rdv
	r.mu.Lock()
	members, fresh := r.members, r.fresh
	r.fresh = false
	var offers map[netcode.Fingerprint]offerSeen
	if len(r.offers) > 0 {
		offers, r.offers = r.offers, make(map[netcode.Fingerprint]offerSeen)
	}
	r.mu.Unlock()
	if fresh {
		s.candidates = candidatesOfRoster(members, s.id)
		s.forgetFailures()
	}
	for {
		select {
		case a := <-s.answers:
			s.answeredOffer(a)
			continue
		default:
		}
		break
	}
	for id, o := range offers {
		s.onOffer(id, o)
	}
}

// candidatesOfRoster turns a roster into candidates: the members of this
// protocol version whose record is their proven ID, other than self, in
// order of identity, each with one target (the zero address: the
// rendezvous relays the offer).
func candidatesOfRoster(ms []rendezvous.Member, self netcode.Fingerprint) []candidate {
	var out []candidate
	seen := make(map[netcode.Fingerprint]bool)
	for _, m := range ms {
		id, err := netcode.ParseFingerprint(m.ID)
		if err != nil || id == self || seen[id] || m.Record.ID != m.ID || m.Record.Version != ProtocolVersion {
			continue
		}
		seen[id] = true
		c := candidate{id: id, name: m.Record.Name, open: m.Record.Seats > 0}
		if c.open {
			c.targets = []netip.AddrPort{{}}
		}
		out = append(out, c)
	}
	sortCandidates(out)
	return out
}

// rosterName is the display name the roster gives id ("" if none). Safe
// from any goroutine.
func (s *Session) rosterName(id netcode.Fingerprint) string {
	r := s.rdv
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.members {
		if m.ID == id.String() {
			return m.Record.Name
		}
	}
	return ""
}

// onOffer answers an offer from a lower identity, or refuses it when no
// seat is free (the refusal travels through the rendezvous, so the
// offerer learns why without a connection being made).
func (s *Session) onOffer(id netcode.Fingerprint, o offerSeen) {
	now := time.Now()
	if s.left || s.closed.Load() || now.Before(s.offerAt.get(id).Add(offerEvery)) {
		return
	}
	s.offerAt.set(id, now)
	var reason string
	switch {
	case s.locked:
		reason = ReasonLocked
	case s.hasAdmitted(id):
		reason = "already connected"
	case s.isFull(), s.answering[id] == nil && len(s.answering)+len(s.admitted) >= s.cfg.MaxPeers-1:
		// No seat, or as many answers in progress as seats: each holds a
		// peer connection until it ends.
		reason = ReasonFull
	}
	if reason != "" {
		r := s.rdv
		s.goLive(func() { _ = r.signal(s.ctx, id, kindRefuse, o.attempt, []byte(reason)) })
		return
	}
	if a := s.answering[id]; a != nil {
		a.cancel() // the offerer gave up that attempt: this one replaces it
	}
	ctx, cancel := context.WithCancel(s.ctx)
	a := &answering{cancel: cancel}
	s.answering[id] = a
	l := s.rdv.newLink(id, o.attempt, false)
	l.in <- signal{kind: kindOffer, attempt: o.attempt, flags: o.flags, data: o.data}
	r := s.rdv
	if !s.goLive(func() {
		defer cancel()
		defer r.dropLink(l)
		c, err := r.connect(ctx, l)
		defer s.signal()
		select {
		case s.answers <- answered{a: a, id: id, conn: c, err: err}:
		case <-ctx.Done():
			if c != nil {
				c.Close()
			}
		}
	}) {
		cancel()
		r.dropLink(l)
		delete(s.answering, id)
	}
}

// answeredOffer adopts the connection an answer made, as a LAN session
// accepts one: the offerer's hello decides its admission.
func (s *Session) answeredOffer(a answered) {
	if s.answering[a.id] != a.a {
		if a.conn != nil {
			a.conn.Close() // abandoned (StopLookingForPeers, a newer offer)
		}
		return
	}
	delete(s.answering, a.id)
	if a.err != nil {
		return
	}
	if s.left {
		a.conn.Close()
		return
	}
	s.adopt(a.conn)
}

// cancelAnswers abandons every answer in progress.
func (s *Session) cancelAnswers() {
	for id, a := range s.answering {
		a.cancel()
		delete(s.answering, id)
	}
}

// Room returns the code of the session's room, which other players pass
// as Config.Room to join it ("" on a LAN session). Safe from any
// goroutine.
func (s *Session) Room() string {
	if s.rdv == nil {
		return ""
	}
	return s.rdv.code
}

// RendezvousErr returns the error of the session's last request to its
// rendezvous, nil if it succeeded (and always on a LAN session): a game
// can show that the room is unreachable, although its connected peers
// play on. It is retried with a backoff; rendezvous.ErrRoomNotFound after
// a restart of the rendezvous means the room is gone for good (new
// players cannot find it). Safe from any goroutine.
func (s *Session) RendezvousErr() error {
	if s.rdv == nil {
		return nil
	}
	s.rdv.mu.Lock()
	defer s.rdv.mu.Unlock()
	return s.rdv.err
}

// joinInternet is Join for an internet session: an identity, an endpoint
// without a socket (every connection is a WebRTC one, adopted by the
// engine server), and the room.
func joinInternet(ctx context.Context, cfg Config) (*Session, error) {
	nc := cfg.Net
	cert, err := sessionCertificate(&nc)
	if err != nil {
		return nil, err
	}
	nc.Certificate = &cert
	nc.Application = engine.ApplicationProtocol(cfg.Codec)
	ep, err := netcode.NewEndpoint(newNoSocket(), engine.EndpointConfig(nc))
	if err != nil {
		return nil, fmt.Errorf("lobby: %w", err)
	}
	cfg.Net = nc
	s, err := join(ctx, cfg, ep, nil)
	if err != nil {
		ep.Close()
		return nil, err
	}
	return s, nil
}

// sessionCertificate is the session's identity: Net.Certificate, else
// Net.KeyFile's key, else a new one.
func sessionCertificate(nc *netcode.Config) (tls.Certificate, error) {
	switch {
	case nc.Certificate != nil:
		return *nc.Certificate, nil
	case nc.KeyFile != "":
		cert, _, err := netcode.LoadKeyFile(nc.KeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("lobby: %w", err)
		}
		return cert, nil
	}
	cert, err := netcode.GenerateCertificate()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lobby: %w", err)
	}
	return cert, nil
}

// noSocket is the packet connection of an internet session's endpoint:
// nothing arrives and nothing is sent (the endpoint never dials), until
// Close.
type noSocket struct {
	once sync.Once
	done chan struct{}
}

func newNoSocket() *noSocket { return &noSocket{done: make(chan struct{})} }

func (n *noSocket) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	<-n.done
	return 0, netip.AddrPort{}, net.ErrClosed
}

func (n *noSocket) WriteToUDPAddrPort([]byte, netip.AddrPort) (int, error) {
	return 0, errors.New("lobby: an internet session has no UDP socket of its own")
}

func (n *noSocket) LocalAddr() net.Addr { return noAddr{} }

func (n *noSocket) Close() error {
	n.once.Do(func() { close(n.done) })
	return nil
}

type noAddr struct{}

func (noAddr) Network() string { return "none" }
func (noAddr) String() string  { return "" }
