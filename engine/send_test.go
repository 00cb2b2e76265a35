package engine

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode"
)

type news struct {
	Action string
	Text   string
}

// threeClients connects three clients, each recording the "news" it hears,
// and returns them with the server's peers in the same order.
func threeClients(t *testing.T, w *world) ([]*Client, []*Peer, [][]string) {
	t.Helper()
	heard := make([][]string, 3)
	cls := make([]*Client, 3)
	for i := range cls {
		cls[i] = w.client()
		cls[i].Handle("news", func(m Msg) { heard[i] = append(heard[i], m["Text"].(string)) })
		cls[i].Send(Msg{"action": "hello", "i": i})
	}
	peers := make([]*Peer, 3)
	w.srv.Handle("hello", func(p *Peer, m Msg) { peers[m["i"].(int64)] = p })
	w.pumpUntil(10*time.Second, func() bool { return !slices.Contains(peers, nil) })
	return cls, peers, heard
}

func TestSendRecipients(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, p, heard := threeClients(t, w)
		sends := []struct {
			text string
			opts []SendOption
		}{
			{"all", nil},
			{"to 0", []SendOption{To(p[0])}},
			{"to 1 twice", []SendOption{To(p[1], p[1])}},
			{"except 0", []SendOption{Except(p[0])}},
			{"to 0 1 except 1", []SendOption{Unreliable, To(p[0], p[1]), Except(p[1])}},
			{"nobody", []SendOption{To()}},
			{"except all", []SendOption{Except(p...)}},
		}
		for _, s := range sends {
			if err := w.srv.Send(news{"news", s.text}, s.opts...); err != nil {
				t.Fatalf("Send %q: %v", s.text, err)
			}
		}
		want := [][]string{
			{"all", "to 0", "to 0 1 except 1"},
			{"all", "to 1 twice", "except 0"},
			{"all", "except 0"},
		}
		w.pumpUntil(10*time.Second, func() bool {
			for i := range want {
				if len(heard[i]) < len(want[i]) {
					return false
				}
			}
			return true
		})
		time.Sleep(time.Second) // anything extra arrives too
		w.pumpUntil(time.Second, func() bool { return true })
		for i := range want {
			got := slices.Clone(heard[i])
			slices.Sort(got) // the unreliable one may overtake
			wi := slices.Clone(want[i])
			slices.Sort(wi)
			if !slices.Equal(got, wi) {
				t.Errorf("client %d heard %q, want %q", i, heard[i], want[i])
			}
		}
	})
}

func TestSendOptionMistakesAreErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		cls, p, _ := threeClients(t, w)
		c := cls[0]
		m := news{"news", "x"}
		noop := func(Msg, error) {}
		bg := context.Background()
		cases := map[string]error{
			// Before one Send signature, Send(m, Unreliable, ReliableOrdered)
			// compiled and silently ignored the second mode.
			"Server.Send two modes":     w.srv.Send(m, Unreliable, ReliableOrdered),
			"Server.Send two To":        w.srv.Send(m, To(p[0]), To(p[1])),
			"Server.Send two Except":    w.srv.Send(m, Except(p[0]), Except(p[1])),
			"Server.Send unknown mode":  w.srv.Send(m, Mode(9)),
			"Server.Send nil option":    w.srv.Send(m, nil),
			"Server.Send Timeout":       w.srv.Send(m, Timeout(time.Second)),
			"Peer.Send two modes":       p[0].Send(m, Unreliable, Unreliable),
			"Peer.Send To":              p[0].Send(m, To(p[1])),
			"Peer.Send Timeout":         p[0].Send(m, Timeout(time.Second)),
			"Client.Send two modes":     c.Send(m, ReliableUnordered, Unreliable),
			"Client.Send Except":        c.Send(m, Except(p[1])),
			"Client.Request two modes":  c.Request(bg, m, noop, Unreliable, ReliableOrdered),
			"Client.Request To":         c.Request(bg, m, noop, To(p[0])),
			"Client.Request 2 timeouts": c.Request(bg, m, noop, Timeout(time.Second), Timeout(time.Minute)),
			"Client.Request Timeout(0)": c.Request(bg, m, noop, Timeout(0)),
			"Peer.Request Except":       p[0].Request(bg, m, noop, Except(p[0])),
			"Peer.ReplyTo two modes":    p[0].ReplyTo(7, m, Unreliable, Unreliable),
			"Client.ReplyTo Timeout":    c.ReplyTo(7, m, Timeout(time.Second)),
		}
		for name, err := range cases {
			if !errors.Is(err, ErrSendOption) {
				t.Errorf("%s: %v, want an error matching ErrSendOption", name, err)
			}
		}
	})
}

func TestSendToStrangerIsErrNotPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, p, heard := threeClients(t, w)
		// A peer of another server.
		pc, err := w.net.Listen(netip.MustParseAddrPort("10.3.0.2:31425"))
		if err != nil {
			t.Fatal(err)
		}
		ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		other := NewServer(ep, nil)
		defer other.Close()
		c := w.client(FormatTarget(ep.AddrPort(), other.Fingerprint()))
		var stranger *Peer
		other.OnConnect(func(p *Peer) { stranger = p })
		for stranger == nil {
			other.Pump()
			c.Pump()
			time.Sleep(time.Millisecond)
		}
		for _, to := range [][]*Peer{{nil, p[0]}, {stranger, p[0]}} {
			if err := w.srv.Send(news{"news", "hi"}, To(to...)); !errors.Is(err, ErrNotPeer) {
				t.Errorf("Send to %v: %v, want ErrNotPeer", to, err)
			}
		}
		// The real peer still got both.
		w.pumpUntil(10*time.Second, func() bool { return len(heard[0]) == 2 })
		if len(heard[1])+len(heard[2]) != 0 {
			t.Errorf("peers not listed heard %q %q", heard[1], heard[2])
		}
	})
}

func TestSendDoesNotAllocate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		cls, p, _ := threeClients(t, w)
		if raceEnabled {
			t.Skip("sync.Pool drops items at random under the race detector, so buffers are not reused as in a normal build; CI runs this test without -race too")
		}
		m := &news{"news", "steady"} // a pointer: a struct value passed as any is copied to the heap by Go
		allocs := map[string]func(){
			"Server.Send":                  func() { w.srv.Send(m) },
			"Server.Send mode":             func() { w.srv.Send(m, Unreliable) },
			"Server.Send To":               func() { w.srv.Send(m, To(p[0], p[2]), Unreliable) },
			"Server.Send Except":           func() { w.srv.Send(m, Except(p[1])) },
			"Peer.Send mode":               func() { p[0].Send(m, UnreliableSequenced) },
			"Client.Send mode":             func() { cls[0].Send(m, Unreliable) },
			"Client.Send default reliable": func() { cls[1].Send(m) },
		}
		for name, f := range allocs {
			// Warm the buffers: netcode keeps acknowledged messages'
			// buffers for reuse.
			for range 3 {
				for range 60 {
					f()
				}
				w.pumpUntil(time.Second, func() bool { return true })
				time.Sleep(100 * time.Millisecond)
				w.pumpUntil(time.Second, func() bool { return true })
			}
			if n := testing.AllocsPerRun(50, f); n != 0 {
				t.Errorf("%s: %v allocations per send, want 0", name, n)
			}
			w.pumpUntil(time.Second, func() bool { return true })
		}
	})
}

// A session's pending peers (NewSessionServer) are no one's to reach: Send
// to all skips them, and To names them as ErrNotPeer.
func TestSendSkipsPendingPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		pc, err := n.Listen(srvAP)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := netcode.ListenPacket(pc, EndpointConfig(netcode.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		var arrived []*Peer
		srv, adm := NewSessionServer(ep, &ServerConfig{SkipGreeting: true}, SessionHooks{
			Connect: func(p *Peer) { arrived = append(arrived, p) },
		})
		w := &world{t: t, net: n, srv: srv}
		t.Cleanup(func() {
			for _, c := range w.clients {
				c.Close()
			}
			srv.Close()
		})
		heard := map[netip.AddrPort][]string{}
		for range 2 {
			c := w.client()
			c.Handle("news", func(c *Client, m Msg) {
				addr := c.Conn().(*netcode.Conn).LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
				heard[addr] = append(heard[addr], m["Text"].(string))
			})
		}
		w.pumpUntil(10*time.Second, func() bool { return len(arrived) == 2 })
		member, pending := arrived[0], arrived[1]
		if err := adm.Admit(member); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.Send(&news{"news", "to all"}); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.Send(&news{"news", "to the pending one"}, To(pending)); !errors.Is(err, ErrNotPeer) {
			t.Errorf("Send To a pending peer: %v, want ErrNotPeer", err)
		}
		w.pumpUntil(10*time.Second, func() bool { return len(heard[member.Addr()]) == 1 })
		time.Sleep(time.Second)
		w.pumpUntil(time.Second, func() bool { return true })
		if got := heard[pending.Addr()]; len(got) != 0 {
			t.Errorf("the pending peer heard %q", got)
		}
	})
}
