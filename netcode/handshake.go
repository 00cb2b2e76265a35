package netcode

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/deadline"

	"github.com/pumpnet/pumpnet/netcode/internal/protect"
)

// hsInboxLen bounds DTLS datagrams queued for one handshake, and earlyLen
// the protected packets that arrive before keys are installed.
const (
	hsInboxLen = 32
	earlyLen   = 32
)

// handshake is one DTLS handshake in progress with one address. It gives
// pion a net.PacketConn of its own (hsConn) fed by the endpoint's reader.
type handshake struct {
	ep     *Endpoint
	raddr  netip.AddrPort
	udp    *net.UDPAddr
	server bool
	cookie cookie // client: wraps every DTLS datagram it sends

	in       chan []byte
	closed   chan struct{}
	closeMu  sync.Once
	readDL   *deadline.Deadline
	silenced atomic.Bool // established: pion's writes are dropped

	recvAny   atomic.Bool  // any DTLS datagram arrived from the peer
	recvBytes atomic.Int64 // server: bytes received from the address
	sentBytes atomic.Int64 // server: bytes sent to it

	// Server side: slot bookkeeping (PROTOCOL.md §1.1). started, source
	// and waiting are guarded by ep.mu; cancel ends the handshake early
	// (eviction).
	started    time.Time
	source     netip.Prefix
	waiting    bool // established, waiting for Accept: never evicted
	ctx        context.Context
	cancel     context.CancelFunc
	progressed atomic.Bool  // the client's second flight arrived
	answered   atomic.Int64 // when the server first wrote to the client (UnixNano; 0: not yet)

	// Client side: the wrapped first flight, repeated (knock) until the
	// server answers.
	firstMu     sync.Mutex
	firstFlight []byte

	mu        sync.Mutex
	early     [][]byte // protected packets that arrived before keys
	conn      *Conn    // set once keys are installed
	verifyErr error    // why peer verification failed, if it did
	dtls      *dtls.Conn
	abort     context.CancelCauseFunc // client: ends this attempt (server lost it)
}

// maxHandshakeRestarts bounds how often one Dial starts over after
// HANDSHAKE_LOST.
const maxHandshakeRestarts = 8

var errHandshakeLost = errors.New("netcode: the server lost the handshake")

// lost handles a HANDSHAKE_LOST for this client handshake: if it echoes the
// cookie in use and the server had answered (a server that never answered
// has nothing to lose; the knock covers it), the attempt ends and Dial
// starts over.
func (h *handshake) lost(ck []byte) bool {
	if !h.recvAny.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.abort == nil || !bytes.Equal(h.cookie[:], ck) {
		return false
	}
	h.abort(errHandshakeLost)
	return true
}

func newHandshake(ep *Endpoint, raddr netip.AddrPort, server bool) *handshake {
	return &handshake{
		ep:     ep,
		raddr:  raddr,
		udp:    net.UDPAddrFromAddrPort(raddr),
		server: server,
		in:     make(chan []byte, hsInboxLen),
		closed: make(chan struct{}),
		readDL: deadline.New(),
	}
}

// deliver queues a DTLS datagram from the reader (copied). Full inbox:
// dropped, as a socket buffer would; pion retransmits.
// wireLen is the size of the whole datagram it came in (amplification
// credit counts the padding).
func (h *handshake) deliver(b []byte, wireLen int) bool {
	h.recvAny.Store(true)
	if h.server {
		h.recvBytes.Add(int64(wireLen))
		if !h.progressed.Load() && isClientSecondFlight(b) {
			h.progressed.Store(true)
		}
	}
	select {
	case h.in <- bytes.Clone(b):
		return true
	default:
		return false
	}
}

// queueEarly keeps a protected packet that arrived before this side's keys.
func (h *handshake) queueEarly(b []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		return false
	}
	if len(h.early) >= earlyLen {
		return false
	}
	h.early = append(h.early, bytes.Clone(b))
	return true
}

func (h *handshake) close() {
	h.closeMu.Do(func() { close(h.closed) })
}

// hsConn is the net.PacketConn pion sees.
type hsConn handshake

var _ net.PacketConn = (*hsConn)(nil)

func (c *hsConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d), c.udp, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	case <-c.readDL.Done():
		return 0, nil, timeoutError{}
	}
}

func (c *hsConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	h := (*handshake)(c)
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if c.silenced.Load() {
		return len(b), nil // pion's close_notify after we took the keys
	}
	if c.server {
		// Amplification limit (PROTOCOL.md §1.1): never more than 3x what
		// the address sent us before the handshake completes.
		if c.sentBytes.Load()+int64(len(b)) > 3*c.recvBytes.Load() {
			c.ep.count(&c.ep.stats.AmplificationDrops)
			return len(b), nil
		}
		c.sentBytes.Add(int64(len(b)))
		if c.answered.Load() == 0 {
			c.answered.Store(time.Now().UnixNano())
		}
		return len(b), c.ep.writeTo(b, c.raddr)
	}
	buf := make([]byte, 0, c.ep.cfg.MaxDatagramSize)
	buf = appendCookieDTLS(buf, c.cookie, b, c.ep.cfg.MaxDatagramSize)
	if !h.recvAny.Load() {
		h.firstMu.Lock()
		h.firstFlight = buf
		h.firstMu.Unlock()
	}
	return len(b), h.ep.writeTo(buf, c.raddr)
}

// knockInterval is how often a dialing client repeats its first flight
// until the server answers (PROTOCOL.md §1.1): a server short of slots
// drops ClientHellos without a word, and pion's own retransmissions back
// off (0.25, 0.75, 1.75, 3.75 s...), which would leave a client waiting
// seconds after a slot freed.
const knockInterval = 250 * time.Millisecond

// knock repeats the client's wrapped first flight every knockInterval until
// the server answers or stop is closed. It runs on its own goroutine; the
// caller waits for it through done.
func (h *handshake) knock(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(knockInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-h.closed:
			return
		case <-t.C:
		}
		if h.recvAny.Load() {
			return
		}
		h.firstMu.Lock()
		b := h.firstFlight
		h.firstMu.Unlock()
		if b != nil {
			_ = h.ep.writeTo(b, h.raddr)
		}
	}
}

func (c *hsConn) Close() error                       { (*handshake)(c).close(); return nil }
func (c *hsConn) LocalAddr() net.Addr                { return c.ep.LocalAddr() }
func (c *hsConn) SetDeadline(t time.Time) error      { c.readDL.Set(t); return nil }
func (c *hsConn) SetReadDeadline(t time.Time) error  { c.readDL.Set(t); return nil }
func (c *hsConn) SetWriteDeadline(t time.Time) error { return nil }

// nopLogger keeps pion quiet: it must never print handshake details.
type nopLogger struct{}

func (nopLogger) Trace(string)                           {}
func (nopLogger) Tracef(string, ...any)                  {}
func (nopLogger) Debug(string)                           {}
func (nopLogger) Debugf(string, ...any)                  {}
func (nopLogger) Info(string)                            {}
func (nopLogger) Infof(string, ...any)                   {}
func (nopLogger) Warn(string)                            {}
func (nopLogger) Warnf(string, ...any)                   {}
func (nopLogger) Error(string)                           {}
func (nopLogger) Errorf(string, ...any)                  {}
func (nopLogger) NewLogger(string) logging.LeveledLogger { return nopLogger{} }

// pionMTU leaves room for the COOKIE_DTLS wrapper.
func (c *config) pionMTU() int { return c.MaxDatagramSize - cookieDTLSHdrLen }

// dtlsOptions builds pion's options for one handshake: common ones, plus
// server-only ones when h.server. Peer verification failures are recorded in
// h.verifyErr so that the caller sees ErrFingerprintMismatch rather than
// pion's alert text.
func (c *config) dtlsOptions(h *handshake, opts *DialOptions) (common []dtls.Option, server []dtls.ServerOption) {
	common = []dtls.Option{
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(nopLogger{}),
		dtls.WithMTU(c.pionMTU()),
		dtls.WithFlightInterval(250 * time.Millisecond),
	}
	// The cookie exchange (PROTOCOL.md §1.1) already validated the address.
	server = []dtls.ServerOption{dtls.WithInsecureSkipVerifyHello(true)}
	if c.PSK != nil {
		common = append(common,
			dtls.WithPSK(dtls.PSKCallback(c.PSK)),
			dtls.WithPSKIdentityHint(c.PSKIdentity),
			dtls.WithCipherSuites(
				dtls.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
				dtls.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256))
		return common, server
	}
	common = append(common,
		dtls.WithCertificates(*c.cert),
		dtls.WithCipherSuites(
			dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256))
	if h.server {
		// Every client presents a certificate: its fingerprint is its
		// identity (the lobby checks it against the identity it claims).
		server = append(server, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		common = append(common, dtls.WithInsecureSkipVerify(true))
		return common, server
	}
	if c.RootCAs != nil && opts.Fingerprint.IsZero() {
		return append(common, dtls.WithRootCAs(c.RootCAs), dtls.WithServerName(opts.ServerName)), server
	}
	// Pinned (or, with InsecureAcceptAnyServer, unverified) self-signed
	// keys: pion still checks the handshake signature with the key.
	want := opts.Fingerprint
	record := func(err error) error {
		h.mu.Lock()
		h.verifyErr = err
		h.mu.Unlock()
		return err
	}
	return append(common,
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return record(fmt.Errorf("%w: server sent no certificate", ErrFingerprintMismatch))
			}
			got, err := FingerprintOf(raw[0])
			if err != nil {
				return record(err)
			}
			if !want.IsZero() && got != want {
				return record(fmt.Errorf("%w: got %s, want %s (a server that restarts without a persistent key — Config.KeyFile — has a new fingerprint each run: ask for its new connect string; otherwise this is not the server you meant)", ErrFingerprintMismatch, got, want))
			}
			return nil
		})), server
}

// runDTLS drives pion through the handshake on h and returns the exported
// keys and the peer's fingerprint (zero in PSK mode).
func (h *handshake) runDTLS(ctx context.Context, cfg *config, opts *DialOptions) (protect.Exported, Fingerprint, error) {
	var (
		ex protect.Exported
		fp Fingerprint
	)
	common, serverOnly := cfg.dtlsOptions(h, opts)
	var (
		conn *dtls.Conn
		err  error
	)
	if h.server {
		so := make([]dtls.ServerOption, 0, len(common)+len(serverOnly))
		for _, o := range common {
			so = append(so, o)
		}
		conn, err = dtls.ServerWithOptions((*hsConn)(h), h.udp, append(so, serverOnly...)...)
	} else {
		co := make([]dtls.ClientOption, 0, len(common))
		for _, o := range common {
			co = append(co, o)
		}
		conn, err = dtls.ClientWithOptions((*hsConn)(h), h.udp, co...)
	}
	if err != nil {
		return ex, fp, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	h.mu.Lock()
	h.dtls = conn
	h.mu.Unlock()
	if err := conn.HandshakeContext(ctx); err != nil {
		h.mu.Lock()
		verr := h.verifyErr
		h.mu.Unlock()
		switch {
		case verr != nil:
			err = verr
		case ctx.Err() != nil && !h.recvAny.Load():
			err = fmt.Errorf("%w: no answer from %s within the handshake timeout", ErrTimeout, h.raddr)
		case ctx.Err() != nil && cfg.PSK != nil:
			err = fmt.Errorf("%w: %s answered, then did not finish the handshake: the pre-shared keys probably differ", ErrTimeout, h.raddr)
		case ctx.Err() != nil:
			err = fmt.Errorf("%w: %s answered, then did not finish the handshake (it may have refused our certificate)", ErrTimeout, h.raddr)
		}
		return ex, fp, fmt.Errorf("%w with %s: %w", ErrHandshake, h.raddr, err)
	}
	st, ok := conn.ConnectionState()
	if !ok {
		return ex, fp, fmt.Errorf("%w: no connection state", ErrHandshake)
	}
	material, err := st.ExportKeyingMaterial(protect.ExporterLabel, nil, protect.ExporterLength)
	if err != nil {
		return ex, fp, fmt.Errorf("%w: export keys: %v", ErrHandshake, err)
	}
	ex, err = protect.SplitExported(material)
	clear(material)
	if err != nil {
		return ex, fp, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	if len(st.PeerCertificates) > 0 {
		if fp, err = FingerprintOf(st.PeerCertificates[0]); err != nil {
			ex.Zero()
			return ex, fp, fmt.Errorf("%w: %v", ErrHandshake, err)
		}
	}
	return ex, fp, nil
}

// finishDTLS stops pion without letting it send anything more.
func (h *handshake) finishDTLS() {
	h.silenced.Store(true)
	h.mu.Lock()
	c := h.dtls
	h.dtls = nil
	h.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	h.close()
}

var errNotAccepting = errors.New("netcode: endpoint does not accept connections")
