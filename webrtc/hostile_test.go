//go:build !js

package webrtc

// Hostile peers at the signaling and handshake level (issue 14, item 8):
// slots held per source address, slow offer bodies, peers that complete
// ICE and then stall DTLS, and many stalled peers at once while a good
// client dials. Distinct source addresses are 127.77.x.y aliases of the
// loopback interface (Linux routes all of 127.0.0.0/8 to lo).

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// clientFrom is an HTTP client whose connections come from the local
// address ip (a 127.0.0.0/8 alias), one connection per request.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// postFrom POSTs body to url with hc and returns the status and body.
func postFrom(t testing.TB, hc *http.Client, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := hc.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("post from %v: %v", hc, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// dialFrom dials s with a good client whose signaling comes from ip.
func dialFrom(ctx context.Context, s *Server, ip string) (*Conn, error) {
	cfg := testConfig()
	return Dial(ctx, s.SignalURL(), &cfg, DialOptions{Fingerprint: s.Fingerprint(), HTTPClient: clientFrom(ip)})
}

// settled checks, when the test ends (after the cleanups registered
// later, such as listen's Close), that every peer connection the test made
// is closed. It first lets the peer connections of earlier tests finish
// their teardown (Close does not wait for it), so that they are not
// counted against this test.
func settled(t *testing.T) {
	waitFor(5*time.Second, func() bool { return openPeerConnections() == 0 })
	base := openPeerConnections()
	t.Cleanup(func() {
		if !waitFor(10*time.Second, func() bool { return openPeerConnections() == base }) {
			t.Errorf("%d peer connections left open", openPeerConnections()-base)
		}
	})
}

// pendingNow counts the server's connections not yet handed to Accept
// (pending handshakes).
func (s *Server) pendingNow() int { return len(s.pending) }

// One source address cannot take every pending-handshake slot: it is
// refused (429) once it holds its share (by default a quarter), and a client from another
// address still connects.
func TestSignalPerSourceLimit(t *testing.T) {
	settled(t)
	cfg := testConfig()
	cfg.HandshakeTimeout = 20 * time.Second // the stalled offers hold their slots for the whole test
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: 8})
	body := offerBody(t, offerSDP(t), allModes)
	attacker := clientFrom("127.77.0.1")
	held := 0
	var refusal string
	for range 9 {
		code, msg := postFrom(t, attacker, s.SignalURL(), body)
		if code != http.StatusOK {
			if code != http.StatusTooManyRequests {
				t.Fatalf("offer %d from one address: status %d (%s), want 200 or 429", held+1, code, msg)
			}
			refusal = msg
			break
		}
		held++
	}
	t.Logf("one address holds %d of 8 pending slots; then: %q", held, refusal)
	if held >= 8 {
		t.Fatalf("one source address holds all %d pending-handshake slots", held)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	c, err := dialFrom(ctx, s, "127.77.0.2")
	if err != nil {
		t.Fatalf("a client from another address, while one address holds %d slots: %v", held, err)
	}
	defer c.Close()
	if _, err := s.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("the other address connected in %v", time.Since(start))
}

// ServerConfig.MaxHandshakesPerIP sets the share; an IPv6 /64 counts as
// one source.
func TestSignalPerSourceLimitConfigured(t *testing.T) {
	settled(t)
	cfg := testConfig()
	cfg.HandshakeTimeout = 20 * time.Second
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: 100, MaxHandshakesPerIP: 3})
	body := offerBody(t, offerSDP(t), allModes)
	for i := range 4 {
		want := http.StatusOK
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%d]:4000", i+1) // one /64
		s.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("offer %d from one /64: status %d (%s), want %d", i+1, rec.Code, strings.TrimSpace(rec.Body.String()), want)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	req.RemoteAddr = "[2001:db8:1:3::1]:4000" // the next /64
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("offer from another /64: status %d (%s)", rec.Code, rec.Body.String())
	}
}

// ServerConfig.SourceAddr names the source behind a reverse proxy: two
// clients behind one proxy address have a quota each.
func TestSignalSourceAddrBehindProxy(t *testing.T) {
	settled(t)
	cfg := testConfig()
	cfg.HandshakeTimeout = 20 * time.Second
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: 100, MaxHandshakesPerIP: 1,
		SourceAddr: func(r *http.Request) (netip.Addr, bool) {
			a, err := netip.ParseAddr(r.Header.Get("X-Real-IP"))
			return a, err == nil
		}})
	body := offerBody(t, offerSDP(t), allModes)
	send := func(realIP string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.RemoteAddr = "10.0.0.1:443" // the proxy
		if realIP != "" {
			req.Header.Set("X-Real-IP", realIP)
		}
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		ip   string
		want int
	}{
		{"198.51.100.1", http.StatusOK},
		{"198.51.100.1", http.StatusTooManyRequests},
		{"198.51.100.2", http.StatusOK},
		{"", http.StatusOK},                                 // no header: the proxy's own address
		{"", http.StatusTooManyRequests},                    // which has its quota too
		{"::ffff:198.51.100.2", http.StatusTooManyRequests}, // the same IPv4 source
	} {
		if got := send(tc.ip); got != tc.want {
			t.Errorf("offer from %q behind the proxy: status %d, want %d", tc.ip, got, tc.want)
		}
	}
}

// An offer whose body never finishes arriving holds no pending-handshake
// slot, and its read ends within HandshakeTimeout even when the Server is
// mounted in an http.Server without timeouts.
func TestSlowOfferBodyHoldsNoSlot(t *testing.T) {
	settled(t)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.HandshakeTimeout = 3 * time.Second
	s, err := NewServer(udp, &ServerConfig{Config: cfg, MaxPendingHandshakes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs := httptest.NewUnstartedServer(s) // no read timeouts
	hs.Listener.Close()
	if hs.Listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	hs.Start()
	defer hs.Close()

	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.77.1.1")}}
	slow, err := d.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	fmt.Fprintf(slow, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"v\":1,")
	time.Sleep(200 * time.Millisecond) // the handler is reading the body

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ccfg := testConfig() // the client's own deadline stays 10 s
	c, err := Dial(ctx, hs.URL, &ccfg, DialOptions{Fingerprint: s.Fingerprint(), HTTPClient: clientFrom("127.77.1.2")})
	if err != nil {
		t.Fatalf("a client dialing while another's offer body trickles in (1 pending slot): %v", err)
	}
	c.Close()

	// The slow request is answered (408 or 400) or its connection closed
	// once HandshakeTimeout has passed.
	slow.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	took := time.Since(start)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("a truncated offer was answered 200")
		}
		t.Logf("slow body: status %d after %v (HandshakeTimeout 3 s)", resp.StatusCode, took)
	} else {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the slow request still open %v after it began (HandshakeTimeout 3 s)", took)
		}
		t.Logf("slow body: connection ended (%v) after %v (HandshakeTimeout 3 s)", err, took)
	}
	if took > 10*time.Second {
		t.Fatalf("the slow body was read for %v, HandshakeTimeout is 3 s", took)
	}
}

// A Content-Length far above MaxOfferBytes is not allocated: the handler
// refuses it (413) having allocated a small fraction of it.
func TestDeclaredContentLengthNotAllocated(t *testing.T) {
	s := listen(t, nil)
	const declared = 1 << 30
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", io.LimitReader(zeros{}, declared))
	req.ContentLength = declared
	s.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a 1 GiB Content-Length: 413 after %d bytes allocated", alloc)
	if alloc > 4*DefaultMaxOfferBytes {
		t.Fatalf("allocated %d bytes for a refused 1 GiB offer (limit %d)", alloc, DefaultMaxOfferBytes)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// stallingPeer is an attacker that completes ICE with the server (a real
// ICE agent answering its connectivity checks) and then never starts or
// answers DTLS: the server's peer connection is connected at the ICE level
// and stuck in DTLS.
type stallingPeer struct {
	agent *ice.Agent
	conn  *ice.Conn
	dtls  *dtls.Conn
}

// newStallingPeer posts an offer built around an ICE agent of its own from
// source address ip, applies the answer's credentials and candidates, and
// completes ICE. It fails the test if signaling or ICE fails.
//
// With cert, the offer names cert's DTLS fingerprint instead of the
// template's, so that the peer can then complete DTLS (handshakeDTLS).
func newStallingPeer(t *testing.T, s *Server, ip string, template string, cert *tls.Certificate) *stallingPeer {
	t.Helper()
	agent, err := ice.NewAgentWithOptions(
		ice.WithNetworkTypes([]ice.NetworkType{ice.NetworkTypeUDP4}),
		ice.WithCandidateTypes([]ice.CandidateType{ice.CandidateTypeHost}),
		ice.WithMulticastDNSMode(ice.MulticastDNSModeDisabled),
		ice.WithIncludeLoopback(),
		ice.WithIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }),
		ice.WithLoggerFactory(silentLogs),
	)
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingPeer{agent: agent}
	t.Cleanup(p.close)
	var cands []string
	gathered := make(chan struct{})
	var mu sync.Mutex
	if err := agent.OnCandidate(func(c ice.Candidate) {
		mu.Lock()
		defer mu.Unlock()
		if c == nil {
			close(gathered)
			return
		}
		cands = append(cands, c.Marshal())
	}); err != nil {
		t.Fatal(err)
	}
	if err := agent.GatherCandidates(); err != nil {
		t.Fatal(err)
	}
	<-gathered
	ufrag, pwd, err := agent.GetLocalUserCredentials()
	if err != nil {
		t.Fatal(err)
	}
	// The template's DTLS fingerprint stays (nothing will check it); its
	// ICE credentials and candidates become the agent's.
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(template), "\r\n") {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"):
			l = "a=ice-ufrag:" + ufrag
		case strings.HasPrefix(l, "a=ice-pwd:"):
			l = "a=ice-pwd:" + pwd
		case strings.HasPrefix(l, "a=candidate:"), strings.HasPrefix(l, "a=end-of-candidates"):
			continue
		case strings.HasPrefix(l, "a=fingerprint:") && cert != nil:
			sum := sha256.Sum256(cert.Certificate[0])
			hexs := make([]string, len(sum))
			for i, b := range sum {
				hexs[i] = fmt.Sprintf("%02X", b)
			}
			l = "a=fingerprint:sha-256 " + strings.Join(hexs, ":")
		}
		out = append(out, l)
		if strings.HasPrefix(l, "a=ice-pwd:") {
			mu.Lock()
			for _, c := range cands {
				out = append(out, "a=candidate:"+c)
			}
			mu.Unlock()
		}
	}
	code, msg := postFrom(t, clientFrom(ip), s.SignalURL(), offerBody(t, strings.Join(out, "\r\n")+"\r\n", allModes))
	if code != http.StatusOK {
		t.Fatalf("stalling peer's offer from %s: status %d (%s)", ip, code, msg)
	}
	var ans answerMessage
	if err := json.Unmarshal([]byte(msg), &ans); err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(ans.SDP); err != nil {
		t.Fatal(err)
	}
	var rufrag, rpwd string
	attr := func(k string) string {
		if v, ok := sd.Attribute(k); ok {
			return v
		}
		v, _ := sd.MediaDescriptions[0].Attribute(k)
		return v
	}
	rufrag, rpwd = attr("ice-ufrag"), attr("ice-pwd")
	for _, a := range sd.MediaDescriptions[0].Attributes {
		if a.Key != "candidate" {
			continue
		}
		c, err := ice.UnmarshalCandidate(a.Value)
		if err != nil {
			t.Fatal(err)
		}
		if err := agent.AddRemoteCandidate(c); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if p.conn, err = agent.Dial(ctx, rufrag, rpwd); err != nil {
		t.Fatalf("stalling peer: ICE: %v", err)
	}
	return p
}

// handshakeDTLS completes DTLS with the server over the ICE connection, as
// the DTLS server (the answer takes the client role, pion's default), and
// then never starts SCTP.
func (p *stallingPeer) handshakeDTLS(t *testing.T, cert tls.Certificate) {
	t.Helper()
	dc, err := dtls.ServerWithOptions(packetConn{p.conn}, p.conn.RemoteAddr(),
		dtls.WithCertificates(cert),
		dtls.WithClientAuth(dtls.RequireAnyClientCert),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithLoggerFactory(silentLogs),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		t.Fatalf("stalling peer: DTLS: %v", err)
	}
	p.dtls = dc
}

// packetConn is a connected net.Conn as the net.PacketConn pion/dtls takes.
type packetConn struct{ net.Conn }

func (c packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.Read(b)
	return n, c.RemoteAddr(), err
}

func (c packetConn) WriteTo(b []byte, _ net.Addr) (int, error) { return c.Write(b) }

func (p *stallingPeer) close() {
	if p.dtls != nil {
		p.dtls.Close()
	}
	if p.conn != nil {
		p.conn.Close()
	}
	p.agent.Close()
}

// serverICEConnected counts the server's pending connections whose ICE is
// connected.
func (s *Server) serverICEConnected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if st := c.pc.ICEConnectionState(); st == webrtc.ICEConnectionStateConnected || st == webrtc.ICEConnectionStateCompleted {
			n++
		}
	}
	return n
}

// Peers that complete ICE and then stall DTLS are freed at
// HandshakeTimeout: their slots come back, their peer connections close,
// and their goroutines end.
func TestStalledDTLSFreedAtDeadline(t *testing.T) {
	settled(t)
	baseGoroutines := runtime.NumGoroutine()
	basePCs := openPeerConnections()
	template := offerSDP(t)
	cfg := testConfig()
	cfg.HandshakeTimeout = 6 * time.Second
	s, err := Listen("127.0.0.1:0", &ServerConfig{Config: cfg, MaxPendingHandshakes: 4, MaxHandshakesPerIP: 4})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var peers []*stallingPeer
	for range 4 {
		peers = append(peers, newStallingPeer(t, s, "127.77.3.1", template, nil))
	}
	if !waitFor(5*time.Second, func() bool { return s.serverICEConnected() == 4 }) {
		t.Fatalf("%d of 4 stalling peers ICE-connected at the server", s.serverICEConnected())
	}
	if n := s.pendingNow(); n != 4 {
		t.Fatalf("%d pending slots held, want 4", n)
	}
	body := offerBody(t, template, allModes)
	if code, msg := postFrom(t, clientFrom("127.77.3.2"), s.SignalURL(), body); code != http.StatusServiceUnavailable {
		t.Fatalf("offer while 4 of 4 slots are held: %d %s", code, msg)
	}
	if !waitFor(15*time.Second, func() bool { return s.pendingNow() == 0 && openPeerConnections() == basePCs }) {
		t.Fatalf("%v after the stalls began: %d slots held, %d peer connections open", time.Since(start), s.pendingNow(), openPeerConnections()-basePCs)
	}
	freed := time.Since(start)
	t.Logf("4 peers stalled in DTLS after ICE: freed %v after their offers (HandshakeTimeout 6 s)", freed)
	if freed < 5900*time.Millisecond {
		t.Fatalf("freed after %v, before the deadline", freed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := dialFrom(ctx, s, "127.77.3.2")
	if err != nil {
		t.Fatalf("dial after the stalled peers were freed: %v", err)
	}
	c.Close()
	for _, p := range peers {
		p.close()
	}
	s.Close()
	if !waitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= baseGoroutines+2 }) {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), baseGoroutines, buf[:runtime.Stack(buf, true)])
	}
}

// A peer that completes ICE and DTLS and then never starts SCTP (so the
// server's channels never open) is freed at HandshakeTimeout too.
func TestStalledSCTPFreedAtDeadline(t *testing.T) {
	settled(t)
	template := offerSDP(t)
	cfg := testConfig()
	cfg.HandshakeTimeout = 4 * time.Second
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: 1})
	cert := testCertificate(t)
	start := time.Now()
	p := newStallingPeer(t, s, "127.77.6.1", template, &cert)
	p.handshakeDTLS(t, cert)
	t.Logf("ICE and DTLS done %v after the offer", time.Since(start))
	var state webrtc.PeerConnectionState
	serverState := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for c := range s.conns {
			state = c.pc.ConnectionState()
		}
		return state == webrtc.PeerConnectionStateConnected
	}
	if !waitFor(2*time.Second, serverState) {
		t.Fatalf("server's peer connection %v, want connected (DTLS done)", state)
	}
	if s.pendingNow() != 1 {
		t.Fatalf("%d pending slots held, want 1", s.pendingNow())
	}
	if !waitFor(15*time.Second, func() bool { return s.pendingNow() == 0 }) {
		t.Fatalf("the slot still held %v after the offer (HandshakeTimeout 4 s)", time.Since(start))
	}
	freed := time.Since(start)
	t.Logf("a peer stalled in SCTP after DTLS: freed %v after its offer (HandshakeTimeout 4 s)", freed)
	if freed < 3900*time.Millisecond {
		t.Fatalf("freed after %v, before the deadline", freed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := dialFrom(ctx, s, "127.77.6.2")
	if err != nil {
		t.Fatalf("dial after the stalled peer was freed: %v", err)
	}
	c.Close()
}

// testCertificate makes a self-signed ECDSA certificate.
func testCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stalling peer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Attack like an attacker: from 16 source addresses (a botnet; the
// per-source limit does not help), MaxPendingHandshakes+N offers at once
// that then go silent, while a good client dials. The client is refused
// with ErrRefused (a clear error, at once) while the slots are held and
// connects once they are freed, within HandshakeTimeout and a margin of the
// attack.
func TestManyStalledPeersDoNotLockOutAGoodClient(t *testing.T) {
	settled(t)
	const slots, extra, sources = 16, 48, 16
	basePCs := openPeerConnections()
	cfg := testConfig()
	cfg.HandshakeTimeout = 4 * time.Second
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: slots, MaxHandshakesPerIP: slots})
	body := offerBody(t, offerSDP(t), allModes)
	var ok, busy, other atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for i := range slots + extra {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := clientFrom(fmt.Sprintf("127.77.4.%d", 1+i%sources)).Post(s.SignalURL(), "application/json", strings.NewReader(string(body)))
			if err != nil {
				other.Add(1)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusServiceUnavailable:
				busy.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("attack: %d offers answered, %d refused 503, %d other, in %v", ok.Load(), busy.Load(), other.Load(), time.Since(start))
	if ok.Load() != slots || other.Load() != 0 {
		t.Fatalf("attack: %d answered (want %d), %d other", ok.Load(), slots, other.Load())
	}
	// The good client retries on ErrRefused, as a game's connect screen
	// would.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var refusals int
	var first error
	for {
		c, err := dialFrom(ctx, s, "127.77.5.1")
		if err == nil {
			c.Close()
			break
		}
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("good client after %d refusals: %v (want ErrRefused or success)", refusals, err)
		}
		if first == nil {
			first = err
		}
		refusals++
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("good client: %d refusals (first: %v), connected %v after the attack began (HandshakeTimeout 4 s)", refusals, first, took)
	if refusals == 0 {
		t.Fatalf("the good client was never refused while %d stalled offers held every slot", slots)
	}
	if took > 4*time.Second+10*time.Second {
		t.Fatalf("the good client connected only %v after the attack (HandshakeTimeout 4 s)", took)
	}
	if !waitFor(10*time.Second, func() bool { return openPeerConnections() <= basePCs+1 }) {
		t.Fatalf("%d peer connections still open", openPeerConnections()-basePCs)
	}
}

// A handshake deadline that passes during the signaling exchange (a
// loaded server, a tiny HandshakeTimeout) is a 503 saying so, not a 500
// or 400 naming pion's closed internals.
func TestDeadlineDuringExchangeIs503(t *testing.T) {
	settled(t)
	cfg := testConfig()
	cfg.HandshakeTimeout = time.Nanosecond
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: 100, MaxHandshakesPerIP: 100}) // teardowns release slots asynchronously
	body := offerBody(t, offerSDP(t), allModes)
	for i := range 20 {
		rec := post(s, body)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "handshake") {
			t.Fatalf("offer %d, deadline passed during the exchange: status %d %q, want 503 naming the handshake deadline", i, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
	}
}
