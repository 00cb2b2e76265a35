package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode"
)

// smallQueueWorld is a server and one client on the in-memory network whose
// transport send queue holds only a few 500-byte messages.
func smallQueueWorld(t *testing.T, queueLimit int) (*world, *Client) {
	t.Helper()
	n := fakenet.New()
	nc := netcode.Config{MaxMessageSize: 1024, SendQueueBytes: 2048}
	pc, err := n.Listen(srvAP)
	if err != nil {
		t.Fatal(err)
	}
	sep, err := netcode.ListenPacket(pc, EndpointConfig(nc))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, net: n, srv: NewServer(sep, nil)}
	cpc, err := n.Listen(netip.MustParseAddrPort("10.3.1.1:5000"))
	if err != nil {
		t.Fatal(err)
	}
	cep, err := netcode.NewEndpoint(cpc, EndpointConfig(nc))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(FormatTarget(srvAP, w.srv.Fingerprint()), &ClientConfig{Endpoint: cep, QueueLimit: queueLimit})
	if err != nil {
		t.Fatal(err)
	}
	w.clients = append(w.clients, c)
	t.Cleanup(func() {
		c.Close()
		w.srv.Close()
		cep.Close()
	})
	return w, c
}

type seqMsg struct {
	Action string `msgpack:"action"`
	N      int    `msgpack:"n"`
	Pad    string `msgpack:"pad"`
}

// Issue 12, defect 3: ten messages sent before the connection, more than
// the transport's queue takes at once, then one more after it: the server
// gets all eleven, in order (it got 0 1 2 100 and never the rest).
func TestSendBeforeConnectNeverOvertakenOrStranded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, c := smallQueueWorld(t, 10)
		var got []int
		HandleFunc(w.srv, "seq", func(_ *Peer, m seqMsg) { got = append(got, m.N) })
		pad := strings.Repeat("x", 500)
		for i := range 10 {
			if err := c.Send(seqMsg{Action: "seq", N: i, Pad: pad}); err != nil {
				t.Fatalf("send %d before connect: %v", i, err)
			}
		}
		// The pre-connect queue is bounded: the 11th is an error now.
		if err := c.Send(seqMsg{Action: "seq", N: 10, Pad: pad}); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("send beyond QueueLimit: %v, want ErrQueueFull", err)
		}
		w.pumpUntil(10*time.Second, func() bool { return c.Connected() })
		if err := c.Send(seqMsg{Action: "seq", N: 100, Pad: pad}); err != nil {
			t.Fatalf("send after connect: %v", err)
		}
		for deadline := time.Now().Add(10 * time.Second); len(got) < 11 && time.Now().Before(deadline); {
			w.srv.Pump()
			c.Pump()
			time.Sleep(time.Millisecond)
		}
		want := "[0 1 2 3 4 5 6 7 8 9 100]"
		if fmt.Sprint(got) != want {
			t.Fatalf("server got %v, want %s", got, want)
		}
	})
}

// mutePC is a socket whose writes can be switched off: the server goes
// silent without telling anyone, so its clients time out.
type mutePC struct {
	*net.UDPConn
	mute atomic.Bool
}

func (m *mutePC) WriteToUDPAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if m.mute.Load() {
		return len(b), nil
	}
	return m.UDPConn.WriteToUDPAddrPort(b, a)
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// settledGoroutines waits (up to 5 s) for the goroutine count to fall to
// at most limit, and returns it.
func settledGoroutines(limit int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > limit && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// Issue 12, defect 4: a client whose connection ended (the server closed
// it, or it timed out) frees its socket and goroutines by the time
// "disconnected" is delivered, without Close. Clients connect in batches
// over real sockets (1,000 that the server closes, 200 that time out; a
// fifth of that under the race detector) and are never closed: file
// descriptors and goroutines stay flat (each client kept one of each
// before).
func TestClientEndFreesSocketAndGoroutines(t *testing.T) {
	for _, how := range []string{"server closes", "client times out"} {
		t.Run(how, func(t *testing.T) {
			// The race detector makes each handshake many times slower:
			// fewer clients then (each leaked one socket before).
			total, batch := 1000, 10
			if how == "client times out" {
				total, batch = 200, 20 // each batch waits out the idle timeout
			}
			if raceEnabled {
				total, batch = total/5, 10 // handshakes are slow: fewer at once
			}
			uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			pc := &mutePC{UDPConn: uc}
			nc := netcode.Config{IdleTimeout: time.Second, KeepAlive: 200 * time.Millisecond,
				MaxHandshakesPerIP: 1 << 20, MaxFailedHandshakesPerIP: 1 << 20}
			ep, err := netcode.ListenPacket(pc, EndpointConfig(nc))
			if err != nil {
				t.Fatal(err)
			}
			srv := NewServer(ep, nil)
			defer srv.Close()
			target := FormatTarget(ep.AddrPort(), srv.Fingerprint())
			cfg := &ClientConfig{Net: nc}
			fd0, g0 := 0, 0
			for done := 0; done < total; done += batch {
				pc.mute.Store(false)
				cls := make([]*Client, batch)
				ended := 0
				for i := range cls {
					if cls[i], err = Connect(target, cfg); err != nil {
						t.Fatal(err)
					}
					cls[i].Handle("disconnected", func(*Client, Msg) { ended++ })
				}
				connected := func() bool {
					for _, c := range cls {
						if !c.Connected() {
							return false
						}
					}
					return len(srv.Peers()) == batch
				}
				pumpAll(t, srv, cls, 20*time.Second, connected)
				if how == "server closes" {
					for _, p := range srv.Peers() {
						p.Close()
					}
				} else {
					pc.mute.Store(true)
				}
				pumpAll(t, srv, cls, 20*time.Second, func() bool {
					// A muted server's channels outlive its clients by an
					// idle timeout: only the clients matter here.
					return ended == batch && (how != "server closes" || len(srv.Peers()) == 0)
				})
				for _, c := range cls {
					if c.Connected() {
						t.Fatal("a client still connected after disconnected")
					}
				}
				if done == 0 {
					// The first batch warms up what lives on (timers, the
					// race detector's goroutines): the baseline.
					fd0, g0 = openFDs(t), settledGoroutines(0)
				}
			}
			fd, g := openFDs(t), settledGoroutines(g0+5)
			t.Logf("%d clients ended (%s) without Close: fds %d -> %d, goroutines %d -> %d", total, how, fd0, fd, g0, g)
			if fd > fd0+5 || g > g0+5 {
				t.Fatalf("after %d more clients ended: fds %d -> %d, goroutines %d -> %d: a client that ended keeps its socket", total-batch, fd0, fd, g0, g)
			}
		})
	}
}

// pumpAll pumps a server and its clients until cond holds, or fails after d.
func pumpAll(t *testing.T, srv *Server, cls []*Client, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v", d)
		}
		srv.Pump()
		for _, c := range cls {
			c.Pump()
		}
		time.Sleep(time.Millisecond)
	}
}

// Issue 12, defect 5: Close on another goroutine while Pump takes the
// dial's result. Before, Close returned nil with the connection still
// open, and "socketConnect" fired after it. Now, once Close returned, no
// "socketConnect" follows, the connection is closed (the server sees it
// go) and "disconnected" is delivered.
func TestCloseDuringConnectStepClosesTheConnection(t *testing.T) {
	w := newWorld(t) // real time: the hook sleeps
	c := w.client()
	var closedAt, socketAt time.Time
	var closeErr error
	closeDone := make(chan struct{})
	testHookDialTaken = func() {
		go func() {
			closeErr = c.Close()
			closedAt = time.Now()
			close(closeDone)
		}()
		time.Sleep(50 * time.Millisecond) // Close runs as far as it can
	}
	defer func() { testHookDialTaken = nil }()
	var r recorder
	c.Register(&r)
	c.Handle("socketConnect", func(*Client, Msg) { socketAt = time.Now() })
	w.pumpUntil(10*time.Second, func() bool {
		select {
		case <-closeDone:
			return true
		default:
			return false
		}
	})
	testHookDialTaken = nil
	if closeErr != nil {
		t.Fatalf("Close: %v", closeErr)
	}
	if !socketAt.IsZero() && socketAt.After(closedAt) {
		t.Fatal("socketConnect fired after Close returned")
	}
	// The server saw the connection (if it was up) and sees it go.
	deadline := time.Now().Add(5 * time.Second)
	for !r.has("disconnected") || len(w.srv.Peers()) > 0 || w.srv.Endpoint().Stats().Connections > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after Close: client events %v, connected %v, server channels %d, connections %d",
				r.events, c.Connected(), len(w.srv.Peers()), w.srv.Endpoint().Stats().Connections)
		}
		w.srv.Pump()
		c.Pump()
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(r.disc[0].Err, ErrClosed) && !errors.Is(r.disc[0].Err, net.ErrClosed) {
		t.Fatalf("disconnected %+v", r.disc[0])
	}
}

// Issue 12, defect 5: Server.Close from another goroutine while Pump
// runs, clients connect and messages flow (the race detector flagged
// the server's closed flag and channel list). Every client is then told
// "server closed" and the server's Pump delivers every disconnect.
func TestServerCloseFromAnotherGoroutine(t *testing.T) {
	w := newWorld(t)
	disc := 0
	w.srv.OnDisconnect(func(*Peer, error) { disc++ })
	w.srv.Handle("chat", func(p *Peer, m Msg) { w.srv.Send(m) })
	var rs []*recorder
	add := func() {
		r := &recorder{}
		w.client().Register(r)
		rs = append(rs, r)
	}
	for range 4 {
		add()
	}
	w.pumpUntil(10*time.Second, func() bool { return len(w.srv.Peers()) == 4 })
	closed := make(chan error, 1)
	go func() {
		time.Sleep(5 * time.Millisecond)
		closed <- w.srv.Close()
	}()
	// Keep everything busy while Close runs: traffic, and clients
	// arriving.
	var closeErr error
	for waiting := true; waiting; {
		select {
		case closeErr = <-closed:
			waiting = false
		default:
		}
		if len(rs) < 8 {
			add()
		}
		for _, c := range w.clients {
			c.Send(Msg{"action": "chat", "text": "x"})
		}
		w.srv.Pump()
		for _, c := range w.clients {
			c.Pump()
		}
		time.Sleep(100 * time.Microsecond)
	}
	if closeErr != nil {
		t.Fatalf("Close: %v", closeErr)
	}
	// Every client that got in is told (the ones still dialing a closed
	// server would wait out the handshake timeout: not this test's).
	w.pumpUntil(15*time.Second, func() bool {
		for _, r := range rs {
			if r.has("connected") && !r.has("disconnected") {
				return false
			}
		}
		return len(w.srv.Peers()) == 0
	})
	for i, r := range rs[:4] {
		// Traffic was in flight: the reason also says what was dropped.
		if !strings.HasPrefix(r.disc[0].Reason, "server closed") {
			t.Errorf("client %d: disconnected %q", i, r.disc[0].Reason)
		}
	}
	if disc < 4 {
		t.Fatalf("OnDisconnect ran %d times, want at least the 4 connected clients", disc)
	}
}

// lossyWorld is a server and one client through a lossy link (the client's
// endpoint conditions both directions).
func lossyWorld(t *testing.T) (*world, *Client) {
	t.Helper()
	n := fakenet.New()
	pc, err := n.Listen(srvAP)
	if err != nil {
		t.Fatal(err)
	}
	sep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, net: n, srv: NewServer(sep, nil)}
	cpc, err := n.Listen(netip.MustParseAddrPort("10.3.1.1:5000"))
	if err != nil {
		t.Fatal(err)
	}
	d := netcode.LinkDirection{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05}
	cep, err := netcode.NewEndpoint(cpc, EndpointConfig(netcode.Config{Link: &netcode.LinkConditions{Send: d, Receive: d, Seed: 12}}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(FormatTarget(srvAP, w.srv.Fingerprint()), &ClientConfig{Endpoint: cep})
	if err != nil {
		t.Fatal(err)
	}
	w.clients = append(w.clients, c)
	t.Cleanup(func() {
		c.Close()
		w.srv.Close()
		cep.Close()
	})
	return w, c
}

// Issue 12, defect 10: a client sends 10,000 reliable messages through a
// lossy link and calls Close: the server gets an in-order prefix, and its
// "disconnected" says that reliable data was dropped (netcode.ErrUnsentData,
// CodeUnsentData) — before, it saw the same normal close as after a
// complete Shutdown. After Shutdown it gets all 10,000 and a normal close.
func TestCloseTellsTheServerThatDataWasDropped(t *testing.T) {
	for _, how := range []string{"Close", "Shutdown"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w, c := lossyWorld(t)
				var got []int
				HandleFunc(w.srv, "seq", func(_ *Peer, m seqMsg) { got = append(got, m.N) })
				var disc Disconnected
				w.srv.Handle("disconnected", func(_ *Peer, d Disconnected) { disc = d })
				w.pumpUntil(10*time.Second, func() bool { return c.Connected() && len(w.srv.Peers()) == 1 })
				const total = 10000
				for i := range total {
					if err := c.Send(seqMsg{Action: "seq", N: i}); err != nil {
						t.Fatalf("send %d: %v", i, err)
					}
					if i%500 == 0 {
						w.srv.Pump()
						c.Pump()
					}
				}
				if how == "Close" {
					// Part of it arrives first: the server must be told of
					// the rest, not see a whole stream.
					for end := time.Now().Add(150 * time.Millisecond); time.Now().Before(end); {
						w.srv.Pump()
						c.Pump()
						time.Sleep(time.Millisecond)
					}
					if err := c.Close(); err != nil {
						t.Fatal(err)
					}
				} else {
					// The server pumps on its own goroutine meanwhile.
					stop := make(chan struct{})
					done := make(chan struct{})
					go func() {
						defer close(done)
						for {
							select {
							case <-stop:
								return
							case <-w.srv.Wake():
							case <-time.After(5 * time.Millisecond):
							}
							w.srv.Pump()
						}
					}()
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					err := c.Shutdown(ctx, "done")
					cancel()
					close(stop)
					<-done
					if err != nil {
						t.Fatalf("Shutdown: %v", err)
					}
				}
				w.pumpUntil(30*time.Second, func() bool { return disc.Err != nil })
				for i, n := range got {
					if n != i {
						t.Fatalf("message %d is %d: not an in-order prefix", i, n)
					}
				}
				t.Logf("%s: the server got %d of %d; disconnected: %v", how, len(got), total, disc.Err)
				var ce *netcode.CloseError
				if !errors.As(disc.Err, &ce) || !ce.Remote {
					t.Fatalf("disconnected %+v", disc)
				}
				if how == "Shutdown" {
					if len(got) != total || ce.Code != netcode.CodeNormal || errors.Is(disc.Err, netcode.ErrUnsentData) {
						t.Fatalf("after Shutdown: got %d, close %v", len(got), disc.Err)
					}
					return
				}
				if len(got) == 0 || len(got) == total {
					t.Fatalf("%d of %d arrived before Close: the test needs a prefix", len(got), total)
				}
				if ce.Code != netcode.CodeUnsentData || !errors.Is(disc.Err, netcode.ErrUnsentData) ||
					!strings.Contains(disc.Reason, "bytes of reliable data not acknowledged") {
					t.Fatalf("after Close with %d of %d delivered, the server saw %q (%v): not told data was dropped",
						len(got), total, disc.Reason, disc.Err)
				}
			})
		})
	}
}

// A message sent before the connection that the transport then refuses
// (too large for MaxMessageSize) is dropped with an "error" event; the
// ones behind it still go, in order (they were stranded before).
func TestSendBeforeConnectTooLargeIsDroppedNotStranding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, c := smallQueueWorld(t, 10)
		var got []int
		HandleFunc(w.srv, "seq", func(_ *Peer, m seqMsg) { got = append(got, m.N) })
		var errs []error
		c.Handle("error", func(_ *Client, err error) { errs = append(errs, err) })
		for i := range 5 {
			pad := "x"
			if i == 2 {
				pad = strings.Repeat("x", 2000)
			}
			if err := c.Send(seqMsg{Action: "seq", N: i, Pad: pad}); err != nil {
				t.Fatal(err)
			}
		}
		for deadline := time.Now().Add(10 * time.Second); len(got) < 4 && time.Now().Before(deadline); {
			w.srv.Pump()
			c.Pump()
			time.Sleep(time.Millisecond)
		}
		if fmt.Sprint(got) != "[0 1 3 4]" {
			t.Fatalf("server got %v, want [0 1 3 4]", got)
		}
		if len(errs) != 1 || !errors.Is(errs[0], netcode.ErrMessageTooLarge) {
			t.Fatalf("client errors %v, want one ErrMessageTooLarge", errs)
		}
	})
}

// Close from another goroutine unblocks a PumpWait(ctx, 0) in progress
// (net's manners), whatever the client's state: connecting, connected,
// or already disconnected; Server.Close likewise.
func TestCloseUnblocksPumpWait(t *testing.T) {
	for _, state := range []string{"connecting", "connected", "disconnected", "server"} {
		t.Run(state, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				var c *Client
				switch state {
				case "connecting":
					// Nobody at that address: the dial keeps knocking.
					c = w.client(FormatTarget(netip.MustParseAddrPort("10.3.9.9:1"), w.srv.Fingerprint()))
				case "connected", "disconnected", "server":
					c = w.client()
					w.pumpUntil(10*time.Second, func() bool { return c.Connected() })
					if state == "disconnected" {
						for _, p := range w.srv.Peers() {
							p.Close()
						}
						w.pumpUntil(10*time.Second, func() bool { return !c.Connected() })
					}
				}
				var closing atomic.Bool
				returned := make(chan struct{})
				go func() { // the game's loop: no limit, as the docs allow
					defer close(returned)
					for !closing.Load() {
						if state == "server" {
							w.srv.PumpWait(context.Background(), 0)
						} else {
							c.PumpWait(context.Background(), 0)
						}
					}
				}()
				synctest.Wait() // the loop is asleep in PumpWait
				closing.Store(true)
				if state == "server" {
					w.srv.Close()
				} else {
					c.Close()
				}
				select {
				case <-returned:
				case <-time.After(time.Minute):
					t.Fatalf("%s: PumpWait(ctx, 0) still blocked a minute after Close", state)
				}
			})
		})
	}
}
