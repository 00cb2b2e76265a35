package rendezvous

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server is a rendezvous server: an http.Handler serving the JSON API
// below /v1/ (see doc.go). Create it with NewServer; it is safe for
// concurrent use. Its ServeHTTP blocks for up to Config.PollTimeout on a
// poll and otherwise returns promptly. It runs no goroutines of its own:
// expiry is done as requests arrive.
type Server struct {
	cfg Config
	now func() time.Time

	closed    chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	rooms       map[string]*room
	public      map[string]map[string]*room // service -> code -> room
	byToken     map[[32]byte]*member
	sources     map[netip.Prefix]*sourceState
	nonces      nonces
	reqs        *limiter
	misses      *limiter
	globalMiss  bucket
	queuedTotal int64
	version     uint64 // last roster version handed out
	lastSweep   time.Time

	turn turnState // the embedded TURN's allocations (its own lock)
}

type room struct {
	code    string
	service string
	public  bool
	created time.Time
	members []*member // in joining order
	roster  uint64    // version of members' list and records
}

type member struct {
	id      string
	rec     Record
	creator bool
	room    *room
	token   [32]byte // SHA-256 of the token
	src     netip.Prefix
	last    time.Time
	queue   []Signal
	queued  int // payload bytes in queue
	nextSeq uint64
	polls   int
	wake    chan struct{} // closed and replaced on news
	gone    bool
	iceAt   time.Time // when the member's TURN credentials were made
}

// sourceState counts what one source holds; it is deleted when both are 0.
type sourceState struct {
	members int
	polls   int
}

// NewServer returns a Server with cfg's bounds (zero fields take their
// defaults). It fails only on a negative or inconsistent Config.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:     cfg,
		now:     time.Now,
		closed:  make(chan struct{}),
		rooms:   make(map[string]*room),
		public:  make(map[string]map[string]*room),
		byToken: make(map[[32]byte]*member),
		sources: make(map[netip.Prefix]*sourceState),
		nonces:  nonces{ttl: cfg.NonceTTL, max: cfg.MaxNonces, issued: make(map[string]time.Time)},
		reqs:    newLimiter(cfg.RequestRate, float64(cfg.RequestBurst), cfg.MaxTrackedIPs),
		misses:  newLimiter(cfg.MissesPerMinute/60, float64(cfg.MissBurst), cfg.MaxTrackedIPs),
		globalMiss: bucket{
			tokens: globalMissBurst(cfg.GlobalMissesPerMinute),
			last:   time.Now(),
		},
	}, nil
}

// missQuiet is how long after its last unknown code a source stays bound
// by Config.GlobalMissesPerMinute.
const missQuiet = 10 * time.Minute

func globalMissBurst(perMinute float64) float64 {
	return max(1, float64(int(perMinute/10)))
}

// Close wakes every waiting poll (they answer empty at once) and makes
// later polls answer without waiting, so an http.Server's Shutdown ends
// promptly. Rooms stay. It is idempotent and does not block.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// Stats is a snapshot of a Server's state.
type Stats struct {
	Rooms       int   // rooms held
	Members     int   // members in all rooms
	Nonces      int   // nonces outstanding (expired ones may still count)
	QueuedBytes int64 // signal payload bytes waiting
	Sources     int   // sources tracked by the request rate limiter
	// TURNAllocations is the embedded TURN's allocations (ServeTURN).
	TURNAllocations int
}

// Stats returns a snapshot of s's state. It is goroutine-safe and does not
// block beyond s's lock.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Rooms: len(s.rooms), Nonces: len(s.nonces.issued), QueuedBytes: s.queuedTotal, Sources: len(s.reqs.buckets)}
	for _, r := range s.rooms {
		st.Members += len(r.members)
	}
	st.TURNAllocations = s.turn.allocations()
	return st
}

// ServeHTTP serves the rendezvous API. See the package documentation for
// the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", s.cfg.AllowOrigin)
	h.Set("Cache-Control", "no-store")
	src, err := sourceOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	ok, tracked := s.reqs.allow(src, now)
	s.mu.Unlock()
	if !tracked {
		writeError(w, fmt.Errorf("%w: too many sources tracked", ErrServerFull))
		return
	}
	if !ok {
		writeError(w, fmt.Errorf("%w: over %g requests/s from %v", ErrRateLimited, s.cfg.RequestRate, src))
		return
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var resp any
	switch {
	case r.URL.Path == "/v1/rooms" && r.Method == http.MethodGet:
		resp, err = s.list(r.URL.Query().Get("service"), now)
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, errorResponse{Code: "bad_request", Error: "method not allowed"})
		return
	default:
		var body []byte
		body, err = readBody(w, r, s.cfg.MaxBodyBytes)
		if err != nil {
			break
		}
		switch r.URL.Path {
		case "/v1/nonce":
			resp, err = s.nonce(now)
		case "/v1/create":
			resp, err = s.create(body, r.Host, src)
		case "/v1/join":
			resp, err = s.join(body, r.Host, src)
		case "/v1/signal":
			resp, err = s.signal(body)
		case "/v1/update":
			resp, err = s.update(body)
		case "/v1/poll":
			resp, err = s.poll(r.Context(), body, src)
		case "/v1/leave":
			resp, err = s.leave(body)
		default:
			writeJSON(w, http.StatusNotFound, errorResponse{Code: "bad_request", Error: "no such endpoint"})
			return
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func sourceOf(r *http.Request) (netip.Prefix, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: remote address %q", ErrBadRequest, r.RemoteAddr)
	}
	return sourceKey(ap.Addr()), nil
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrTooLarge, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
	}
	return body, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code, name := status(err)
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, errorResponse{Code: name, Error: err.Error()})
}

// sweepLocked removes expired members (and so empty rooms) and nonces, at
// most once a second.
func (s *Server) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < time.Second {
		return
	}
	s.lastSweep = now
	s.nonces.sweep(now)
	for _, r := range s.rooms {
		for _, m := range slices.Clone(r.members) {
			if m.polls == 0 && now.Sub(m.last) >= s.cfg.MemberTimeout {
				s.removeLocked(m)
			}
		}
	}
}

func (s *Server) nonce(now time.Time) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	n, err := s.nonces.issue(now)
	if err != nil {
		return nil, err
	}
	return nonceResponse{Nonce: n, TTLMs: s.cfg.NonceTTL.Milliseconds()}, nil
}

// prove checks p for host: the nonce is consumed first (single-use, even
// when the rest fails), then the signature is verified outside the lock.
// It returns the proven ID with rec checked against it.
func (s *Server) prove(p proof, host string, rec Record) (Record, error) {
	s.mu.Lock()
	fresh := s.nonces.take(p.Nonce, s.now())
	s.mu.Unlock()
	if !fresh {
		return rec, fmt.Errorf("%w: nonce unknown, used or expired", ErrProof)
	}
	id, err := verifySignature(p, host)
	if err != nil {
		return rec, err
	}
	if rec.ID != "" && rec.ID != id {
		return rec, fmt.Errorf("%w: record ID %.16s… is not the proven key %.16s…", ErrProof, rec.ID, id)
	}
	rec.ID = id
	return rec, nil
}

func (s *Server) create(body []byte, host string, src netip.Prefix) (any, error) {
	req, err := parseCreate(body)
	if err != nil {
		return nil, err
	}
	rec, err := s.prove(req.Proof, host, req.Record)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.rooms) >= s.cfg.MaxRooms {
		return nil, fmt.Errorf("%w: %d rooms", ErrServerFull, s.cfg.MaxRooms)
	}
	if err := s.sourceRoomLocked(src); err != nil {
		return nil, err
	}
	code := ""
	for range 16 {
		c := newCode()
		if s.rooms[c] == nil {
			code = c
			break
		}
	}
	if code == "" { // 16 collisions: the code space is nearly full
		return nil, fmt.Errorf("%w: no free room code", ErrServerFull)
	}
	r := &room{code: code, service: req.Service, public: req.Public, created: now}
	s.rooms[code] = r
	if r.public {
		if s.public[r.service] == nil {
			s.public[r.service] = make(map[string]*room)
		}
		s.public[r.service][code] = r
	}
	return s.addLocked(r, rec, true, src, now), nil
}

// sourceRoomLocked checks that src may hold one more membership.
func (s *Server) sourceRoomLocked(src netip.Prefix) error {
	if st := s.sources[src]; st != nil && st.members >= s.cfg.MaxMembersPerIP {
		return fmt.Errorf("%w: %d memberships from %v", ErrServerFull, s.cfg.MaxMembersPerIP, src)
	}
	return nil
}

func newCode() string {
	var b [CodeLen]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = CodeAlphabet[b[i]%32] // 256 is a multiple of 32: uniform
	}
	return string(b[:])
}

// addLocked makes rec's member of r, replacing a member with the same ID.
func (s *Server) addLocked(r *room, rec Record, creator bool, src netip.Prefix, now time.Time) joinResponse {
	for _, old := range r.members {
		if old.id == rec.ID {
			creator = creator || old.creator
			s.removeLocked(old)
			break
		}
	}
	var tok [32]byte
	rand.Read(tok[:])
	token := base64.RawURLEncoding.EncodeToString(tok[:])
	m := &member{
		id: rec.ID, rec: rec, creator: creator, room: r, token: sha256.Sum256([]byte(token)),
		src: src, last: now, wake: make(chan struct{}),
	}
	if s.rooms[r.code] == nil { // the replaced member was the last one
		s.rooms[r.code] = r
		if r.public {
			if s.public[r.service] == nil {
				s.public[r.service] = make(map[string]*room)
			}
			s.public[r.service][r.code] = r
		}
	}
	r.members = append(r.members, m)
	s.byToken[m.token] = m
	st := s.sources[src]
	if st == nil {
		st = &sourceState{}
		s.sources[src] = st
	}
	st.members++
	s.rosterChangedLocked(r)
	m.iceAt = now
	return joinResponse{Code: r.code, ID: m.id, Token: token, ICEServers: s.iceServers(m.id, now)}
}

// removeLocked takes m out of its room (and the room out of the server
// when it was the last member), drops its queue and wakes its polls.
func (s *Server) removeLocked(m *member) {
	if m.gone {
		return
	}
	m.gone = true
	close(m.wake)
	r := m.room
	r.members = slices.DeleteFunc(r.members, func(x *member) bool { return x == m })
	delete(s.byToken, m.token)
	s.queuedTotal -= int64(m.queued)
	m.queue, m.queued = nil, 0
	if st := s.sources[m.src]; st != nil {
		st.members--
		if st.members == 0 && st.polls == 0 {
			delete(s.sources, m.src)
		}
	}
	if len(r.members) == 0 {
		delete(s.rooms, r.code)
		if r.public {
			delete(s.public[r.service], r.code)
			if len(s.public[r.service]) == 0 {
				delete(s.public, r.service)
			}
		}
		return
	}
	s.rosterChangedLocked(r)
}

func (s *Server) rosterChangedLocked(r *room) {
	s.version++
	r.roster = s.version
	for _, m := range r.members {
		m.wakeLocked()
	}
}

func (m *member) wakeLocked() {
	close(m.wake)
	m.wake = make(chan struct{})
}

func (s *Server) join(body []byte, host string, src netip.Prefix) (any, error) {
	req, err := parseJoin(body)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	s.sweepLocked(now)
	// A source with no misses left is refused every join, hit or miss, so
	// it cannot tell a hit from a refusal and guess on at its request rate.
	ok, tracked := s.misses.allow(src, now)
	if !tracked {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: too many sources tracked", ErrServerFull)
	}
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: over %g unknown room codes/min from %v", ErrRateLimited, s.cfg.MissesPerMinute, src)
	}
	// The server-wide allowance binds only sources that missed within
	// missQuiet: players typing a right code are not locked out by
	// guessers elsewhere, and each source gets one guess past it per
	// missQuiet at most.
	b := s.misses.buckets[src]
	exempt := b.lastMiss.IsZero() || now.Sub(b.lastMiss) >= missQuiet
	burst := globalMissBurst(s.cfg.GlobalMissesPerMinute)
	if !exempt && !s.globalMiss.take(now, s.cfg.GlobalMissesPerMinute/60, burst) {
		s.misses.refund(src)
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: over %g unknown room codes/min server-wide", ErrRateLimited, s.cfg.GlobalMissesPerMinute)
	}
	r := s.rooms[req.Code]
	if r == nil {
		b.lastMiss = now
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: room %s", ErrRoomNotFound, req.Code)
	}
	// A hit: give the tokens back.
	s.misses.refund(src)
	if !exempt {
		s.globalMiss.tokens = min(s.globalMiss.tokens+1, burst)
	}
	s.mu.Unlock()

	rec, err := s.prove(req.Proof, host, req.Record)
	if err != nil {
		return nil, err
	}
	now = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[req.Code] != r { // it went meanwhile
		return nil, fmt.Errorf("%w: room %s", ErrRoomNotFound, req.Code)
	}
	replacing := slices.ContainsFunc(r.members, func(m *member) bool { return m.id == rec.ID })
	if !replacing && len(r.members) >= s.cfg.MaxMembers {
		return nil, fmt.Errorf("%w: %d members", ErrRoomFull, s.cfg.MaxMembers)
	}
	if err := s.sourceRoomLocked(src); err != nil {
		return nil, err
	}
	return s.addLocked(r, rec, false, src, now), nil
}

// memberLocked returns the member holding token.
func (s *Server) memberLocked(token string, now time.Time) (*member, error) {
	s.sweepLocked(now)
	m := s.byToken[sha256.Sum256([]byte(token))]
	if m == nil {
		return nil, fmt.Errorf("%w: unknown token", ErrNotMember)
	}
	m.last = now
	return m, nil
}

func (s *Server) signal(body []byte) (any, error) {
	req, err := parseSignal(body, s.cfg.MaxSignalBytes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	from, err := s.memberLocked(req.Token, now)
	if err != nil {
		return nil, err
	}
	if req.To == from.id {
		return nil, badf("a signal to oneself")
	}
	i := slices.IndexFunc(from.room.members, func(m *member) bool { return m.id == req.To })
	if i < 0 {
		return nil, fmt.Errorf("%w: no member %.16s… in room %s", ErrRoomNotFound, req.To, from.room.code)
	}
	to := from.room.members[i]
	if len(to.queue) >= s.cfg.MaxQueuedSignals || to.queued+len(req.Data) > s.cfg.MaxQueuedBytes {
		return nil, fmt.Errorf("%w: %d signals, %d bytes waiting (limits %d, %d)", ErrQueueFull,
			len(to.queue), to.queued, s.cfg.MaxQueuedSignals, s.cfg.MaxQueuedBytes)
	}
	if s.queuedTotal+int64(len(req.Data)) > s.cfg.MaxQueuedTotal {
		return nil, fmt.Errorf("%w: %d signal bytes waiting server-wide", ErrServerFull, s.queuedTotal)
	}
	to.nextSeq++
	to.queue = append(to.queue, Signal{Seq: to.nextSeq, From: from.id, Data: req.Data})
	to.queued += len(req.Data)
	s.queuedTotal += int64(len(req.Data))
	to.wakeLocked()
	return struct{}{}, nil
}

func (s *Server) update(body []byte) (any, error) {
	req, err := parseUpdate(body)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.memberLocked(req.Token, now)
	if err != nil {
		return nil, err
	}
	if req.Record.ID != "" && req.Record.ID != m.id {
		return nil, fmt.Errorf("%w: record ID is not the member's proven key", ErrProof)
	}
	req.Record.ID = m.id
	m.rec = req.Record
	s.rosterChangedLocked(m.room)
	return struct{}{}, nil
}

func (s *Server) leave(body []byte) (any, error) {
	req, err := parseLeave(body)
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.memberLocked(req.Token, now)
	if err != nil {
		return nil, err
	}
	s.removeLocked(m)
	return struct{}{}, nil
}

func (s *Server) poll(ctx context.Context, body []byte, src netip.Prefix) (any, error) {
	req, err := parsePoll(body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.memberLocked(req.Token, s.now())
	if err != nil {
		return nil, err
	}
	// Forget what the member acknowledged.
	n := 0
	for n < len(m.queue) && m.queue[n].Seq <= req.Ack {
		m.queued -= len(m.queue[n].Data)
		s.queuedTotal -= int64(len(m.queue[n].Data))
		n++
	}
	m.queue = slices.Delete(m.queue, 0, n)
	var timer <-chan time.Time
	for {
		resp := pollResponse{Roster: m.room.roster}
		if m.room.roster != req.Roster {
			resp.Members = rosterOf(m.room)
		}
		if len(m.queue) > 0 {
			resp.Signals = slices.Clone(m.queue)
		}
		if resp.Members != nil || resp.Signals != nil || timer != nil && isDone(timer) {
			return s.withICELocked(resp, m), nil
		}
		select {
		case <-s.closed:
			return s.withICELocked(resp, m), nil
		default:
		}
		if m.polls >= s.cfg.MaxPollsPerMember {
			return nil, fmt.Errorf("%w: %d polls waiting for this member", ErrRateLimited, m.polls)
		}
		st := s.sources[src]
		if st != nil && st.polls >= s.cfg.MaxPollsPerIP {
			return nil, fmt.Errorf("%w: %d polls waiting from %v", ErrRateLimited, st.polls, src)
		}
		if st == nil {
			st = &sourceState{}
			s.sources[src] = st
		}
		if timer == nil {
			timer = time.After(s.cfg.PollTimeout)
		}
		m.polls++
		st.polls++
		wake := m.wake
		s.mu.Unlock()
		var done bool
		select {
		case <-wake:
		case <-timer:
			done = true
		case <-ctx.Done():
			done = true
		case <-s.closed:
			done = true
		}
		s.mu.Lock()
		m.polls--
		st.polls--
		if st.members == 0 && st.polls == 0 {
			delete(s.sources, src)
		}
		m.last = s.now()
		if m.gone {
			return nil, fmt.Errorf("%w: left the room", ErrNotMember)
		}
		if done {
			resp := pollResponse{Roster: m.room.roster}
			if m.room.roster != req.Roster {
				resp.Members = rosterOf(m.room)
			}
			resp.Signals = slices.Clone(m.queue)
			return s.withICELocked(resp, m), nil
		}
	}
}

// withICELocked adds fresh ICE servers to a poll answer when m's TURN
// credentials are a third of Config.CredentialTTL old: answers come at
// least every PollTimeout (at most half the TTL), so a member that polls
// always holds valid credentials, even if one answer is lost.
func (s *Server) withICELocked(resp pollResponse, m *member) pollResponse {
	now := s.now()
	if s.iceOffered() && now.Sub(m.iceAt) >= s.cfg.CredentialTTL/3 {
		m.iceAt = now
		resp.ICEServers = s.iceServers(m.id, now)
	}
	return resp
}

func isDone(c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func rosterOf(r *room) []Member {
	out := make([]Member, len(r.members))
	for i, m := range r.members {
		out[i] = Member{ID: m.id, Record: m.rec, Creator: m.creator}
	}
	return out
}

func (s *Server) list(service string, now time.Time) (any, error) {
	if err := checkService(service); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	rooms := make([]*room, 0, len(s.public[service]))
	for _, r := range s.public[service] {
		rooms = append(rooms, r)
	}
	slices.SortFunc(rooms, func(a, b *room) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(a.code, b.code)
	})
	if len(rooms) > s.cfg.MaxListed {
		rooms = rooms[:s.cfg.MaxListed]
	}
	out := listResponse{Rooms: make([]RoomInfo, len(rooms))}
	for i, r := range rooms {
		c := r.members[0]
		for _, m := range r.members {
			if m.creator {
				c = m
				break
			}
		}
		out.Rooms[i] = RoomInfo{Code: r.code, Members: len(r.members), MaxMembers: s.cfg.MaxMembers, Creator: c.rec}
	}
	return out, nil
}
