// Package floodtest is a handshake-slot attacker for tests. It speaks the
// address-validation exchange of netcode/PROTOCOL.md §1.1 as an attacker
// would, from many real UDP sockets on 127.0.0.0/8 (Linux routes all of
// 127/8 to the loopback interface, so any 127.x.y.z can be bound without
// touching an interface): each socket asks for a cookie, gets a valid one
// (its address is real), then sends a cookie-wrapped payload — garbage, or
// a real ClientHello — and never continues the handshake.
//
// It implements the wire format itself (as an attacker would) and does not
// import netcode, so that netcode's own tests can use it.
package floodtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Wire constants of PROTOCOL.md §1.1.
const (
	typeCookieRequest = 0x40
	typeCookie        = 0x41
	typeCookieDTLS    = 0x42
	cookieRequestLen  = 64
	cookieLen         = 24
	cookieReplyLen    = 1 + cookieLen
)

// Kind is what an attacking socket sends after its valid cookie.
type Kind int

// Attack kinds.
const (
	// Garbage is a DTLS-looking first byte (22, handshake) followed by
	// random bytes: the 300-datagram attack of issue 12.
	Garbage Kind = iota
	// Hello is a real, syntactically valid ClientHello (Config.Hello),
	// after which the socket goes silent.
	Hello
)

func (k Kind) String() string {
	if k == Hello {
		return "hello"
	}
	return "garbage"
}

// Config describes one flood.
type Config struct {
	Target  netip.AddrPort
	IPs     []netip.Addr // source addresses, used round-robin
	Sockets int          // half-open handshakes to attempt (one socket each)
	Kind    Kind
	Hello   []byte        // the bare DTLS ClientHello, for Kind Hello
	Resend  time.Duration // each socket repeats its datagram this often (0: never)
	PadTo   int           // COOKIE_DTLS size on the wire; default 1200
	Seed    uint64
}

// Flood is a running flood. Stop ends it (t.Cleanup also does).
type Flood struct {
	cfg     Config
	socks   []*net.UDPConn
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	ready   sync.WaitGroup
	cookies atomic.Int64
	sent    atomic.Int64
	recv    atomic.Int64
}

// LoopbackIPs returns n distinct addresses 127.77.x.y and checks that one
// can be bound here (t.Skip, saying why, if not).
func LoopbackIPs(t testing.TB, n int) []netip.Addr {
	t.Helper()
	out := make([]netip.Addr, n)
	for i := range n {
		out[i] = netip.AddrFrom4([4]byte{127, 77, byte(i / 250), byte(i%250 + 1)})
	}
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(out[n-1], 0)))
	if err != nil {
		t.Skipf("cannot bind %v (127.0.0.0/8 is not all loopback here): %v", out[n-1], err)
	}
	uc.Close()
	return out
}

// Start opens cfg.Sockets sockets, each completes the cookie exchange and
// sends its payload. It returns at once; Ready waits until every socket
// got its cookie and sent its first datagram.
func Start(t testing.TB, cfg Config) *Flood {
	t.Helper()
	if cfg.PadTo == 0 {
		cfg.PadTo = 1200
	}
	if cfg.Kind == Hello && len(cfg.Hello) == 0 {
		t.Fatal("floodtest: Kind Hello needs Config.Hello")
	}
	f := &Flood{cfg: cfg, stop: make(chan struct{})}
	for i := range cfg.Sockets {
		ip := cfg.IPs[i%len(cfg.IPs)]
		uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			f.Stop()
			t.Fatalf("floodtest: socket %d on %v: %v", i, ip, err)
		}
		f.socks = append(f.socks, uc)
	}
	t.Cleanup(f.Stop)
	f.ready.Add(len(f.socks))
	for i, uc := range f.socks {
		f.wg.Add(1)
		go f.run(i, uc)
	}
	return f
}

// Ready blocks until every socket has its cookie and sent its first
// payload, or d passes; it returns how many sockets got a cookie.
func (f *Flood) Ready(d time.Duration) int {
	done := make(chan struct{})
	go func() { f.ready.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
	return int(f.cookies.Load())
}

// Sent returns the COOKIE_DTLS datagrams sent so far.
func (f *Flood) Sent() int64 { return f.sent.Load() }

// Received returns the datagrams the server sent to the attackers after
// their cookies (handshake flights).
func (f *Flood) Received() int64 { return f.recv.Load() }

// Stop ends the flood and closes every socket. Idempotent; it blocks until
// the sockets' goroutines returned.
func (f *Flood) Stop() {
	f.once.Do(func() {
		close(f.stop)
		for _, uc := range f.socks {
			uc.Close()
		}
	})
	f.wg.Wait()
}

func (f *Flood) stopped() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

func (f *Flood) run(i int, uc *net.UDPConn) {
	defer f.wg.Done()
	readied := false
	defer func() {
		if !readied {
			f.ready.Done()
		}
	}()
	rng := rand.New(rand.NewPCG(f.cfg.Seed, uint64(i)))
	buf := make([]byte, 65536)
	req := make([]byte, cookieRequestLen)
	req[0] = typeCookieRequest
	var cookie []byte
	for wait := 200 * time.Millisecond; cookie == nil; wait = min(2*wait, 2*time.Second) {
		if f.stopped() {
			return
		}
		if _, err := uc.WriteToUDPAddrPort(req, f.cfg.Target); err != nil {
			return
		}
		uc.SetReadDeadline(time.Now().Add(wait))
		for {
			n, _, err := uc.ReadFromUDPAddrPort(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return
			}
			if n == cookieReplyLen && buf[0] == typeCookie {
				cookie = append([]byte(nil), buf[1:n]...)
				break
			}
		}
	}
	f.cookies.Add(1)
	payload := f.payload(rng)
	dgram := wrap(cookie, payload, f.cfg.PadTo)
	if _, err := uc.WriteToUDPAddrPort(dgram, f.cfg.Target); err == nil {
		f.sent.Add(1)
	}
	readied = true
	f.ready.Done()
	for {
		next := time.Now().Add(time.Hour)
		if f.cfg.Resend > 0 {
			// Jitter, so that the sockets do not beat in step.
			next = time.Now().Add(f.cfg.Resend/2 + time.Duration(rng.Int64N(int64(f.cfg.Resend))))
		}
		uc.SetReadDeadline(next)
		for {
			_, _, err := uc.ReadFromUDPAddrPort(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return // closed
			}
			f.recv.Add(1)
		}
		if f.stopped() {
			return
		}
		if f.cfg.Kind == Garbage {
			dgram = wrap(cookie, f.payload(rng), f.cfg.PadTo)
		}
		if _, err := uc.WriteToUDPAddrPort(dgram, f.cfg.Target); err == nil {
			f.sent.Add(1)
		}
	}
}

func (f *Flood) payload(rng *rand.Rand) []byte {
	if f.cfg.Kind == Hello {
		return f.cfg.Hello
	}
	g := make([]byte, 100+rng.IntN(1000))
	for i := range g {
		g[i] = byte(rng.Uint32())
	}
	g[0] = 22 // a DTLS handshake record, as far as the first byte goes
	return g
}

// wrap builds a COOKIE_DTLS datagram padded to padTo bytes.
func wrap(cookie, dtls []byte, padTo int) []byte {
	b := append([]byte{typeCookieDTLS}, cookie...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(dtls)))
	b = append(b, dtls...)
	for len(b) < padTo {
		b = append(b, 0)
	}
	return b
}

// HelloOf returns the bare DTLS bytes of a COOKIE_DTLS datagram (the first
// one a client sends carries its ClientHello), or an error.
func HelloOf(dgram []byte) ([]byte, error) {
	const hdr = 1 + cookieLen + 2
	if len(dgram) < hdr || dgram[0] != typeCookieDTLS {
		return nil, fmt.Errorf("floodtest: not a COOKIE_DTLS datagram")
	}
	n := int(binary.BigEndian.Uint16(dgram[1+cookieLen:]))
	if n > len(dgram)-hdr {
		return nil, fmt.Errorf("floodtest: truncated COOKIE_DTLS")
	}
	return append([]byte(nil), dgram[hdr:hdr+n]...), nil
}

// Recorder is a UDP socket that keeps a copy of the first COOKIE_DTLS
// datagram written through it (a client's wrapped ClientHello). It
// satisfies netcode.PacketConn.
type Recorder struct {
	*net.UDPConn
	mu    sync.Mutex
	first []byte
}

// WriteToUDPAddrPort writes b, recording it if it is the first COOKIE_DTLS.
func (r *Recorder) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if len(b) > 0 && b[0] == typeCookieDTLS {
		r.mu.Lock()
		if r.first == nil {
			r.first = append([]byte(nil), b...)
		}
		r.mu.Unlock()
	}
	return r.UDPConn.WriteToUDPAddrPort(b, to)
}

// Hello returns the recorded ClientHello (bare DTLS bytes).
func (r *Recorder) Hello() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first == nil {
		return nil, errors.New("floodtest: no COOKIE_DTLS recorded")
	}
	return HelloOf(r.first)
}
