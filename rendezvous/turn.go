package rendezvous

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// ServeTURN runs the embedded TURN relay (pion/turn, RFC 8656 over UDP)
// on conn, the socket members reach at Config.TURN.Public. It accepts
// only the credentials the server hands to room members (see
// ICEServer): a new allocation needs one that has not expired
// (Config.CredentialTTL); requests on an existing allocation (refreshes,
// permissions, channels) are accepted with the credential that made it
// after it expires, as coturn does, so a game outlives its credentials.
// Bounds (Config.TURN): allocations in all, per member and per source
// (refused with 486 Allocation Quota Reached), relay ports, allocation
// lifetime, and peers only at addresses AllowPeer keeps; STUN requests
// (allocations, refreshes, permissions, bindings) from one source are
// limited to Config.RequestRate per second (burst Config.RequestBurst),
// relayed data is not. It relays UDP only (RFC 6062 TCP allocations are
// refused). It blocks until conn is closed, then closes the allocations
// it made (waiting up to 2 s for pion/turn to close their sockets) and
// returns nil; a read timeout is returned as an error. It may run beside
// ServeHTTP and ServeSTUN; several calls on different sockets share the
// bounds. It fails at once if Config.TURN.Public is not set.
func (s *Server) ServeTURN(conn net.PacketConn) error {
	t := s.cfg.TURN
	if t.Public == "" {
		return errors.New("rendezvous: ServeTURN needs Config.TURN.Public")
	}
	st := &s.turn
	call := st.newCall()
	tc := &turnConn{
		PacketConn: conn,
		lim:        newLimiter(s.cfg.RequestRate, float64(s.cfg.RequestBurst), s.cfg.MaxTrackedIPs),
		done:       make(chan struct{}),
	}
	gen := &relayGen{
		st: st, max: t.MaxAllocations, minPort: t.MinPort, maxPort: t.MaxPort,
		inner: &turn.RelayAddressGeneratorPortRange{
			RelayAddress: net.IP(t.RelayIP.AsSlice()),
			Address:      t.RelayBind.String(),
			MinPort:      uint16(t.MinPort),
			MaxPort:      uint16(t.MaxPort),
			MaxRetries:   64,
		},
	}
	ts, err := turn.NewServer(turn.ServerConfig{
		Realm:       t.Realm,
		AuthHandler: s.turnAuth,
		QuotaHandler: func(user, _ string, src net.Addr) bool {
			return st.allow(user, src, t)
		},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(src, _ net.Addr, _, user, _ string, _ net.Addr, _ int) {
				st.created(call, src, user)
			},
			OnAllocationDeleted: func(src, _ net.Addr, _, _, _ string) {
				st.deleted(call, src)
			},
		},
		AllocationLifetime: t.Lifetime,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            tc,
			RelayAddressGenerator: gen,
			PermissionHandler: func(_ net.Addr, ip net.IP) bool {
				a, ok := netip.AddrFromSlice(ip)
				return ok && t.AllowPeer(a.Unmap())
			},
		}},
	})
	if err != nil {
		st.endCall(call)
		return fmt.Errorf("rendezvous: turn: %w", err)
	}
	<-tc.done
	ts.Close() // closes conn again: already closed, or it timed out
	st.endCall(call)
	for deadline := time.Now().Add(2 * time.Second); gen.opened() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return tc.err
}

// turnAuth is the TURN server's AuthHandler: it accepts the credentials
// iceServers makes for the embedded TURN. The user ID is the member ID.
func (s *Server) turnAuth(ra *turn.RequestAttributes) (userID string, key []byte, ok bool) {
	expires, id, err := parseTURNUsername(ra.Username)
	if err != nil || ra.Realm != s.cfg.TURN.Realm {
		return "", nil, false
	}
	if ra.Method == stun.MethodAllocate && expires < s.now().Unix() {
		return "", nil, false
	}
	pass := turnPassword(s.cfg.TURN.Secret, ra.Username)
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, pass), true
}

// turnState counts the embedded TURN's allocations for the bounds; one per
// Server, shared by its ServeTURN calls.
type turnState struct {
	mu        sync.Mutex
	calls     uint64
	relays    int // relay sockets open
	allocs    map[allocKey]allocInfo
	perMember map[string]int
	perIP     map[netip.Prefix]int
}

type allocKey struct {
	call uint64 // which ServeTURN
	src  string // the client's transport address
}

type allocInfo struct {
	member string
	ip     netip.Prefix
}

func (st *turnState) newCall() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.calls++
	if st.allocs == nil {
		st.allocs = make(map[allocKey]allocInfo)
		st.perMember = make(map[string]int)
		st.perIP = make(map[netip.Prefix]int)
	}
	return st.calls
}

// allow is the quota check before an allocation is made. pion/turn
// handles one socket's requests in one goroutine, so nothing else of this
// call allocates between the check and created.
func (st *turnState) allow(member string, src net.Addr, t TURNConfig) bool {
	ip, ok := addrSource(src)
	if !ok {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.relays < t.MaxAllocations && st.perMember[member] < t.MaxAllocationsPerMember && st.perIP[ip] < t.MaxAllocationsPerIP
}

func (st *turnState) created(call uint64, src net.Addr, member string) {
	ip, _ := addrSource(src)
	st.mu.Lock()
	defer st.mu.Unlock()
	k := allocKey{call, src.String()}
	if _, dup := st.allocs[k]; dup {
		return
	}
	st.allocs[k] = allocInfo{member, ip}
	st.perMember[member]++
	st.perIP[ip]++
}

func (st *turnState) deleted(call uint64, src net.Addr) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.removeLocked(allocKey{call, src.String()})
}

func (st *turnState) removeLocked(k allocKey) {
	a, ok := st.allocs[k]
	if !ok {
		return
	}
	delete(st.allocs, k)
	if st.perMember[a.member]--; st.perMember[a.member] <= 0 {
		delete(st.perMember, a.member)
	}
	if st.perIP[a.ip]--; st.perIP[a.ip] <= 0 {
		delete(st.perIP, a.ip)
	}
}

// endCall forgets a finished ServeTURN's allocations (pion/turn closes
// them without OnAllocationDeleted).
func (st *turnState) endCall(call uint64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for k := range st.allocs {
		if k.call == call {
			st.removeLocked(k)
		}
	}
}

func (st *turnState) allocations() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.allocs)
}

func addrSource(a net.Addr) (netip.Prefix, bool) {
	ua, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	return sourceKey(ip), true
}

// relayGen makes relay sockets in the port range and counts them: the
// hard bound on allocations, whatever pion/turn's events say.
type relayGen struct {
	st               *turnState
	max              int
	minPort, maxPort int
	inner            *turn.RelayAddressGeneratorPortRange

	mu   sync.Mutex
	open int // this call's sockets
}

var errTURNUDPOnly = errors.New("rendezvous: the TURN relay relays UDP only")

func (g *relayGen) Validate() error { return g.inner.Validate() }

func (g *relayGen) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if c.RequestedPort != 0 && (c.RequestedPort < g.minPort || c.RequestedPort > g.maxPort) {
		return nil, nil, fmt.Errorf("rendezvous: relay port %d outside %d..%d", c.RequestedPort, g.minPort, g.maxPort)
	}
	g.st.mu.Lock()
	if g.st.relays >= g.max {
		g.st.mu.Unlock()
		return nil, nil, fmt.Errorf("rendezvous: %d relays open", g.max)
	}
	g.st.relays++
	g.st.mu.Unlock()
	g.mu.Lock()
	g.open++
	g.mu.Unlock()
	pc, addr, err := g.inner.AllocatePacketConn(c)
	if err != nil {
		g.release()
		return nil, nil, err
	}
	return &relayConn{PacketConn: pc, g: g}, addr, nil
}

func (g *relayGen) release() {
	g.st.mu.Lock()
	g.st.relays--
	g.st.mu.Unlock()
	g.mu.Lock()
	g.open--
	g.mu.Unlock()
}

func (g *relayGen) opened() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

func (g *relayGen) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTURNUDPOnly
}

func (g *relayGen) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTURNUDPOnly
}

// relayConn is a relay socket that gives its count back when closed.
type relayConn struct {
	net.PacketConn
	g    *relayGen
	once sync.Once
}

func (c *relayConn) Close() error {
	err := c.PacketConn.Close()
	c.once.Do(c.g.release)
	return err
}

// turnConn is the socket pion/turn reads: it drops STUN requests over the
// source's rate, skips transient read errors (pion/turn's read loop would
// end on any error) and reports the end of the socket.
type turnConn struct {
	net.PacketConn
	lim  *limiter // only the read loop uses it
	done chan struct{}
	once sync.Once
	err  error
}

func (c *turnConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			var ne net.Error
			if errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && ne.Timeout() {
				c.once.Do(func() {
					if !errors.Is(err, net.ErrClosed) {
						c.err = fmt.Errorf("rendezvous: turn: %w", err)
					}
					close(c.done)
				})
				return 0, nil, err
			}
			continue // e.g. ICMP errors some systems report on UDP sockets
		}
		if isSTUNRequest(p[:n]) {
			ua, ok := from.(*net.UDPAddr)
			if !ok {
				continue
			}
			if ok, _ := c.lim.allow(sourceKey(ua.AddrPort().Addr()), time.Now()); !ok {
				continue
			}
		}
		return n, from, nil
	}
}

// isSTUNRequest reports whether b looks like a STUN request (RFC 8489
// §5: the first two bits 0, class bits 00); ChannelData, indications and
// responses are not.
func isSTUNRequest(b []byte) bool {
	if len(b) < 20 || b[0]&0xC0 != 0 {
		return false
	}
	t := uint16(b[0])<<8 | uint16(b[1])
	return t&0x0110 == 0
}
