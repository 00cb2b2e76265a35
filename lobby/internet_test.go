package lobby

// Internet sessions on one machine: a rendezvous server on 127.0.0.1 and
// WebRTC peers whose ICE is restricted to loopback addresses, so no packet
// leaves the machine. The NAT rig tests (internet_nat_test.go) cross real
// NATs.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/rendezvous"
	"github.com/pumpnet/pumpnet/webrtc"
)

// rdvServer is a rendezvous server on a fixed 127.0.0.1 address that a
// test can stop and start again (a restart loses every room, as a real
// one does: rooms live in memory).
type rdvServer struct {
	t        *testing.T
	addr     string
	srv      *rendezvous.Server
	hs       *http.Server
	served   chan struct{}
	requests atomic.Int64 // requests served since the last start
}

func startRendezvous(t *testing.T) *rdvServer {
	t.Helper()
	r := &rdvServer{t: t, addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// url is what Config.Rendezvous takes.
func (r *rdvServer) url() string { return "http://" + r.addr }

func (r *rdvServer) start() {
	r.t.Helper()
	srv, err := rendezvous.NewServer(rendezvous.Config{})
	if err != nil {
		r.t.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp4", r.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the old listener's port, just closed
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.srv = srv
	r.requests.Store(0)
	r.hs = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		srv.ServeHTTP(w, req)
	}), ReadHeaderTimeout: 5 * time.Second}
	r.served = make(chan struct{})
	go func(hs *http.Server, done chan struct{}) {
		defer close(done)
		hs.Serve(ln)
	}(r.hs, r.served)
}

// stop closes the server and every connection to it (the long polls in
// flight fail at once).
func (r *rdvServer) stop() {
	if r.hs == nil {
		return
	}
	r.hs.Close()
	r.srv.Close()
	<-r.served
	r.hs = nil
}

// hangUp listens on the server's address while it is stopped and hangs up
// on every connection, counting them, until stop is called: a rendezvous
// that is down but whose address still answers, so a client's retries
// can be counted.
func (r *rdvServer) hangUp() (count func() int64, stop func()) {
	r.t.Helper()
	ln, err := net.Listen("tcp4", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return n.Load, func() { ln.Close(); <-done }
}

// Internet sessions in this package's tests (and examples) use loopback
// addresses only: ICE sends nothing to the machine's real interfaces.
// The NAT rig's helper processes lift it (their namespaces have no other
// interface to spare).
func init() { testICEFilter = netip.Addr.IsLoopback }

// netPeer is one internet session under test and what its listener saw.
type netPeer struct {
	s *Session
	eventLog
	replies []string
}

func (p *netPeer) Network_ask(peer *Peer, m engine.Msg) {
	_ = peer.Reply(engine.Msg{"action": "answer", "text": "re: " + m["text"].(string) + " from " + p.s.Name()})
}

// joinInternetTest joins an internet session on loopback ICE.
func joinInternetTest(t *testing.T, name string, mutate func(*Config)) *netPeer {
	t.Helper()
	cfg := Config{DisplayName: name, ServiceType: "test-game"}
	mutate(&cfg)
	s, err := Join(t.Context(), cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { s.Close() })
	p := &netPeer{s: s}
	p.eventLog.s = s
	if err := s.Register(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// pumpAll pumps every session until cond holds, failing after d.
func pumpAll(t *testing.T, d time.Duration, what string, cond func() bool, ps ...*netPeer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			for _, p := range ps {
				t.Logf("%s: added %v removed %v refused %v chats %v replies %v rendezvous %v",
					p.s.Name(), p.added, p.removed, p.refused, p.chats, p.replies, p.s.RendezvousErr())
			}
			t.Fatalf("not reached after %v: %s", d, what)
		}
		for _, p := range ps {
			p.s.Pump()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// goroutinesSettle waits until no more goroutines run than before, and
// fails with their stacks if that takes over 10 s.
func goroutinesSettle(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before the sessions, %d 10 s after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// meetInRoom makes ann create a room and bob join it by its code, and
// pumps both until each has added the other.
func meetInRoom(t *testing.T, rdv *rdvServer) (ann, bob *netPeer) {
	t.Helper()
	ann = joinInternetTest(t, "ann", func(c *Config) { c.Rendezvous = rdv.url(); c.CreateRoom = true })
	if ann.s.Room() == "" {
		t.Fatal("Room() is empty on the session that created the room")
	}
	bob = joinInternetTest(t, "bob", func(c *Config) { c.Rendezvous = rdv.url(); c.Room = strings.ToLower(ann.s.Room()) })
	if bob.s.Room() != ann.s.Room() {
		t.Fatalf("bob's Room() = %q, ann's %q", bob.s.Room(), ann.s.Room())
	}
	pumpAll(t, 30*time.Second, "PeerAdded on both sides", func() bool {
		return len(ann.added) == 1 && len(bob.added) == 1
	}, ann, bob)
	return ann, bob
}

// exchange sends a chat each way and a request each way, and waits for
// all four to arrive.
func exchange(t *testing.T, round string, ann, bob *netPeer) {
	t.Helper()
	for _, p := range []*netPeer{ann, bob} {
		p.chats, p.replies = nil, nil
	}
	for _, pair := range [][2]*netPeer{{ann, bob}, {bob, ann}} {
		from, to := pair[0], pair[1]
		peer := from.s.Peer(to.s.ID())
		if peer == nil {
			t.Fatalf("%s: Peer(%s's ID) is nil", from.s.Name(), to.s.Name())
		}
		if err := from.s.Send(engine.Msg{"action": "chat", "text": round}, engine.To(peer)); err != nil {
			t.Fatal(err)
		}
		err := peer.Request(context.Background(), engine.Msg{"action": "ask", "text": round}, func(m engine.Msg, err error) {
			if err != nil {
				from.replies = append(from.replies, "error: "+err.Error())
				return
			}
			from.replies = append(from.replies, m["text"].(string))
		}, engine.Timeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
	}
	pumpAll(t, 30*time.Second, round+": a chat and a reply each way", func() bool {
		return len(ann.chats) == 1 && len(bob.chats) == 1 && len(ann.replies) == 1 && len(bob.replies) == 1
	}, ann, bob)
	for _, c := range []struct{ got, want string }{
		{ann.chats[0], "bob: " + round}, {bob.chats[0], "ann: " + round},
		{ann.replies[0], "re: " + round + " from bob"}, {bob.replies[0], "re: " + round + " from ann"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", round, c.got, c.want)
		}
	}
}

// TestInternetSessionLoopback: two sessions meet through a rendezvous
// room (one creates it, the other joins by its code, typed in lower case)
// and connect over WebRTC: each adds the other (with the right name and
// the same host), messages and requests travel both ways, the connection
// is a WebRTC one pinned to the peer's proven ID, and Close leaves no
// goroutine behind.
func TestInternetSessionLoopback(t *testing.T) {
	before := runtime.NumGoroutine()
	rdv := startRendezvous(t)
	ann, bob := meetInRoom(t, rdv)
	if ann.added[0] != "bob" || bob.added[0] != "ann" {
		t.Errorf("added: ann %v, bob %v", ann.added, bob.added)
	}
	lower := ann.s.ID()
	if bob.s.ID().Less(lower) {
		lower = bob.s.ID()
	}
	if ann.s.Host() != lower || bob.s.Host() != lower {
		t.Errorf("hosts: ann %v, bob %v, want the lower identity %v", ann.s.Host(), bob.s.Host(), lower)
	}
	for _, p := range []*netPeer{ann, bob} {
		other := ann
		if p == ann {
			other = bob
		}
		peer := p.s.Peer(other.s.ID())
		c, ok := peer.Conn().(*webrtc.Conn)
		if !ok {
			t.Fatalf("%s: the connection is a %T, want a *webrtc.Conn", p.s.Name(), peer.Conn())
		}
		if c.PeerFingerprint() != other.s.ID() {
			t.Errorf("%s: the connection's peer key is %v, want %v", p.s.Name(), c.PeerFingerprint(), other.s.ID())
		}
	}
	exchange(t, "hello", ann, bob)
	if ann.s.RendezvousErr() != nil || bob.s.RendezvousErr() != nil {
		t.Errorf("rendezvous errors: %v, %v", ann.s.RendezvousErr(), bob.s.RendezvousErr())
	}
	// Close ends the long poll in flight and leaves the room at once.
	start := time.Now()
	ann.s.Close()
	bob.s.Close()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %v", took)
	}
	rdv.stop()
	goroutinesSettle(t, before)
}

// TestInternetPumpWaitWakesOnMessage: PumpWait(ctx, 0) returns when a
// message arrives on an internet session's connection (a WebRTC one,
// which the engine server does not hear of by itself), not when the
// rendezvous's long poll happens to end (25 s).
func TestInternetPumpWaitWakesOnMessage(t *testing.T) {
	rdv := startRendezvous(t)
	ann, bob := meetInRoom(t, rdv)
	for range 3 {
		ann.chats = nil
		if err := bob.s.Send(engine.Msg{"action": "chat", "text": "wake up"}); err != nil {
			t.Fatal(err)
		}
		bob.s.Pump() // flushes
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		for len(ann.chats) == 0 && ctx.Err() == nil {
			ann.s.PumpWait(ctx, 0)
		}
		cancel()
		if took := time.Since(start); len(ann.chats) == 0 || took > 2*time.Second {
			t.Fatalf("PumpWait delivered %v after %v, want the chat within 2 s", ann.chats, took)
		}
	}
}

// TestInternetRendezvousRestartKeepsGame: once connected, peers do not
// need the rendezvous. It is restarted (every room lost, every long poll
// failing at once) mid-game: messages and requests keep flowing both ways,
// nobody is removed, and the sessions retry the rendezvous with a backoff
// instead of hammering it.
func TestInternetRendezvousRestartKeepsGame(t *testing.T) {
	rdv := startRendezvous(t)
	ann, bob := meetInRoom(t, rdv)
	exchange(t, "before", ann, bob)

	rdv.stop()
	attempts, stopHangingUp := rdv.hangUp()
	pumpAll(t, 10*time.Second, "both sessions notice the rendezvous is gone", func() bool {
		return ann.s.RendezvousErr() != nil && bob.s.RendezvousErr() != nil
	}, ann, bob)
	exchange(t, "while it is down", ann, bob)
	down := time.Now().Add(3 * time.Second)
	pumpAll(t, 10*time.Second, "3 s of play while it is down", func() bool { return time.Now().After(down) }, ann, bob)
	exchange(t, "still down", ann, bob)
	stopHangingUp()
	// Retrying at once would make hundreds of connections a second; with
	// the backoff (250 ms doubling) each session makes about 5 in 3 s.
	if n := attempts(); n > 30 {
		t.Errorf("the sessions tried the rendezvous %d times in about 3 s while it was down: no backoff", n)
	} else {
		t.Logf("the sessions tried the rendezvous %d times in about 3 s while it was down", n)
	}

	rdv.start() // same address, no rooms
	exchange(t, "after the restart", ann, bob)
	// Play on while the sessions come back to the rendezvous (each after
	// its backoff, up to 4 s by now) and find their room gone (rejoining
	// by code fails), then 3 s more: they stop asking.
	pumpAll(t, 20*time.Second, "both sessions find their room gone", func() bool {
		return errors.Is(ann.s.RendezvousErr(), rendezvous.ErrRoomNotFound) && errors.Is(bob.s.RendezvousErr(), rendezvous.ErrRoomNotFound)
	}, ann, bob)
	end := time.Now().Add(3 * time.Second)
	pumpAll(t, 10*time.Second, "3 s of play", func() bool { return time.Now().After(end) }, ann, bob)
	exchange(t, "later", ann, bob)
	for _, p := range []*netPeer{ann, bob} {
		if len(p.removed) > 0 {
			t.Errorf("%s removed %v (%v)", p.s.Name(), p.removed, p.reasons)
		}
	}
	// Each session learns that it is no member (a poll), tries to join
	// its room again (a nonce and a join), finds it gone, and stops: a
	// room code does not come back, and guessing at it would spend this
	// address's allowance of unknown codes.
	if n := rdv.requests.Load(); n > 12 {
		t.Errorf("the restarted rendezvous got %d requests from 2 sessions in about 3 s after finding their room gone, want at most 12 (3 each, and a few updates)", n)
	} else {
		t.Logf("the restarted rendezvous got %d requests from 2 sessions", n)
	}
}

// TestInternetConfigValidation: the internet settings are checked before
// anything is sent, each mistake with an error matching ErrConfig.
// TestRendezvousHostPortMeansHTTPS: Config.Rendezvous may be a bare
// host:port (as the examples' -rendezvous flag takes it), which means
// HTTPS; a URL stays as given.
func TestRendezvousHostPortMeansHTTPS(t *testing.T) {
	for in, want := range map[string]string{
		"rdv.example.org:7777":    "https://rdv.example.org:7777",
		"[2001:db8::1]:7777":      "https://[2001:db8::1]:7777",
		"http://10.0.0.1:7777":    "http://10.0.0.1:7777",
		"https://rdv.example.org": "https://rdv.example.org",
	} {
		c := Config{DisplayName: "ann", ServiceType: "game", Rendezvous: in, CreateRoom: true}
		if err := c.validate(); err != nil || c.Rendezvous != want {
			t.Errorf("Rendezvous %q: validated as %q, %v; want %q", in, c.Rendezvous, err, want)
		}
	}
}

func TestInternetConfigValidation(t *testing.T) {
	base := func(m func(c *Config)) Config {
		c := Config{DisplayName: "ann", ServiceType: "game"}
		m(&c)
		return c
	}
	const url = "http://127.0.0.1:1"
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"room and create", base(func(c *Config) { c.Rendezvous, c.Room, c.CreateRoom = url, "ABCDEF", true }), "exclusive"},
		{"room without rendezvous", base(func(c *Config) { c.Room = "ABCDEF" }), "needs Rendezvous"},
		{"create without rendezvous", base(func(c *Config) { c.CreateRoom = true }), "needs Rendezvous"},
		{"public without rendezvous", base(func(c *Config) { c.PublicRoom = true }), "needs Rendezvous"},
		{"rendezvous without room", base(func(c *Config) { c.Rendezvous = url }), "needs Room"},
		{"public room joined", base(func(c *Config) { c.Rendezvous, c.Room, c.PublicRoom = url, "ABCDEF", true }), "needs CreateRoom"},
		{"bad room code", base(func(c *Config) { c.Rendezvous, c.Room = url, "AB" }), "Room"},
		{"rendezvous not a URL", base(func(c *Config) { c.Rendezvous, c.CreateRoom = "http:/rdv.example.org", true }), "http(s)://"},
		{"rendezvous without a port", base(func(c *Config) { c.Rendezvous, c.CreateRoom = "rdv.example.org", true }), "http(s)://"},
		{"rendezvous without a host", base(func(c *Config) { c.Rendezvous, c.CreateRoom = ":7777", true }), "http(s)://"},
		{"rendezvous ftp", base(func(c *Config) { c.Rendezvous, c.CreateRoom = "ftp://rdv.example.org", true }), "http(s)://"},
		{"ice servers on a LAN", base(func(c *Config) { c.ICEServers = []webrtc.ICEServer{{URLs: []string{"stun:x:3478"}}} }), "need Rendezvous"},
		{"ice server without URL", base(func(c *Config) { c.Rendezvous, c.CreateRoom, c.ICEServers = url, true, []webrtc.ICEServer{{}} }), "no URL"},
		{"ice server http", base(func(c *Config) {
			c.Rendezvous, c.CreateRoom, c.ICEServers = url, true, []webrtc.ICEServer{{URLs: []string{"http://x"}}}
		}), "not a stun:"},
		{"too many ice servers", base(func(c *Config) {
			c.Rendezvous, c.CreateRoom = url, true
			for range webrtc.MaxICEServers + 1 {
				c.ICEServers = append(c.ICEServers, webrtc.ICEServer{URLs: []string{"stun:x:3478"}})
			}
		}), "at most"},
		{"listen addr on the internet", base(func(c *Config) { c.Rendezvous, c.CreateRoom, c.ListenAddr = url, true, ":7000" }), "LAN setting"},
		{"poll interval on the internet", base(func(c *Config) { c.Rendezvous, c.CreateRoom, c.PollInterval = url, true, time.Second }), "LAN setting"},
		{"interface without address", base(func(c *Config) {
			c.Rendezvous, c.CreateRoom, c.Interface = url, true, &net.Interface{Index: 1 << 30, Name: "none"}
		}), "Interface"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Join(t.Context(), tc.cfg)
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q: want one matching ErrConfig that says %q", err, tc.want)
			}
		})
	}
	// A valid one that cannot reach its rendezvous fails at Join, with the
	// rendezvous's error, and leaves nothing running.
	cfg := base(func(c *Config) { c.Rendezvous, c.Room = url, "abc-def" })
	if err := cfg.validate(); err != nil || cfg.Room != "ABCDEF" {
		t.Fatalf("valid config: %v (Room %q)", err, cfg.Room)
	}
	if _, err := Join(t.Context(), cfg); err == nil || errors.Is(err, ErrConfig) {
		t.Fatalf("Join with no rendezvous listening: %v, want a connection error", err)
	}
}

// TestInternetRoomCodeUnknown: joining a code no room has fails at Join
// with rendezvous.ErrRoomNotFound.
func TestInternetRoomCodeUnknown(t *testing.T) {
	before := runtime.NumGoroutine()
	rdv := startRendezvous(t)
	_, err := Join(t.Context(), Config{DisplayName: "ann", ServiceType: "game", Rendezvous: rdv.url(), Room: "ZZZZZZ"})
	if !errors.Is(err, rendezvous.ErrRoomNotFound) {
		t.Fatalf("Join: %v, want rendezvous.ErrRoomNotFound", err)
	}
	rdv.stop()
	goroutinesSettle(t, before) // a failed Join leaves nothing running
}

func fpOf(t *testing.T, cert *tls.Certificate) netcode.Fingerprint {
	t.Helper()
	fp, err := netcode.FingerprintOf(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// seal builds a signal from cert's identity to to, as an internet session
// (a native one) sends it.
func seal(t *testing.T, cert *tls.Certificate, to netcode.Fingerprint, kind byte, attempt uint64, data string) []byte {
	t.Helper()
	b, err := sealSignal(cert.PrivateKey.(crypto.Signer), cert.Certificate[0], fpOf(t, cert), to, kind, attempt, flagKeyIsID, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opened decodes a signal that ann sent to cert's identity, failing the
// test if it does not verify.
func opened(t *testing.T, sig rendezvous.Signal, from netcode.Fingerprint, cert *tls.Certificate) signal {
	t.Helper()
	if sig.From != from.String() {
		t.Fatalf("signal from %s, want %s", sig.From, from)
	}
	m, err := openSignal(sig.Data, from, fpOf(t, cert))
	if err != nil {
		t.Fatalf("signal does not verify: %v", err)
	}
	return m
}

// pollFor polls room until a signal arrives or d passes.
func pollFor(t *testing.T, room *rendezvous.Room, d time.Duration, pump func()) []rendezvous.Signal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	got := make(chan []rendezvous.Signal, 1)
	go func() {
		var sigs []rendezvous.Signal
		for ctx.Err() == nil && len(sigs) == 0 {
			ev, err := room.Poll(ctx)
			if err == nil {
				sigs = ev.Signals
			}
		}
		got <- sigs
	}()
	for {
		select {
		case sigs := <-got:
			return sigs
		default:
			pump()
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestInternetHostileSignals: what the relay brings is checked. A room
// member that is not the lower identity cannot start a connection;
// malformed signals, unknown kinds and answers to no attempt are dropped;
// a locked session refuses an offer through the relay ("session locked",
// for the offer's attempt) without making a connection; a hostile offer
// ends in a failed answer, nothing else; and the relay's signals from
// senders not in the roster, or beyond what an attempt needs, are dropped.
func TestInternetHostileSignals(t *testing.T) {
	rdv := startRendezvous(t)
	certs := certsByIdentity(t, 3) // low < ann < high
	ann := joinInternetTest(t, "ann", func(c *Config) { c.Rendezvous = rdv.url(); c.CreateRoom = true; c.Net.Certificate = certs[1] })
	member := func(cert *tls.Certificate, name string) *rendezvous.Room {
		c, err := rendezvous.NewClient(rdv.url(), *cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		room, err := c.Join(t.Context(), ann.s.Room(), rendezvous.Record{Version: ProtocolVersion, Seats: 0, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { room.Leave(context.Background()) })
		return room
	}
	low, high := member(certs[0], "low"), member(certs[2], "high")
	annID := ann.s.ID().String()
	pump := func() { ann.s.Pump() }
	pumpAll(t, 10*time.Second, "ann sees both in the roster", func() bool { return len(ann.s.candidates) == 2 }, ann)

	send := func(room *rendezvous.Room, data []byte) {
		t.Helper()
		if err := room.Signal(t.Context(), annID, data); err != nil {
			t.Fatal(err)
		}
	}
	annFP := ann.s.ID()
	// The higher identity offers: the wrong direction, ignored.
	send(high, seal(t, certs[2], annFP, kindOffer, 1, "not an sdp"))
	// Malformed, forged or unexpected, from the lower identity.
	send(low, []byte{1, kindOffer}) // shorter than the header
	v2 := seal(t, certs[0], annFP, kindOffer, 2, "v2")
	v2[0] = 2
	send(low, v2) // another version
	forged := seal(t, certs[0], annFP, kindOffer, 3, "an offer")
	forged[len(forged)-1] ^= 1
	send(low, forged)                                                // the payload changed after signing
	send(low, seal(t, certs[2], annFP, kindOffer, 4, "high's"))      // signed by another identity
	send(low, seal(t, certs[0], highID(1), kindOffer, 5, "to whom")) // signed for another recipient
	send(low, seal(t, certs[0], annFP, 'x', 6, "unknown kind"))      // another kind
	send(low, seal(t, certs[0], annFP, kindAnswer, 7, "no attempt")) // an answer to nothing
	send(low, seal(t, certs[0], annFP, kindRefuse, 8, "no attempt")) // a refusal of nothing
	end := time.Now().Add(time.Second)
	pumpAll(t, 5*time.Second, "a second of pumping", func() bool { return time.Now().After(end) }, ann)
	if n := len(ann.s.answering); n != 0 {
		t.Fatalf("ann answers %d offers, want none", n)
	}
	ann.s.rdv.mu.Lock()
	links, offers := len(ann.s.rdv.links), len(ann.s.rdv.offers)
	ann.s.rdv.mu.Unlock()
	if links != 0 || offers != 0 {
		t.Fatalf("ann holds %d links and %d offers, want none", links, offers)
	}

	// Locked: an offer from the lower identity is refused through the
	// relay, for its attempt, and nothing is answered.
	ann.s.StopLookingForPeers()
	send(low, seal(t, certs[0], annFP, kindOffer, 42, "an offer"))
	sigs := pollFor(t, low, 10*time.Second, pump)
	if len(sigs) != 1 {
		t.Fatalf("low got %d signals, want one refusal", len(sigs))
	}
	if m := opened(t, sigs[0], annFP, certs[0]); m.kind != kindRefuse || m.attempt != 42 || string(m.data) != ReasonLocked || m.flags != flagKeyIsID {
		t.Fatalf("low got %+v, want a refusal of attempt 42, %q", m, ReasonLocked)
	}
	if n := len(ann.s.answering); n != 0 {
		t.Fatalf("a locked session answers %d offers", n)
	}

	// Unlocked: a hostile offer (no SDP) starts an answer that fails;
	// the session carries on. (A session takes one offer a second from a
	// peer: offerEvery.)
	if err := ann.s.StartLookingForPeers(); err != nil {
		t.Fatal(err)
	}
	end = time.Now().Add(offerEvery + 100*time.Millisecond)
	pumpAll(t, 5*time.Second, "a second of pumping", func() bool { return time.Now().After(end) }, ann)
	send(low, seal(t, certs[0], annFP, kindOffer, 43, `{"v":1,"sdp":"garbage"}`))
	pumpAll(t, 5*time.Second, "ann answers the offer", func() bool { return len(ann.s.answering) == 1 }, ann)
	pumpAll(t, 20*time.Second, "the answer fails", func() bool { return len(ann.s.answering) == 0 }, ann)
	if len(ann.added) != 0 || len(ann.s.Peers()) != 0 {
		t.Fatalf("ann added %v", ann.added)
	}

	// Straight into take, as a hostile relay would answer a poll: senders
	// outside the roster are dropped, and an attempt holds at most
	// signalQueue signals however many arrive.
	r := ann.s.rdv
	lowID, _ := netcode.FingerprintOf(certs[0].Certificate[0])
	stranger, _ := netcode.FingerprintOf(certs[2].Certificate[0])
	l := r.newLink(lowID, 7, true) // as if ann offered to low
	defer r.dropLink(l)
	answer := seal(t, certs[0], annFP, kindAnswer, 7, "answer")
	strangerOffer := seal(t, certs[2], annFP, kindOffer, 8, "offer")
	var ev rendezvous.Events
	ev.Members = []rendezvous.Member{{ID: annID}, {ID: lowID.String()}}
	for i := range 100 {
		ev.Signals = append(ev.Signals,
			rendezvous.Signal{Seq: uint64(2*i + 1), From: lowID.String(), Data: answer},
			rendezvous.Signal{Seq: uint64(2*i + 2), From: stranger.String(), Data: strangerOffer})
	}
	r.take(ev)
	if n := len(l.in); n != signalQueue {
		t.Errorf("the attempt holds %d signals after 100 answers, want %d", n, signalQueue)
	}
	r.mu.Lock()
	_, kept := r.offers[stranger]
	r.mu.Unlock()
	if kept {
		t.Error("an offer from a sender outside the roster was kept")
	}
}

// TestInternetThreeMembersMeshAndShutdown: every member of a room connects
// to every other (the Connect by ID promise), all agree on the host (the
// lowest identity), and a member that leaves with Shutdown is removed by
// the others with its reason.
func TestInternetThreeMembersMeshAndShutdown(t *testing.T) {
	rdv := startRendezvous(t)
	ann := joinInternetTest(t, "ann", func(c *Config) { c.Rendezvous = rdv.url(); c.CreateRoom = true; c.MaxPeers = 3 })
	bob := joinInternetTest(t, "bob", func(c *Config) { c.Rendezvous = rdv.url(); c.Room = ann.s.Room() })
	carl := joinInternetTest(t, "carl", func(c *Config) { c.Rendezvous = rdv.url(); c.Room = ann.s.Room() })
	all := []*netPeer{ann, bob, carl}
	pumpAll(t, 30*time.Second, "a full mesh of 3", func() bool {
		for _, p := range all {
			if len(p.s.Peers()) != 2 {
				return false
			}
		}
		return true
	}, all...)
	lowest := ann.s.ID()
	for _, p := range all {
		if p.s.ID().Less(lowest) {
			lowest = p.s.ID()
		}
		for _, q := range all {
			if p != q && p.s.Peer(q.s.ID()) == nil {
				t.Errorf("%s: Peer(%s's ID) is nil", p.s.Name(), q.s.Name())
			}
		}
	}
	for _, p := range all {
		if p.s.Host() != lowest {
			t.Errorf("%s: host %v, want the lowest identity %v", p.s.Name(), p.s.Host(), lowest)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := carl.s.Shutdown(ctx, "dinner time"); err != nil {
		t.Fatal(err)
	}
	pumpAll(t, 20*time.Second, "carl removed by ann and bob", func() bool {
		return len(ann.removed) == 1 && len(bob.removed) == 1
	}, ann, bob)
	for _, p := range []*netPeer{ann, bob} {
		if p.removed[0] != "carl" || !strings.Contains(p.reasons[0].Error(), "dinner time") {
			t.Errorf("%s removed %v: %v, want carl with the reason", p.s.Name(), p.removed, p.reasons)
		}
	}
}

// TestInternetAnswersBounded: a session answers at most as many offers
// at once as it has seats (each answer holds a peer connection until it
// ends); beyond, it refuses through the relay with "session full".
func TestInternetAnswersBounded(t *testing.T) {
	rdv := startRendezvous(t)
	certs := certsByIdentity(t, 2) // low < ann
	ann := joinInternetTest(t, "ann", func(c *Config) {
		c.Rendezvous, c.CreateRoom, c.MaxPeers, c.Net.Certificate = rdv.url(), true, 2, certs[1]
	})
	c, err := rendezvous.NewClient(rdv.url(), *certs[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	low, err := c.Join(t.Context(), ann.s.Room(), rendezvous.Record{Version: ProtocolVersion, Name: "low"})
	if err != nil {
		t.Fatal(err)
	}
	defer low.Leave(context.Background())
	pumpAll(t, 10*time.Second, "ann sees low in the roster", func() bool { return len(ann.s.candidates) == 1 }, ann)
	// One answer in progress already (another peer's): the only seat.
	var other [32]byte
	other[0] = 1
	ann.s.answering[other] = &answering{cancel: func() {}}
	defer delete(ann.s.answering, other)
	if err := low.Signal(t.Context(), ann.s.ID().String(), seal(t, certs[0], ann.s.ID(), kindOffer, 9, "an offer")); err != nil {
		t.Fatal(err)
	}
	sigs := pollFor(t, low, 10*time.Second, func() { ann.s.Pump() })
	if len(sigs) != 1 {
		t.Fatalf("low got %d signals, want one refusal", len(sigs))
	}
	if m := opened(t, sigs[0], ann.s.ID(), certs[0]); m.kind != kindRefuse || m.attempt != 9 || string(m.data) != ReasonFull {
		t.Fatalf("low got %+v, want a refusal of attempt 9, %q", m, ReasonFull)
	}
	if len(ann.s.answering) != 1 {
		t.Fatalf("ann answers %d offers, want only the one it had", len(ann.s.answering))
	}
}

// asBrowser makes the sessions named in names behave as a browser does:
// a new DTLS key for each connection (not the identity key), and flags
// that say so, unless lie is set (then they claim the DTLS key is the
// identity key).
func asBrowser(t *testing.T, lie bool, names ...string) {
	testJoinHook = func(cfg *Config, r *internet) {
		if slices.Contains(names, cfg.DisplayName) {
			r.wcfg.Certificate = nil
			if !lie {
				r.flags = 0
			}
		}
	}
	t.Cleanup(func() { testJoinHook = nil })
}

// TestInternetPeerWithConnectionKeys: a member whose DTLS key is not its
// identity key (as a browser's, made per connection) is verified by its
// signed signals instead: both sessions add each other, the game sees the
// member's identity as its Fingerprint, and messages and requests flow.
func TestInternetPeerWithConnectionKeys(t *testing.T) {
	asBrowser(t, false, "bob")
	rdv := startRendezvous(t)
	ann, bob := meetInRoom(t, rdv)
	for _, pair := range [][2]*netPeer{{ann, bob}, {bob, ann}} {
		p := pair[0].s.Peer(pair[1].s.ID())
		if p == nil || p.Fingerprint() != pair[1].s.ID() {
			t.Fatalf("%s: Peer(%s's ID) = %v", pair[0].s.Name(), pair[1].s.Name(), p)
		}
	}
	if _, wrapped := ann.s.Peer(bob.s.ID()).Conn().(*identified); !wrapped {
		t.Errorf("ann's connection to bob is a %T, want one carrying bob's identity", ann.s.Peer(bob.s.ID()).Conn())
	}
	exchange(t, "hello", ann, bob)
}

// TestInternetDTLSKeyMustBeIdentity: a member that says its DTLS key is
// its identity key (as native peers do) must show that key in the
// handshake: one that shows another is never added.
func TestInternetDTLSKeyMustBeIdentity(t *testing.T) {
	asBrowser(t, true, "bob")
	rdv := startRendezvous(t)
	ann := joinInternetTest(t, "ann", func(c *Config) { c.Rendezvous = rdv.url(); c.CreateRoom = true })
	bob := joinInternetTest(t, "bob", func(c *Config) { c.Rendezvous = rdv.url(); c.Room = ann.s.Room() })
	end := time.Now().Add(3 * time.Second)
	pumpAll(t, 10*time.Second, "3 s of trying", func() bool { return time.Now().After(end) }, ann, bob)
	if len(ann.added) != 0 || len(bob.added) != 0 {
		t.Fatalf("added: ann %v, bob %v; want nobody", ann.added, bob.added)
	}
}

// TestInternetStreamsAndLock: the rest of the Session API over the
// internet. A byte stream crosses a WebRTC connection whole and in order;
// with StopLookingForPeers on both members a third one in the room is
// kept out (seen in the roster, never added), and StartLookingForPeers
// lets it in.
func TestInternetStreamsAndLock(t *testing.T) {
	rdv := startRendezvous(t)
	ann, bob := meetInRoom(t, rdv)
	data := make([]byte, 200_000) // many messages' worth
	for i := range data {
		data[i] = byte(i * 7)
	}
	if n, err := bob.s.Stream(bob.s.Peer(ann.s.ID())).Write(data); n != len(data) || err != nil {
		t.Fatalf("write %d, %v", n, err)
	}
	st := ann.s.Stream(ann.s.Peer(bob.s.ID()))
	var got []byte
	pumpAll(t, 30*time.Second, "the stream's bytes at ann", func() bool {
		buf := make([]byte, 64<<10)
		for st.Buffered() > 0 {
			n, _ := st.Read(buf)
			got = append(got, buf[:n]...)
		}
		return len(got) >= len(data)
	}, ann, bob)
	if !bytes.Equal(got, data) {
		t.Fatalf("ann read %d bytes that differ from the %d bob wrote", len(got), len(data))
	}

	ann.s.StopLookingForPeers()
	bob.s.StopLookingForPeers()
	cat := joinInternetTest(t, "cat", func(c *Config) { c.Rendezvous = rdv.url(); c.Room = ann.s.Room() })
	end := time.Now().Add(4 * time.Second)
	pumpAll(t, 10*time.Second, "4 s with the session locked", func() bool { return time.Now().After(end) }, ann, bob, cat)
	if len(ann.added) != 1 || len(bob.added) != 1 || len(cat.added) != 0 {
		t.Fatalf("locked: ann added %v, bob %v, cat %v; want cat kept out", ann.added, bob.added, cat.added)
	}
	for _, p := range []*netPeer{ann, bob} {
		if err := p.s.StartLookingForPeers(); err != nil {
			t.Fatal(err)
		}
	}
	pumpAll(t, 30*time.Second, "cat added once the session looks again", func() bool {
		return len(ann.added) == 2 && len(bob.added) == 2 && len(cat.added) == 2
	}, ann, bob, cat)
}
