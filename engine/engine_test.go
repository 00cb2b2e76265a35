package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode"
)

// world is a server and its clients on an in-memory network.
type world struct {
	t       *testing.T
	net     *fakenet.Network
	srv     *Server
	clients []*Client
	next    int
}

var srvAP = netip.MustParseAddrPort("10.3.0.1:31425")

func newWorld(t *testing.T) *world {
	t.Helper()
	n := fakenet.New()
	pc, err := n.Listen(srvAP)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, net: n, srv: NewServer(ep, nil)}
	t.Cleanup(func() {
		for _, c := range w.clients {
			c.Close()
		}
		w.srv.Close()
	})
	return w
}

// client connects a new client to the server (or to target if given).
func (w *world) client(target ...string) *Client {
	w.t.Helper()
	w.next++
	pc, err := w.net.Listen(netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("10.3.1.%d", w.next)), 5000))
	if err != nil {
		w.t.Fatal(err)
	}
	ep, err := netcode.NewEndpoint(pc, EndpointConfig(netcode.Config{}))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { ep.Close() })
	to := FormatTarget(srvAP, w.srv.Fingerprint())
	if len(target) > 0 {
		to = target[0]
	}
	c, err := Connect(to, &ClientConfig{Endpoint: ep})
	if err != nil {
		w.t.Fatal(err)
	}
	w.clients = append(w.clients, c)
	return c
}

// pumpUntil pumps the server and every client until cond holds, or fails
// after d of (virtual) time.
func (w *world) pumpUntil(d time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("condition not met after %v", d)
		}
		w.srv.Pump()
		for _, c := range w.clients {
			c.Pump()
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder is a listener that records what it receives.
type recorder struct {
	events []string
	msgs   []Msg
	errs   []error
	disc   []Disconnected
}

func (r *recorder) Network_connected(m Msg)     { r.events = append(r.events, "connected") }
func (r *recorder) Network_socketConnect(m Msg) { r.events = append(r.events, "socketConnect") }
func (r *recorder) Network_error(err error) {
	r.events = append(r.events, "error")
	r.errs = append(r.errs, err)
}
func (r *recorder) Network_disconnected(d Disconnected) {
	r.events = append(r.events, "disconnected")
	r.disc = append(r.disc, d)
}
func (r *recorder) Network_chat(m Msg) { r.msgs = append(r.msgs, m) }

func (r *recorder) has(ev string) bool {
	for _, e := range r.events {
		if e == ev {
			return true
		}
	}
	return false
}

func TestConnectToClosedPortReportsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		nobody := FormatTarget(netip.MustParseAddrPort("10.3.9.9:1"), w.srv.Fingerprint())
		c := w.client(nobody)
		var r recorder
		if err := c.Register(&r); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		w.pumpUntil(time.Minute, func() bool { return r.has("disconnected") })
		if el := time.Since(start); el > 11*time.Second {
			t.Fatalf("error after %v, beyond the 10 s handshake deadline", el)
		}
		if len(r.events) != 2 || r.events[0] != "error" || r.events[1] != "disconnected" {
			t.Fatalf("events %v, want [error disconnected]", r.events)
		}
		if !errors.Is(r.errs[0], netcode.ErrTimeout) {
			t.Fatalf("error %v, want a timeout", r.errs[0])
		}
	})
}

func TestSendBeforeConnectKeepsOrderAndGreeting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var hooked []*Peer
		w.srv.OnConnect(func(p *Peer) { p.Value = "player"; hooked = append(hooked, p) })
		var got []string
		if err := w.srv.Handle("chat", func(p *Peer, m Msg) {
			if p.Value != "player" {
				t.Errorf("handler ran before OnConnect set Value")
			}
			got = append(got, m["text"].(string))
		}); err != nil {
			t.Fatal(err)
		}
		c := w.client()
		var r recorder
		c.Register(&r)
		for _, s := range []string{"one", "two", "three"} {
			if err := c.Send(Msg{"action": "chat", "text": s}); err != nil {
				t.Fatal(err)
			}
		}
		w.pumpUntil(10*time.Second, func() bool { return len(got) == 3 && r.has("connected") })
		if strings.Join(got, ",") != "one,two,three" {
			t.Fatalf("server got %v", got)
		}
		if len(hooked) != 1 {
			t.Fatalf("OnConnect ran %d times", len(hooked))
		}
		if r.events[0] != "socketConnect" || r.events[1] != "connected" {
			t.Fatalf("client events %v, want socketConnect then connected", r.events)
		}
	})
}

type boom struct{ calls int }

func (b *boom) Network_boom(p *Peer, m Msg) {
	b.calls++
	panic("handler bug")
}

func TestHandlerPanicClosesOnlyThatChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var b boom
		w.srv.Register(&b)
		var srvErrs []error
		var srvDisc []*Peer
		w.srv.Handle("error", func(p *Peer, err error) { srvErrs = append(srvErrs, err) })
		w.srv.OnDisconnect(func(p *Peer, err error) { srvDisc = append(srvDisc, p) })
		bad, good := w.client(), w.client()
		var rb, rg recorder
		bad.Register(&rb)
		good.Register(&rg)
		w.pumpUntil(10*time.Second, func() bool { return rb.has("connected") && rg.has("connected") })
		bad.Send(Msg{"action": "boom"})
		w.pumpUntil(10*time.Second, func() bool { return rb.has("disconnected") && len(srvDisc) == 1 })
		if b.calls != 1 || len(srvErrs) != 1 || !strings.Contains(srvErrs[0].Error(), "handler bug") {
			t.Fatalf("calls %d, server errors %v", b.calls, srvErrs)
		}
		if len(w.srv.Peers()) != 1 {
			t.Fatalf("%d channels left, want the good one", len(w.srv.Peers()))
		}
		// The good client is unaffected.
		var got []string
		w.srv.Handle("chat", func(p *Peer, m Msg) { got = append(got, m["text"].(string)) })
		good.Send(Msg{"action": "chat", "text": "still here"})
		w.pumpUntil(5*time.Second, func() bool { return len(got) == 1 })
		if rg.has("disconnected") {
			t.Fatal("the good client was disconnected")
		}
	})
}

func TestFiftyClientsLeaveNoChannelBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		connects, disconnects := 0, 0
		w.srv.OnConnect(func(*Peer) { connects++ })
		w.srv.OnDisconnect(func(*Peer, error) { disconnects++ })
		var cs []*Client
		for range 50 {
			cs = append(cs, w.client())
		}
		w.pumpUntil(30*time.Second, func() bool { return connects == 50 })
		if n := len(w.srv.Peers()); n != 50 {
			t.Fatalf("%d channels, want 50", n)
		}
		for _, c := range cs {
			c.Close()
		}
		w.pumpUntil(30*time.Second, func() bool { return disconnects == 50 })
		if n := len(w.srv.Peers()); n != 0 {
			t.Fatalf("%d channels left behind", n)
		}
		if n := len(w.srv.peers); n != 0 {
			t.Fatalf("%d closed channels not pruned", n)
		}
	})
}

type chatMsg struct {
	Action string `msgpack:"action"`
	Text   string `msgpack:"text"`
	N      int    `msgpack:"n"`
}

func TestTypedAndMapHandlersBothReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var typed []chatMsg
		var untyped []Msg
		if err := HandleFunc(w.srv, "chat", func(p *Peer, m chatMsg) { typed = append(typed, m) }); err != nil {
			t.Fatal(err)
		}
		w.srv.Handle("chat", func(p *Peer, m Msg) { untyped = append(untyped, m) })
		c := w.client()
		c.Send(chatMsg{Action: "chat", Text: "hi", N: 7})
		w.pumpUntil(10*time.Second, func() bool { return len(typed) == 1 && len(untyped) == 1 })
		if typed[0].Text != "hi" || typed[0].N != 7 {
			t.Fatalf("typed handler got %+v", typed[0])
		}
		if untyped[0]["text"] != "hi" || untyped[0]["n"] != int64(7) {
			t.Fatalf("map handler got %v", untyped[0])
		}
	})
}

func TestRequestTimeoutAndNoHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		// The server holds the request without replying.
		w.srv.Handle("slow", func(p *Peer, m Msg) {})
		c := w.client()
		var results []error
		c.Request(context.Background(), Msg{"action": "slow"}, func(r Msg, err error) { results = append(results, err) }, Timeout(2*time.Second))
		c.Request(context.Background(), Msg{"action": "nobody"}, func(r Msg, err error) { results = append(results, err) }, Timeout(2*time.Second))
		start := time.Now()
		w.pumpUntil(10*time.Second, func() bool { return len(results) == 2 })
		if !errors.Is(results[0], ErrRemote) || !strings.Contains(results[0].Error(), "no handler") {
			t.Fatalf("request to an unhandled action: %v", results[0])
		}
		if !errors.Is(results[1], ErrRequestTimeout) {
			t.Fatalf("unanswered request: %v", results[1])
		}
		if el := time.Since(start); el < 2*time.Second || el > 3*time.Second {
			t.Fatalf("timeout fired after %v, want 2 s", el)
		}
	})
}

func TestRequestReplyAndForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		asker, answerer := w.client(), w.client()
		// The answerer replies to "square" requests from the server.
		answerer.Handle("square", func(cl *Client, m Msg) {
			n := m["n"].(int64)
			cl.Reply(Msg{"action": "squared", "n": n * n})
		})
		// The server forwards every "square" to the answerer.
		var target *Peer
		w.srv.Handle("hello", func(p *Peer, m Msg) { target = p })
		w.srv.Handle("square", func(p *Peer, m Msg) {
			if err := p.Forward(context.Background(), target, Timeout(time.Second)); err != nil {
				t.Errorf("forward: %v", err)
			}
		})
		answerer.Send(Msg{"action": "hello"})
		w.pumpUntil(10*time.Second, func() bool { return target != nil })
		var got Msg
		var gotErr error
		asker.Request(context.Background(), Msg{"action": "square", "n": 12}, func(r Msg, err error) { got, gotErr = r, err }, Timeout(5*time.Second))
		w.pumpUntil(10*time.Second, func() bool { return got != nil || gotErr != nil })
		if gotErr != nil || got["n"] != int64(144) || got["action"] != "squared" {
			t.Fatalf("forwarded request answered with %v, %v", got, gotErr)
		}
	})
}

func TestDisconnectedAfterServerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		var r recorder
		c.Register(&r)
		w.pumpUntil(10*time.Second, func() bool { return r.has("connected") })
		w.srv.Close()
		w.pumpUntil(10*time.Second, func() bool { return r.has("disconnected") })
		if !errors.Is(r.disc[0].Err, net.ErrClosed) || r.disc[0].Reason == "" {
			t.Fatalf("disconnected %+v", r.disc[0])
		}
		if err := c.Send(Msg{"action": "chat"}); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Send after disconnect: %v", err)
		}
		// Exactly once.
		for range 10 {
			c.Pump()
		}
		n := 0
		for _, e := range r.events {
			if e == "disconnected" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("disconnected delivered %d times", n)
		}
	})
}

func TestAdoptGateAndSkipGreeting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		mk := func(ip string, gate func(*Peer, []byte) bool) *Server {
			pc, _ := n.Listen(netip.MustParseAddrPort(ip))
			ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
			if err != nil {
				t.Fatal(err)
			}
			s := NewServer(ep, &ServerConfig{SkipGreeting: true, Gate: gate})
			t.Cleanup(func() { s.Close() })
			return s
		}
		admitted := false
		var gated []string
		a := mk("10.4.0.1:1", nil)
		b := mk("10.4.0.2:1", func(p *Peer, payload []byte) bool {
			act, _ := p.codec.Action(payload)
			if act == "hello" {
				admitted = true
				return false
			}
			if !admitted {
				gated = append(gated, act)
			}
			return admitted
		})
		var aGot, bGot []string
		a.Handle("", func(p *Peer, m Msg) { aGot = append(aGot, m.Action()) })
		b.Handle("", func(p *Peer, m Msg) { bGot = append(bGot, m.Action()) })
		conn, err := a.Endpoint().Dial(t.Context(), netip.MustParseAddrPort("10.4.0.2:1"),
			netcode.DialOptions{Fingerprint: b.Fingerprint()})
		if err != nil {
			t.Fatal(err)
		}
		ch := a.Adopt(conn)
		ch.Send(Msg{"action": "early"})
		ch.Send(Msg{"action": "hello"})
		ch.Send(Msg{"action": "late"})
		for range 100 {
			a.Pump()
			b.Pump()
			time.Sleep(time.Millisecond)
		}
		if len(a.Peers()) != 1 || len(b.Peers()) != 1 {
			t.Fatalf("channels: %d and %d", len(a.Peers()), len(b.Peers()))
		}
		// Each side sees its local "connected" event; b's gate held back
		// "early" and took "hello"; no greeting message crossed.
		if strings.Join(bGot, ",") != "connected,late" || strings.Join(gated, ",") != "early" {
			t.Fatalf("b dispatched %v, gated %v", bGot, gated)
		}
		if strings.Join(aGot, ",") != "connected" {
			t.Fatalf("a got %v: a greeting was sent despite SkipGreeting", aGot)
		}
	})
}

func TestPeerCannotFakeBuiltInEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var faked []string
		var errs []error
		w.srv.Handle("disconnected", func(p *Peer, m Msg) { faked = append(faked, "disconnected") })
		w.srv.Handle("connected", func(p *Peer, m Msg) {
			if m["addr"] == nil {
				faked = append(faked, "connected")
			}
		})
		w.srv.Handle("error", func(p *Peer, err error) { errs = append(errs, err) })
		c := w.client()
		c.Send(Msg{"action": "disconnected", "reason": "lies"})
		c.Send(Msg{"action": "connected"})
		w.pumpUntil(10*time.Second, func() bool { return len(errs) == 2 })
		if len(faked) != 0 {
			t.Fatalf("a client faked server events: %v", faked)
		}
		if !errors.Is(errs[0], ErrReserved) {
			t.Fatalf("error %v, want ErrReserved", errs[0])
		}
	})
}

func TestServerCloseDeliversDisconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		connects, disconnects := 0, 0
		w.srv.OnConnect(func(*Peer) { connects++ })
		w.srv.OnDisconnect(func(*Peer, error) { disconnects++ })
		var rs []*recorder
		for range 3 {
			r := &recorder{}
			w.client().Register(r)
			rs = append(rs, r)
		}
		w.pumpUntil(10*time.Second, func() bool { return connects == 3 })
		w.srv.CloseWithReason("maintenance")
		w.pumpUntil(10*time.Second, func() bool {
			for _, r := range rs {
				if !r.has("disconnected") {
					return false
				}
			}
			return disconnects == 3
		})
		for _, r := range rs {
			if r.disc[0].Reason != "maintenance" {
				t.Fatalf("client saw reason %q", r.disc[0].Reason)
			}
		}
	})
}

func TestClientWakeIsStableAndShutdownFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var got []int64
		w.srv.Handle("n", func(p *Peer, m Msg) { got = append(got, m["i"].(int64)) })
		var why error
		w.srv.OnDisconnect(func(_ *Peer, reason error) { why = reason })
		c := w.client()
		wake := c.Wake() // taken before the connection is up
		for i := range 200 {
			c.Send(Msg{"action": "n", "i": i})
		}
		// Waiting on the early Wake channel must see the connection come up.
		select {
		case <-wake:
		case <-time.After(5 * time.Second):
			t.Fatal("no wake-up")
		}
		c.Pump()
		stop := make(chan struct{})
		served := make(chan int)
		go func() { // the server's own loop
			for {
				select {
				case <-stop:
					served <- len(got)
					return
				default:
				}
				w.srv.Pump()
				time.Sleep(time.Millisecond)
			}
		}()
		if err := c.Shutdown(t.Context(), "gone to dinner"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		close(stop)
		if n := <-served; n != 200 {
			t.Fatalf("server got %d of 200 messages sent before Shutdown", n)
		}
		var ce *netcode.CloseError
		if !errors.As(why, &ce) || ce.Code != netcode.CodeNormal || ce.Reason != "gone to dinner" {
			t.Fatalf("the server saw the client leave with %v, want a normal close with the Shutdown's reason", why)
		}
	})
}

func TestSendSkipsEndedPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		connects := 0
		w.srv.OnConnect(func(*Peer) { connects++ })
		a, b := w.client(), w.client()
		var heard []string
		b.Handle("news", func(m Msg) { heard = append(heard, m["text"].(string)) })
		w.pumpUntil(10*time.Second, func() bool { return connects == 2 })
		a.Close()
		time.Sleep(100 * time.Millisecond) // a's close reached the server, not yet pumped
		if err := w.srv.Send(Msg{"action": "news", "text": "a left"}); err != nil {
			t.Fatalf("Send reported the ended peer: %v", err)
		}
		w.srv.Flush()
		w.pumpUntil(5*time.Second, func() bool { return len(heard) == 1 })
	})
}
