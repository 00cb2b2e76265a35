package lobby

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// Peer is another member of the session: an engine peer whose Name is
// the peer's display name and whose Fingerprint is its identity. Send,
// Request, Stats and the rest work as on any engine peer.
type Peer = engine.Peer

// CodeRefused is the close code a peer that refuses an offer uses:
// netcode's, so the refused side's error matches netcode.ErrRefused, as
// an engine server's accept hook makes it. The reason says why (full,
// locked, Config.Accept's error, a bad hello).
const CodeRefused = netcode.CodeRefused

// Refusal reasons, as the refused peer sees them in its close reason.
const (
	ReasonFull   = "session full"
	ReasonLocked = "session locked"
)

// Refusals. PeerRefused's reason is a *RefusedError that matches one of
// these with errors.Is.
var (
	ErrRefused       = errors.New("lobby: refused")
	ErrSessionFull   = fmt.Errorf("%w: %s", ErrRefused, ReasonFull)
	ErrSessionLocked = fmt.Errorf("%w: %s", ErrRefused, ReasonLocked)
)

// RefusedError says which peer refused this one, and why. It matches
// ErrRefused (and netcode.ErrRefused, as an engine server's refusal
// does), and ErrSessionFull or ErrSessionLocked for those reasons.
type RefusedError struct {
	ID     netcode.Fingerprint
	Name   string // from the peer's advertisement, if known
	Reason string
}

func (e *RefusedError) Error() string {
	who := e.Name
	if who == "" {
		who = e.ID.String()[:8]
	}
	return fmt.Sprintf("lobby: refused by %s: %s", who, e.Reason)
}

// Is matches ErrRefused and the sentinel of its reason.
func (e *RefusedError) Is(target error) bool {
	switch target {
	case ErrRefused, netcode.ErrRefused:
		return true
	case ErrSessionFull:
		return e.Reason == ReasonFull
	case ErrSessionLocked:
		return e.Reason == ReasonLocked
	}
	return false
}

// helloTimeout is how long a connection may go without its hello before
// the session closes it.
const helloTimeout = 10 * time.Second

// redialAfter is how long a failed dial waits before the same address is
// tried again for the same identity, and how long a peer that refused or
// left waits before it is dialed again.
const redialAfter = 5 * time.Second

// hello is the first message on every connection of a session (reserved
// action "_hello"): who the sender is and its initial data.
type hello struct {
	Action  string `msgpack:"action" json:"action"`
	Version int    `msgpack:"v" json:"v"`
	ID      string `msgpack:"id" json:"id"`
	Name    string `msgpack:"name" json:"name"`
	Data    []byte `msgpack:"data" json:"data"`
}

const helloAction = "_hello"

type peerState struct {
	since    time.Time // when the connection came up
	id       netcode.Fingerprint
	outbound bool           // this session dialed it
	via      netip.AddrPort // where it was dialed, if outbound
	admitted bool
	initial  []byte
}

type dialResult struct {
	dial   *dialing
	target dialTarget
	conn   netcode.Transport
	err    error
}

// dialing is a dial in progress: it holds a seat until its result is
// taken (dialed), and StopLookingForPeers cancels it.
type dialing struct {
	cancel context.CancelFunc
}

// dialTarget is one address at which to dial one identity. Records are
// hints (anyone on the LAN can advertise any identity at any address) and
// the authenticated connection is the truth, so a failed dial backs off
// that target only, not the identity: the next Pump tries the identity's
// next target at once. The identity is part of the key so that a record
// naming someone else's address for a made-up identity cannot delay
// dialing the real owner of that address.
type dialTarget struct {
	id   netcode.Fingerprint
	addr netip.AddrPort
}

// candidate is what the current records say about one identity: its
// display name (from its first sighting), whether any sighting offers a
// seat, and where to dial it (the usable addresses of its sightings that
// offer a seat, IPv4 first).
type candidate struct {
	id      netcode.Fingerprint
	name    string
	open    bool
	targets []netip.AddrPort
}

// Session is one peer's membership of a session of 2-8 peers, on a LAN or
// in a rendezvous room (Config.Rendezvous), in which every pair holds
// exactly one connection (the lower identity dials, or offers). Its
// methods must be called from the goroutine that calls Pump, except Close
// and Wake, which are safe from any goroutine, also while Pump or PumpWait
// runs (the same contract as engine.Server).
type Session struct {
	cfg     Config
	id      netcode.Fingerprint
	ep      *netcode.Endpoint
	srv     *engine.Server
	admit   *engine.Admission // only the session admits peers (Server() cannot)
	codec   codec.Codec
	backend discovery.Backend // nil on an internet session
	rdv     *internet         // nil on a LAN session
	service string
	initial []byte

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	dials  chan dialResult

	answering map[netcode.Fingerprint]*answering // internet: answers in progress
	answers   chan answered                      // internet: their results
	offerAt   memo                               // internet: when each peer's last offer was taken

	// Close runs on any goroutine, beside Pump. lifeMu orders it with
	// what the Pump goroutine starts: goroutines (wg.Add) and the
	// advertisement (adv). Once closed is set nothing new starts.
	lifeMu    sync.Mutex
	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{} // closed when Close begins: PumpWait returns

	adv        discovery.Advertisement // under lifeMu
	browse     <-chan []discovery.Record
	records    []discovery.Record
	candidates []candidate // from records, by identity
	states     map[*Peer]*peerState
	admitted   []*Peer                          // sorted by identity
	pending    map[netcode.Fingerprint]*dialing // dials in progress, each holding a seat
	retry      memo                             // peers that left or refused: not before
	failed     map[dialTarget]time.Time         // last failed dial of each target still in records
	full       memo                             // full sessions already reported: when
	known      memo                             // peers this session was in a session with: when they left
	refusals   tokenBucket                      // PeerRefused(nil, ...) events from records
	locked     bool
	left       bool
	host       netcode.Fingerprint

	listeners       []any
	streamListeners int // listeners with StreamReceived
	streams         map[*Peer]map[string]*Stream
	undrained       []*Stream // closed streams of removed peers holding unread bytes, oldest first
	scratch         []byte    // stream chunks are decoded into it

	wake     chan struct{} // capacity 1: discovery or dial results arrived
	recsMu   sync.Mutex
	latest   []discovery.Record // newest browse snapshot, taken by Pump
	haveRecs bool
}

// Join starts a session: it listens, advertises itself on the LAN and
// browses for peers of the same service type; with Config.Rendezvous, it
// creates or joins a room of that rendezvous instead (see the package
// doc's "Over the internet"), blocking for the round trips that takes. It
// does not wait for peers,
// which arrive through Pump (PeerAdded); it blocks only while it sets up
// its socket and discovery. ctx bounds that setup, as a net.Dialer's ctx
// bounds a dial: if ctx is done before or while Join runs, Join undoes
// what it started and returns an error matching ctx.Err(); once Join has
// returned, ctx's end does not affect the session (Close ends it), though
// ctx's values reach discovery for the session's lifetime.
func Join(ctx context.Context, cfg Config) (*Session, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lobby: join: %w", err)
	}
	if cfg.internet() {
		return joinInternet(ctx, cfg)
	}
	nc := cfg.Net
	nc.Application = engine.ApplicationProtocol(cfg.Codec) // peers of another codec are closed at connect
	ep, err := netcode.Listen(cfg.ListenAddr, engine.EndpointConfig(nc))
	if err != nil {
		return nil, fmt.Errorf("lobby: %w", err)
	}
	s, err := join(ctx, cfg, ep, &discovery.MDNS{Interface: cfg.Interface})
	if err != nil {
		ep.Close()
		return nil, err
	}
	return s, nil
}

// join is Join with the endpoint and discovery backend given (tests use an
// in-memory network and registry). A nil backend makes an internet
// session: it joins cfg's rendezvous room as cfg.Net.Certificate.
func join(ctx context.Context, cfg Config, ep *netcode.Endpoint, backend discovery.Backend) (*Session, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	initial, err := encodeInitial(&cfg)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lobby: join: %w", err)
	}
	service, _ := discovery.ServiceName(cfg.ServiceType)
	s := &Session{
		cfg:       cfg,
		id:        ep.Fingerprint(),
		ep:        ep,
		codec:     cfg.Codec,
		backend:   backend,
		service:   service,
		dials:     make(chan dialResult, 16),
		answers:   make(chan answered, 16),
		offerAt:   newMemo(),
		answering: make(map[netcode.Fingerprint]*answering),
		states:    make(map[*Peer]*peerState),
		pending:   make(map[netcode.Fingerprint]*dialing),
		retry:     newMemo(),
		failed:    make(map[dialTarget]time.Time),
		full:      newMemo(),
		known:     newMemo(),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	s.initial = initial
	// The session's hooks are not the server's OnConnect/OnDisconnect,
	// which stay the game's: Server() cannot replace them, and the game's
	// hooks and connected/disconnected handlers see admitted peers only.
	s.srv, s.admit = engine.NewSessionServer(ep, &engine.ServerConfig{Codec: s.codec, SkipGreeting: true, Gate: s.gate},
		engine.SessionHooks{Connect: s.onConnect, Disconnect: s.onDisconnect})
	s.host = s.id
	// The session outlives Join's ctx but keeps its values (for the
	// discovery backend and the dials).
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	// A failed join stops everything it started (the server's wake-up
	// relay, the browse loop, the forwarder) and waits for it. Closing
	// the server closes the endpoint too.
	fail := func(err error) (*Session, error) {
		s.left = true
		s.cancel()
		s.srv.Close()
		s.wg.Wait()
		s.drainBrowse()
		return nil, err
	}
	if backend == nil {
		if s.rdv, err = joinRendezvous(ctx, &s.cfg, *cfg.Net.Certificate); err != nil {
			return fail(err)
		}
		s.rdv.s = s
		if !s.rdv.start() {
			return fail(errors.New("lobby: closed while joining"))
		}
	} else if s.browse, err = backend.Browse(s.ctx, service, cfg.PollInterval); err != nil {
		return fail(fmt.Errorf("lobby: browse: %w", err))
	}
	s.wg.Add(1)
	go s.forward()
	if err := s.advertise(ctx); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("lobby: join: %w", err))
	}
	return s, nil
}

// encodeInitial encodes cfg.InitialData for the hello, checking its size.
func encodeInitial(cfg *Config) ([]byte, error) {
	if cfg.InitialData == nil {
		return nil, nil
	}
	b, err := cfg.Codec.Append(nil, initialEnvelope{Action: "_initial", Data: cfg.InitialData})
	if err != nil {
		return nil, fmt.Errorf("%w: InitialData: %w", ErrConfig, err)
	}
	if len(b) > MaxInitialDataSize {
		return nil, fmt.Errorf("%w: InitialData encodes to %d bytes, at most %d", ErrConfig, len(b), MaxInitialDataSize)
	}
	return b, nil
}

// initialEnvelope carries InitialData through the codec (which wants an
// action): the peer decodes Data.
type initialEnvelope struct {
	Action string `msgpack:"action" json:"action"`
	Data   any    `msgpack:"data" json:"data"`
}

// ID returns this peer's identity.
func (s *Session) ID() netcode.Fingerprint { return s.id }

// Name returns this peer's display name.
func (s *Session) Name() string { return s.cfg.DisplayName }

// Addr returns the address the session listens on (zero on an internet
// session: its connections are WebRTC's, on ports ICE picks).
func (s *Session) Addr() netip.AddrPort { return s.ep.AddrPort() }

// Server returns the engine server that carries the session's peers (for
// engine.HandleFunc and the like). It is an engine.NewSessionServer: the
// session admits peers, so the server's Peers, the game's OnConnect and
// OnDisconnect set on it, and its "connected" and "disconnected" handlers
// see admitted peers only (connected just before PeerAdded, with the
// peer's Name set; disconnected just after PeerRemoved); and nothing set
// on it replaces the session's own hooks. Its methods belong to the Pump
// goroutine, as the session's do.
func (s *Session) Server() *engine.Server { return s.srv }

// Register adds a listener. Its Network_<action>(p *Peer, m) methods receive
// messages as on an engine server; its PeerAdded(p *Peer),
// PeerRemoved(p *Peer, reason error), PeerRefused(p *Peer, reason error),
// HostChanged(host netcode.Fingerprint) and
// StreamReceived(p *Peer, stream string, data []byte) methods, if any,
// receive the session's events, inside Pump. A panic in one of those is
// recovered and reported as an "error" event (see the package doc's
// Callbacks).
//
// StreamReceived takes stream data (Multipeer's stream_receive): once a
// listener has it, every chunk from a peer, on any of its streams, goes to
// it in the order sent (on a fixed-size stream exactly one chunk of
// ChunkSize bytes a call), and is no longer kept for Stream.Read; bytes
// buffered before stay readable. data is valid only during the call: the
// session reuses its memory, so copy what must be kept. Chunks are handed
// over as Pump takes each message from the connection, with no queue of
// their own.
//
// Mistakes are errors here, not silence: Register(nil), a listener with
// none of these methods (ErrNoHandlers), and an event method with another
// signature, e.g. PeerRemoved(p *Peer) (engine.ErrBadHandler, naming the
// method, its signature and the one wanted), register nothing.
func (s *Session) Register(obj any) error {
	if err := checkListener(obj); err != nil {
		return err
	}
	if hasNetworkMethods(obj) {
		if err := s.srv.Register(obj); err != nil {
			return err
		}
	}
	s.listeners = append(s.listeners, obj)
	if _, ok := obj.(interface {
		StreamReceived(*Peer, string, []byte)
	}); ok {
		s.streamListeners++
	}
	return nil
}

// Handle adds a handler for one action ("" for all), taking (*Peer, Msg) or
// (*Peer, T).
func (s *Session) Handle(action string, fn any) error { return s.srv.Handle(action, fn) }

// HandleFunc registers a typed handler on a session.
func HandleFunc[T any](s *Session, action string, fn func(*Peer, T)) error {
	return engine.HandleFunc(s.srv, action, fn)
}

// listenerEvents are the session's event methods and the signatures
// Register accepts for them.
var listenerEvents = []struct {
	name string
	typ  reflect.Type
}{
	{"PeerAdded", reflect.TypeFor[func(*Peer)]()},
	{"PeerRemoved", reflect.TypeFor[func(*Peer, error)]()},
	{"PeerRefused", reflect.TypeFor[func(*Peer, error)]()},
	{"HostChanged", reflect.TypeFor[func(netcode.Fingerprint)]()},
	{"StreamReceived", reflect.TypeFor[func(*Peer, string, []byte)]()},
}

// checkListener refuses what Register could not call: nil, a value with
// neither event nor Network methods, and an event method with another
// signature (it would never be called, silently).
func checkListener(obj any) error {
	if obj == nil {
		return fmt.Errorf("%w: Register(nil)", engine.ErrBadHandler)
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("%w: Register(nil %T)", engine.ErrBadHandler, obj)
	}
	t := reflect.TypeOf(obj)
	var bad []string
	found := false
	for _, ev := range listenerEvents {
		m, ok := t.MethodByName(ev.name)
		if !ok {
			continue
		}
		found = true
		if got := m.Func.Type(); got.NumIn() < 1 || !funcTypeWithoutReceiver(got).AssignableTo(ev.typ) {
			bad = append(bad, fmt.Sprintf("(%v).%s has signature %v, want %v", t, ev.name, funcTypeWithoutReceiver(got), ev.typ))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", engine.ErrBadHandler, strings.Join(bad, "; "))
	}
	if !found && !hasNetworkMethods(obj) {
		return fmt.Errorf("%w: %T has no PeerAdded, PeerRemoved, PeerRefused, HostChanged, StreamReceived or Network methods (check that they are exported and on the receiver type you registered)", engine.ErrNoHandlers, obj)
	}
	return nil
}

// funcTypeWithoutReceiver returns the type of method m's function without
// its receiver parameter.
func funcTypeWithoutReceiver(m reflect.Type) reflect.Type {
	in := make([]reflect.Type, 0, m.NumIn()-1)
	for i := 1; i < m.NumIn(); i++ {
		in = append(in, m.In(i))
	}
	out := make([]reflect.Type, 0, m.NumOut())
	for i := range m.NumOut() {
		out = append(out, m.Out(i))
	}
	return reflect.FuncOf(in, out, m.IsVariadic())
}

func hasNetworkMethods(obj any) bool {
	t := reflect.TypeOf(obj)
	for i := range t.NumMethod() {
		if strings.HasPrefix(t.Method(i).Name, "Network") {
			return true
		}
	}
	return false
}

// Peers returns the peers in the session (admitted: connected and hello
// received), ordered by identity. The slice is a copy.
func (s *Session) Peers() []*Peer { return slices.Clone(s.admitted) }

// Peer returns the admitted peer with identity id, or nil.
func (s *Session) Peer(id netcode.Fingerprint) *Peer {
	for _, p := range s.admitted {
		if p.Fingerprint() == id {
			return p
		}
	}
	return nil
}

// InitialData decodes a peer's initial data (its Config.InitialData) into
// v, a pointer.
func (s *Session) InitialData(p *Peer, v any) error {
	st := s.states[p]
	if st == nil || len(st.initial) == 0 {
		return errors.New("lobby: no initial data from that peer")
	}
	return decodeInitial(s.codec, st.initial, v)
}

// decodeInitial decodes an initialEnvelope's Data into v (a pointer),
// through a struct type made for v's type so the codec decodes straight
// into it.
func decodeInitial(c codec.Codec, b []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("lobby: InitialData needs a non-nil pointer")
	}
	env := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "Action", Type: reflect.TypeFor[string](), Tag: `msgpack:"action" json:"action"`},
		{Name: "Data", Type: rv.Elem().Type(), Tag: `msgpack:"data" json:"data"`},
	}))
	if err := c.Decode(b, env.Interface()); err != nil {
		return fmt.Errorf("lobby: initial data: %w", err)
	}
	rv.Elem().Set(env.Elem().Field(1))
	return nil
}

// ErrNotPeer is returned by Send for a peer that is not in
// the session: nil, one not yet admitted, one removed, or another
// session's.
var ErrNotPeer = errors.New("lobby: not a peer of this session")

// Send sends msg (a Msg or a struct with an Action field) to every peer
// of the session, or to those the options pick: engine.To(peers...),
// engine.Except(peers...), and a delivery mode (engine.Unreliable, ...;
// default engine.ReliableOrdered), as engine.Server.Send. A peer in To
// that is not in the session is an error wrapping ErrNotPeer; the others
// still get msg (it returns the first error). Options that contradict
// each other are an error wrapping engine.ErrSendOption. It never blocks
// and does not allocate in steady state; call it from the Pump goroutine.
func (s *Session) Send(msg any, opts ...engine.SendOption) error {
	toAt := -1
	for i, o := range opts {
		if r, ok := o.(engine.Recipients); ok && !r.Except {
			toAt = i
			break // a second To is the engine's error
		}
	}
	if toAt < 0 {
		// Every admitted peer, not the pending ones the server holds.
		return s.sendWith(msg, opts, len(opts), engine.To(s.admitted...))
	}
	to := opts[toAt].(engine.Recipients).Peers
	i := slices.IndexFunc(to, func(p *Peer) bool { return !s.isMember(p) })
	if i < 0 {
		return s.srv.Send(msg, opts...) // the usual case: no copy
	}
	name := "nil"
	if to[i] != nil {
		name = to[i].Name
	}
	members := slices.DeleteFunc(slices.Clone(to), func(p *Peer) bool { return !s.isMember(p) })
	if err := s.sendWith(msg, opts, toAt, engine.To(members...)); err != nil {
		return err
	}
	return fmt.Errorf("%w: peer %q", ErrNotPeer, name)
}

// sendWith is the server's Send with opts, where opts[at] is replaced by
// to (or to is added, when at is len(opts)). The cases are spelled out so
// that no option is copied to the heap: Send allocates nothing. More than
// three options always hold a mistake.
func (s *Session) sendWith(msg any, opts []engine.SendOption, at int, to engine.Recipients) error {
	o := func(i int) engine.SendOption {
		if i == at {
			return to
		}
		return opts[i]
	}
	n := len(opts)
	if at == n {
		n++
	}
	switch n {
	case 1:
		return s.srv.Send(msg, o(0))
	case 2:
		return s.srv.Send(msg, o(0), o(1))
	case 3:
		return s.srv.Send(msg, o(0), o(1), o(2))
	}
	return fmt.Errorf("%w: %d options (a mode, To and Except at most)", engine.ErrSendOption, len(opts))
}

// Host returns the session's host: the lowest identity among this peer and
// the peers it is connected to. Every peer agrees once the mesh is complete.
func (s *Session) Host() netcode.Fingerprint { return s.host }

// IsHost reports whether this peer is the host.
func (s *Session) IsHost() bool { return s.host == s.id }

// Locked reports whether the session stopped looking for peers.
func (s *Session) Locked() bool { return s.locked }

// StopLookingForPeers locks the seats: the session stops advertising,
// dials no one new, and refuses new offers with "session locked". Peers
// already admitted are unaffected; admissions in progress are abandoned
// (dials cancelled, connections not yet admitted closed with "session
// locked"), so no peer is added after it returns until
// StartLookingForPeers. A peer that had already admitted this one on its
// side sees it removed.
func (s *Session) StopLookingForPeers() {
	if s.locked {
		return
	}
	s.locked = true
	s.stopAdvertising()
	s.abandonAdmissions(ReasonLocked)
}

// stopAdvertising stops the advertisement, if any; an internet session
// publishes 0 seats instead (it stays in its room's roster). Safe beside
// Close.
func (s *Session) stopAdvertising() {
	if s.rdv != nil {
		s.rdv.publish(0, len(s.admitted)+1)
		return
	}
	s.lifeMu.Lock()
	adv := s.adv
	s.adv = nil
	s.lifeMu.Unlock()
	if adv != nil {
		_ = adv.Stop()
	}
}

// abandonAdmissions cancels every dial in progress and closes every
// connection not yet admitted, releasing the seats they held.
func (s *Session) abandonAdmissions(reason string) {
	for id, d := range s.pending {
		d.cancel()
		delete(s.pending, id)
	}
	s.cancelAnswers()
	for ch, st := range s.states {
		if !st.admitted {
			s.refuse(ch, reason)
		}
	}
}

// StartLookingForPeers reopens a locked session.
func (s *Session) StartLookingForPeers() error {
	if !s.locked || s.left {
		return nil
	}
	s.locked = false
	return s.advertise(s.ctx)
}

// Disconnect leaves the session: every peer is told and will see
// PeerRemoved; advertising and browsing stop. Pump delivers this peer's own
// PeerRemoved events for the peers it left.
func (s *Session) Disconnect() {
	if s.left {
		return
	}
	s.left = true
	s.locked = true
	s.stopAdvertising()
	s.cancel()
	clear(s.pending)   // cancelled with s.ctx
	clear(s.answering) // likewise
	for ch := range s.states {
		ch.Close()
	}
}

// Close ends everything at once (Multipeer's end_all): it stops
// advertising and browsing, cancels dials, closes every connection (each
// peer is told and removes this one) and the socket. Like
// engine.Server.Close it discards what was not yet delivered: peers whose
// reliable messages were not all acknowledged see a close matching
// netcode.ErrUnsentData; Shutdown is the graceful way. It blocks until
// nothing the session started still runs (goroutines, socket,
// advertisement) and unblocks a PumpWait in progress; the next Pump
// delivers PeerRemoved for the peers left. Safe from any goroutine, also
// while Pump or PumpWait runs; idempotent (later calls wait for the first
// and return nil).
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel() // first: an Advertise in progress (under lifeMu) ends
		s.lifeMu.Lock()
		s.closed.Store(true) // nothing new starts
		close(s.done)
		adv := s.adv
		s.adv = nil
		s.lifeMu.Unlock()
		if adv != nil {
			_ = adv.Stop()
		}
		err = s.srv.CloseWithReason("") // the dials in flight, the browse loop and the forwarder end with s.ctx
		s.wg.Wait()
		s.drainBrowse()
		if s.rdv != nil {
			s.rdv.http.CloseIdleConnections()
		}
		s.signal() // a Pump delivers the removals
	})
	return err
}

// Shutdown leaves gracefully: it stops advertising and dialing, waits (at
// most until ctx ends) until every peer acknowledged this peer's reliable
// messages, closes every connection with reason (each peer's PeerRemoved
// reason carries it), then closes as Close does. It returns ctx's error
// if ctx ended first (the session is closed anyway). It blocks; call it
// from the Pump goroutine, like engine.Server.Shutdown.
func (s *Session) Shutdown(ctx context.Context, reason string) error {
	s.locked = true // no admission from here on
	s.stopAdvertising()
	for id, d := range s.pending {
		d.cancel()
		delete(s.pending, id)
	}
	s.cancelAnswers()
	err := s.srv.Shutdown(ctx, reason)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// drainBrowse waits, once the session's context is cancelled, until the
// discovery backend's browse loop has ended (it closes its channel then;
// an mDNS query in flight lasts its timeout whatever the context says), so
// that nothing the session started outlives Close or a failed Join.
func (s *Session) drainBrowse() {
	if s.browse == nil {
		return
	}
	for range s.browse {
	}
}

// advertise starts advertising the session's record, or updates it; ctx
// bounds the start.
func (s *Session) advertise(ctx context.Context) error {
	if s.locked || s.left {
		return nil
	}
	if s.rdv != nil {
		s.rdv.publish(s.seatsOpen(), len(s.admitted)+1)
		return nil
	}
	rec := s.record()
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed.Load() {
		return nil
	}
	if s.adv != nil {
		return s.adv.Update(rec)
	}
	adv, err := s.backend.Advertise(ctx, s.service, rec)
	if err != nil {
		return fmt.Errorf("lobby: advertise: %w", err)
	}
	s.adv = adv
	return nil
}

func (s *Session) record() discovery.Record {
	id := s.id.String()
	ap := s.ep.AddrPort()
	var addrs []netip.Addr
	if ap.Addr().IsValid() && !ap.Addr().IsUnspecified() {
		addrs = []netip.Addr{ap.Addr().Unmap()} // else the backend uses the interface's
	}
	return discovery.Record{
		Instance: id[:16],
		Addrs:    addrs,
		Port:     ap.Port(),
		ID:       id,
		Version:  ProtocolVersion,
		Seats:    s.seatsOpen(),
		Name:     s.cfg.DisplayName,
	}
}

// seatsOpen is the number of seats advertised: MaxPeers less this peer
// and the admitted peers. Seats held for admissions in progress are not
// subtracted, so the advertisement does not flap with every dial.
func (s *Session) seatsOpen() int { return max(0, s.cfg.MaxPeers-1-len(s.admitted)) }

// seatsTaken counts the seats held: admitted peers, dials in progress, and
// dialed connections waiting for the other side's hello. It never exceeds
// MaxPeers-1: a seat is reserved before a dial, and an offer is refused
// when none is free.
func (s *Session) seatsTaken() int {
	n := len(s.admitted) + len(s.pending)
	for _, st := range s.states {
		if st.outbound && !st.admitted {
			n++
		}
	}
	return n
}

// isFull reports whether every seat is taken, reserved ones included.
func (s *Session) isFull() bool { return s.seatsTaken() >= s.cfg.MaxPeers-1 }

// forward takes browse snapshots and engine wake-ups and turns them into
// the session's own wake-ups, until the session leaves.
func (s *Session) forward() {
	defer s.wg.Done()
	for {
		select {
		case recs, ok := <-s.browse:
			if !ok {
				return
			}
			s.recsMu.Lock()
			s.latest, s.haveRecs = recs, true
			s.recsMu.Unlock()
			s.signal()
		case <-s.srv.Wake():
			s.signal()
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wake returns a channel that receives a value (capacity 1, coalesced)
// whenever there is something for Pump to do: messages, connections,
// discovery results. Safe from any goroutine.
func (s *Session) Wake() <-chan struct{} { return s.wake }

// Pump runs everything that happened since the last call on the caller's
// goroutine: discovery, new connections, hellos, messages to handlers,
// peers added and removed. It never blocks.
func (s *Session) Pump() {
	if s.rdv != nil {
		s.pumpInternet()
	}
	s.recsMu.Lock()
	if s.haveRecs {
		s.records, s.haveRecs = s.latest, false
		s.candidates = candidatesOf(s.records, s.id)
		s.forgetFailures()
	}
	s.recsMu.Unlock()
	s.retry.forgetBefore(time.Now()) // a retry time that passed is no restriction
	for {
		select {
		case r := <-s.dials:
			s.dialed(r)
			continue
		default:
		}
		break
	}
	s.connectToRecords()
	s.closeSilent()
	s.srv.Pump()
}

// PumpWait sleeps until there is something to do, ctx ends or timeout
// passes (timeout <= 0: no limit), then Pumps, as engine.Server.PumpWait
// does. Something to do includes the session's own timers (a connection
// whose hello is overdue, a peer to dial again after its backoff), so a
// game that only calls PumpWait(ctx, 0) misses none. It blocks; call it
// from the Pump goroutine.
func (s *Session) PumpWait(ctx context.Context, timeout time.Duration) {
	if due := s.nextDue(); !due.IsZero() {
		if d := max(time.Until(due), time.Millisecond); timeout <= 0 || d < timeout {
			timeout = d
		}
	}
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
	case <-s.done:
	}
	s.Pump()
}

// nextDue returns when Pump next has timed work of the session's own (zero:
// none): a connection not yet admitted reaching helloTimeout, a candidate's
// redial backoff or a failed target's backoff ending. PumpWait sleeps no
// longer than that.
func (s *Session) nextDue() time.Time {
	var due time.Time
	sooner := func(t time.Time) {
		if due.IsZero() || t.Before(due) {
			due = t
		}
	}
	for p, st := range s.states {
		if !st.admitted && p.Conn().Err() == nil {
			sooner(st.since.Add(helloTimeout + time.Millisecond)) // closeSilent: past the timeout
		}
	}
	if s.locked || s.left {
		return due
	}
	now := time.Now()
	for _, c := range s.candidates {
		if t := s.retry.get(c.id); t.After(now) {
			sooner(t)
		}
		for _, a := range c.targets {
			if f, ok := s.failed[dialTarget{c.id, a}]; ok && f.Add(redialAfter).After(now) {
				sooner(f.Add(redialAfter))
			}
		}
	}
	return due
}

// connectToRecords dials the peers this session must dial (lower identity
// dials) and reports full sessions it cannot join. Records are hints: for
// each identity it dials one target at a time (nextTarget), and the
// handshake, which pins the identity, decides whether the peer is there.
func (s *Session) connectToRecords() {
	if s.locked || s.left || s.closed.Load() {
		return
	}
	now := time.Now()
	for i := range s.candidates {
		c := &s.candidates[i]
		id := c.id
		if s.pending[id] != nil || s.connectedTo(id) || now.Before(s.retry.get(id)) {
			continue
		}
		if !c.open {
			// Every sighting of it says 0 seats (one that offers a seat
			// outweighs any number that do not, so a neighbour cannot
			// make a peer look full). A full session we were never part
			// of refuses us; a peer we were with may still advertise its
			// old 0 seats as it leaves.
			if !s.full.has(id) && !s.known.has(id) {
				s.full.set(id, now)
				if s.refusals.take(now) {
					s.emitRefused(nil, &RefusedError{ID: id, Name: c.name, Reason: ReasonFull})
				}
			}
			continue
		}
		s.full.del(id)
		if !s.id.Less(id) || s.isFull() {
			continue // the other side dials, or no seat for it here
		}
		t, ok := s.nextTarget(c, now)
		if !ok {
			continue // every target backs off
		}
		ctx, cancel := context.WithCancel(s.ctx)
		d := &dialing{cancel: cancel}
		s.pending[id] = d // holds a seat until dialed takes the result
		if !s.goLive(func() {
			defer cancel()
			conn, err := s.dial(ctx, t)
			defer s.signal()
			select {
			case s.dials <- dialResult{d, t, conn, err}:
			case <-ctx.Done():
				if conn != nil {
					conn.Close()
				}
			}
		}) {
			cancel() // Close began on another goroutine
			delete(s.pending, id)
			return
		}
	}
}

// dial connects to t: over netcode on a LAN; on an internet session with
// ConnectPeer, as the offerer. A failed dial returns a nil conn.
func (s *Session) dial(ctx context.Context, t dialTarget) (netcode.Transport, error) {
	if s.rdv != nil {
		return s.rdv.offer(ctx, t.id)
	}
	c, err := s.ep.Dial(ctx, t.addr, netcode.DialOptions{Fingerprint: t.id})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// goLive runs f on a goroutine that Close waits for, unless Close began:
// then it reports false and runs nothing.
func (s *Session) goLive(f func()) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed.Load() {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// nextTarget returns the target to dial c at: one whose last dial did not
// fail within redialAfter, never tried first, then the one that failed
// longest ago, then in c's order. Taking turns matters: a dial to an
// address where nothing answers fails only after the handshake timeout
// (10 s), longer than the backoff, so "the first target not backing off"
// would let two silent records of a neighbour's take turns ahead of the
// real one forever. Each silent target ahead of the real one delays it by
// one handshake timeout.
func (s *Session) nextTarget(c *candidate, now time.Time) (dialTarget, bool) {
	var best dialTarget
	var bestFailed time.Time
	found := false
	for _, a := range c.targets {
		t := dialTarget{c.id, a}
		f, tried := s.failed[t]
		if tried && now.Before(f.Add(redialAfter)) {
			continue
		}
		if !found || f.Before(bestFailed) {
			best, bestFailed, found = t, f, true
		}
	}
	return best, found
}

// forgetFailures forgets the failed dials of targets that the records no
// longer name, so that the map stays as small as the records.
func (s *Session) forgetFailures() {
	if len(s.failed) == 0 {
		return
	}
	named := make(map[dialTarget]bool)
	for _, c := range s.candidates {
		for _, a := range c.targets {
			named[dialTarget{c.id, a}] = true
		}
	}
	for t := range s.failed {
		if !named[t] {
			delete(s.failed, t)
		}
	}
}

// candidatesOf groups records into candidates, one per identity other than
// self, in order of identity. Only records of this protocol version that
// can be dialed count (usableRecord): the others are not sightings of a
// peer, whatever they claim.
func candidatesOf(recs []discovery.Record, self netcode.Fingerprint) []candidate {
	recs = slices.Clone(recs) // backends sort them; the session does not rely on it
	slices.SortStableFunc(recs, discovery.CompareRecords)
	var out []candidate
	index := make(map[netcode.Fingerprint]int)
	for _, r := range recs {
		if r.Version != ProtocolVersion || !usableRecord(r) {
			continue
		}
		id, err := netcode.ParseFingerprint(r.ID)
		if err != nil || id == self {
			continue
		}
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, candidate{id: id, name: r.Name})
		}
		if r.Seats > 0 {
			out[i].open = true
			out[i].targets = appendTargets(out[i].targets, r)
		}
	}
	for i := range out {
		slices.SortStableFunc(out[i].targets, ipv4First)
	}
	sortCandidates(out)
	return out
}

// sortCandidates orders candidates by identity.
func sortCandidates(cs []candidate) {
	slices.SortFunc(cs, func(a, b candidate) int { return compareFP(a.id, b.id) })
}

// usableRecord reports whether r could be dialed at all: a port, a seat
// count that is not negative and an address that is a host
// (discovery.UsableAddr). Browse never reports anything else, but the
// session does not trust its backend: dialing a broadcast or multicast
// address would spray cookie requests over the LAN.
func usableRecord(r discovery.Record) bool {
	return r.Port != 0 && r.Seats >= 0 && slices.ContainsFunc(r.Addrs, discovery.UsableAddr)
}

// appendTargets appends to dst the usable addresses of r with r's port
// (IPv4-mapped addresses unmapped), skipping those dst holds already.
func appendTargets(dst []netip.AddrPort, r discovery.Record) []netip.AddrPort {
	if r.Port == 0 {
		return dst
	}
	for _, a := range r.Addrs {
		if !discovery.UsableAddr(a) {
			continue
		}
		if t := netip.AddrPortFrom(a.Unmap(), r.Port); !slices.Contains(dst, t) {
			dst = append(dst, t)
		}
	}
	return dst
}

// ipv4First orders IPv4 targets before IPv6 ones (and keeps the order
// otherwise, with a stable sort).
func ipv4First(a, b netip.AddrPort) int {
	family := func(t netip.AddrPort) int {
		if t.Addr().Is4() {
			return 4
		}
		return 6
	}
	return cmp.Compare(family(a), family(b))
}

// closeSilent closes connections that never sent their hello: a peer may
// not hold a connection open without joining.
func (s *Session) closeSilent() {
	now := time.Now()
	for ch, st := range s.states {
		if !st.admitted && now.Sub(st.since) > helloTimeout && ch.Conn().Err() == nil {
			s.refuse(ch, "no hello within "+helloTimeout.String())
		}
	}
}

// pickAddr returns where to dial rec: its first usable IPv4 address, else
// its first usable address, with its port; false if there is none.
func pickAddr(rec discovery.Record) (netip.AddrPort, bool) {
	ts := appendTargets(nil, rec)
	if len(ts) == 0 {
		return netip.AddrPort{}, false
	}
	slices.SortStableFunc(ts, ipv4First)
	return ts[0], true
}

func (s *Session) connectedTo(id netcode.Fingerprint) bool {
	for ch, st := range s.states {
		if st.id == id && ch.Conn().Err() == nil {
			return true
		}
	}
	return false
}

func (s *Session) dialed(r dialResult) {
	if s.pending[r.target.id] != r.dial {
		// Abandoned (StopLookingForPeers, Disconnect): its seat was
		// released then, and it must not be admitted now.
		if r.conn != nil {
			r.conn.Close()
		}
		return
	}
	delete(s.pending, r.target.id)
	var refused *RefusedError
	if errors.As(r.err, &refused) {
		// An internet peer refused the offer through the rendezvous (no
		// seat, locked): as a refusal on a connection on the LAN.
		s.retry.set(r.target.id, time.Now().Add(redialAfter))
		s.emitRefused(nil, refused)
		return
	}
	if r.err != nil {
		// That address did not answer for that identity (silent, or
		// another key: an impostor's record, or a stale one): back off it
		// and let connectToRecords try the identity's next target.
		s.failed[r.target] = time.Now()
		return
	}
	if s.left || s.locked {
		r.conn.Close()
		return
	}
	ch := s.adopt(r.conn)
	if st := s.states[ch]; st != nil {
		st.outbound = true
		st.id = r.target.id
		st.via = r.target.addr
		s.sendHello(ch)
	}
}

// adopt hands a connection to the engine server. The server hears of
// its netcode connections' traffic through the endpoint; for another
// transport's (an internet session's WebRTC ones) a goroutine relays the
// connection's wake-ups, so that PumpWait returns when a message arrives.
func (s *Session) adopt(c netcode.Transport) *Peer {
	if _, native := c.(*netcode.Conn); !native {
		s.goLive(func() {
			for {
				select {
				case <-c.Wake():
					s.signal()
				case <-c.Done():
					s.signal()
					return
				case <-s.ctx.Done():
					return
				}
			}
		})
	}
	return s.srv.Adopt(c)
}

// onConnect registers every new peer (accepted or adopted) as pending.
func (s *Session) onConnect(p *Peer) {
	s.states[p] = &peerState{id: p.Fingerprint(), since: time.Now()}
}

func (s *Session) sendHello(p *Peer) {
	_ = p.Send(hello{Action: helloAction, Version: ProtocolVersion, ID: s.id.String(),
		Name: s.cfg.DisplayName, Data: s.initial})
}

// gate sees every message before the handlers: it takes hellos and holds
// back everything from peers not yet admitted.
func (s *Session) gate(p *Peer, payload []byte) bool {
	act, err := s.codec.Action(payload)
	if err != nil {
		return false
	}
	st := s.states[p]
	switch {
	case act == helloAction:
		if st != nil && !st.admitted {
			s.onHello(p, st, payload)
		}
		return false
	case st == nil || !st.admitted:
		return false
	case act == streamAction:
		s.onStream(p, payload)
		return false
	}
	return true
}

func (s *Session) refuse(p *Peer, reason string) {
	p.Conn().CloseWithReason(CodeRefused, reason)
}

func (s *Session) onHello(ch *Peer, st *peerState, payload []byte) {
	if ch.Conn().Err() != nil {
		// Closed (refused, abandoned at lock, or gone): a hello that was
		// already on its way admits nothing.
		return
	}
	var h hello
	if err := s.codec.Decode(payload, &h); err != nil {
		s.refuse(ch, "malformed hello")
		return
	}
	claimed, err := netcode.ParseFingerprint(h.ID)
	switch {
	case h.Version != ProtocolVersion:
		s.refuse(ch, fmt.Sprintf("protocol version %d, want %d", h.Version, ProtocolVersion))
		return
	case err != nil || claimed != ch.Fingerprint():
		// The identity a peer claims must be the key it proved in the
		// handshake.
		s.refuse(ch, "claimed identity does not match the certificate")
		return
	case ValidateDisplayName(h.Name) != nil:
		s.refuse(ch, "invalid display name")
		return
	case len(h.Data) > MaxInitialDataSize:
		s.refuse(ch, "initial data too large")
		return
	}
	if st.outbound {
		// The answer to our offer: the other side admitted us. The seat
		// was reserved when we dialed, and StopLookingForPeers closed
		// this connection if it came first; refusing here anyway keeps
		// the rule local. A refusal closes the connection, and the other
		// side removes us.
		switch {
		case s.left || s.locked:
			s.refuse(ch, ReasonLocked)
			return
		case len(s.admitted) >= s.cfg.MaxPeers-1:
			s.refuse(ch, ReasonFull)
			return
		case s.hasAdmitted(claimed):
			s.refuse(ch, "already connected")
			return
		}
	} else {
		// An offer: vet it, then answer with our own hello.
		var reason string
		switch {
		case !claimed.Less(s.id):
			reason = "wrong direction: the lower identity dials"
		case s.left || s.locked:
			reason = ReasonLocked
		case s.isFull():
			reason = ReasonFull
		case s.hasAdmitted(claimed):
			reason = "already connected"
		case s.cfg.Accept != nil:
			reason = s.askAccept(ch, Offer{ID: claimed, Name: h.Name, initialData: h.Data, codec: s.codec})
		}
		if reason != "" {
			s.refuse(ch, reason)
			return
		}
		s.sendHello(ch)
		// Out before the game's hooks run: if they panic, the engine
		// closes the connection, which discards what is still queued,
		// and the peer would never learn it was answered (it saw the
		// session as removed only when an acknowledgement timer happened
		// to flush the hello first).
		ch.Conn().Flush()
	}
	ch.Name = h.Name
	if err := s.admit.Admit(ch); err != nil {
		// The game's OnConnect or "connected" handler panicked: the
		// engine closed the connection (and reported it); the session
		// never counts the peer.
		return
	}
	st.admitted = true
	st.initial = h.Data
	i, _ := slices.BinarySearchFunc(s.admitted, claimed, func(p *Peer, id netcode.Fingerprint) int {
		return compareFP(p.Fingerprint(), id)
	})
	s.admitted = slices.Insert(s.admitted, i, ch)
	s.openDeclared(ch) // Config.Streams exist before PeerAdded
	s.full.del(claimed)
	s.known.set(claimed, time.Now())
	hostChanged := s.updateHost() // Host() is current inside PeerAdded
	s.emit("PeerAdded", ch, func(l any) {
		if h, ok := l.(interface{ PeerAdded(*Peer) }); ok {
			h.PeerAdded(ch)
		}
	})
	s.seatsChanged(hostChanged)
}

func (s *Session) hasAdmitted(id netcode.Fingerprint) bool { return s.Peer(id) != nil }

// isMember reports whether p is an admitted peer of this session (false
// for nil, for a peer being admitted, for a removed one and for another
// session's).
func (s *Session) isMember(p *Peer) bool {
	st := s.states[p]
	return p != nil && st != nil && st.admitted
}

// recordName is the display name a peer advertises, if known: that of the
// sighting that led to via (where the peer was dialed and answered with its
// key), else that of its first sighting (discovery.CompareRecords). It is a
// hint like any record.
func (s *Session) recordName(id netcode.Fingerprint, via netip.AddrPort) string {
	if s.rdv != nil {
		return s.rosterName(id)
	}
	var first *discovery.Record
	for i := range s.records {
		r := &s.records[i]
		if r.ID != id.String() || r.Version != ProtocolVersion || !usableRecord(*r) {
			continue
		}
		if via.IsValid() && slices.Contains(appendTargets(nil, *r), via) {
			return r.Name
		}
		if first == nil || discovery.CompareRecords(*r, *first) < 0 {
			first = r
		}
	}
	if first == nil {
		return ""
	}
	return first.Name
}

func (s *Session) onDisconnect(ch *Peer, reason error) {
	st := s.states[ch]
	delete(s.states, ch)
	if st == nil {
		return
	}
	s.closeStreams(ch)
	if st.admitted {
		s.admitted = slices.DeleteFunc(s.admitted, func(p *Peer) bool { return p == ch })
		// Its advertisement outlives it by a few polls: do not dial it
		// back from that stale record.
		now := time.Now()
		s.retry.set(st.id, now.Add(redialAfter))
		s.known.set(st.id, now)
		hostChanged := s.updateHost()
		s.emit("PeerRemoved", ch, func(l any) {
			if h, ok := l.(interface{ PeerRemoved(*Peer, error) }); ok {
				h.PeerRemoved(ch, reason)
			}
		})
		s.seatsChanged(hostChanged)
		return
	}
	var ce *netcode.CloseError
	if errors.As(reason, &ce) && ce.Remote && ce.Code == CodeRefused {
		s.retry.set(st.id, time.Now().Add(redialAfter))
		s.emitRefused(ch, &RefusedError{ID: st.id, Name: s.recordName(st.id, st.via), Reason: ce.Reason})
	}
}

func (s *Session) emitRefused(p *Peer, reason error) {
	s.emit("PeerRefused", p, func(l any) {
		if h, ok := l.(interface{ PeerRefused(*Peer, error) }); ok {
			h.PeerRefused(p, reason)
		}
	})
}

// updateHost recomputes the host and reports whether it changed.
func (s *Session) updateHost() bool {
	host := s.id
	if len(s.admitted) > 0 && s.admitted[0].Fingerprint().Less(host) {
		host = s.admitted[0].Fingerprint()
	}
	changed := host != s.host
	s.host = host
	return changed
}

// seatsChanged re-advertises the open seats and announces a new host.
func (s *Session) seatsChanged(hostChanged bool) {
	_ = s.advertise(s.ctx)
	if hostChanged {
		host := s.host
		s.emit("HostChanged", nil, func(l any) {
			if h, ok := l.(interface{ HostChanged(netcode.Fingerprint) }); ok {
				h.HostChanged(host)
			}
		})
	}
}

// emit delivers the event named event (about ch, nil for none) to every
// listener; call runs one listener's method, if it has it. A panic in a
// listener is recovered and reported as an "error" event (engine.Guard):
// the other listeners still get the event and the session carries on.
func (s *Session) emit(event string, p *Peer, call func(l any)) {
	for _, l := range s.listeners {
		_ = s.srv.Guard(p, event, fmt.Sprintf("(%T).%s", l, event), func() { call(l) })
	}
}

// askAccept runs the Accept hook on an offer and returns the refusal
// reason, "" to accept. A panicking hook refuses the peer ("accept hook
// failed") and is reported as an "error" event.
func (s *Session) askAccept(p *Peer, o Offer) string {
	var err error
	if perr := s.srv.Guard(p, "Accept", "Config.Accept", func() { err = s.cfg.Accept(o) }); perr != nil {
		return "accept hook failed"
	}
	if err == nil {
		return ""
	}
	if reason := err.Error(); reason != "" {
		return reason
	}
	return "refused"
}

func compareFP(a, b netcode.Fingerprint) int {
	switch {
	case a == b:
		return 0
	case a.Less(b):
		return -1
	}
	return 1
}
