package engine

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/codec"
)

// Issue 12, defect 8: every exported error of the engine is returned
// somewhere and matches with errors.Is/As. ErrRequestTimeout and
// ErrReserved are covered in engine_test.go, ErrQueueFull in
// lifecycle_test.go and attack_test.go, ErrBadFrame in attack_test.go.

// A request nobody handles fails with an error matching ErrNoHandler (as
// the docs say) and ErrRemote, reachable as a *RemoteError; in both
// directions.
func TestErrNoHandlerForUnhandledRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		var ch *Peer
		w.srv.OnConnect(func(x *Peer) { ch = x })
		var fromClient, fromServer error
		c.Request(context.Background(), Msg{"action": "nobody"}, func(_ Msg, err error) { fromClient = err }, Timeout(2*time.Second))
		w.pumpUntil(10*time.Second, func() bool { return fromClient != nil && ch != nil })
		ch.Request(context.Background(), Msg{"action": "nobody"}, func(_ Msg, err error) { fromServer = err }, Timeout(2*time.Second))
		w.pumpUntil(10*time.Second, func() bool { return fromServer != nil })
		for who, err := range map[string]error{"client": fromClient, "server": fromServer} {
			var re *RemoteError
			if !errors.Is(err, ErrNoHandler) || !errors.Is(err, ErrRemote) || !errors.As(err, &re) || re.Code != RemoteNoHandler {
				t.Errorf("%s's request to an unhandled action: %v (%T)", who, err, err)
			}
			if errors.Is(err, ErrRequestTimeout) || errors.Is(err, ErrClosed) {
				t.Errorf("%s: %v matches another code's sentinel", who, err)
			}
		}
	})
}

// Forward keeps the failure's code across the wire: the original
// requester can errors.Is against ErrNoHandler, ErrRequestTimeout and
// ErrClosed (it got a flattened string before).
func TestForwardKeepsTheFailureCode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		asker, answerer := w.client(), w.client()
		answerer.Handle("slow", func(*Client, Msg) {})                // never replies
		answerer.Handle("quit", func(c *Client, _ Msg) { c.Close() }) // ends the connection
		var target *Peer
		w.srv.Handle("hello", func(p *Peer, m Msg) { target = p })
		w.srv.Handle("", func(p *Peer, m Msg) {
			if p.RequestID() != 0 && p != target {
				if err := p.Forward(context.Background(), target, Timeout(time.Second)); err != nil {
					t.Errorf("forward: %v", err)
				}
			}
		})
		answerer.Send(Msg{"action": "hello"})
		w.pumpUntil(10*time.Second, func() bool { return target != nil })
		results := map[string]error{}
		for _, a := range []string{"nobody", "slow", "quit"} {
			asker.Request(context.Background(), Msg{"action": a}, func(_ Msg, err error) { results[a] = err }, Timeout(5*time.Second))
			w.pumpUntil(10*time.Second, func() bool { _, ok := results[a]; return ok })
		}
		for a, c := range map[string]struct {
			want error
			code RemoteCode
		}{"nobody": {ErrNoHandler, RemoteNoHandler}, "slow": {ErrRequestTimeout, RemoteTimeout}, "quit": {ErrClosed, RemoteClosed}} {
			err := results[a]
			var re *RemoteError
			if !errors.Is(err, c.want) || !errors.Is(err, ErrRemote) || !errors.As(err, &re) || re.Code != c.code {
				t.Errorf("forwarded %q failed with %v (%T), want %v with code %d", a, err, err, c.want, c.code)
			}
		}
		if asker.Connected() == false {
			t.Fatal("the asker lost its connection")
		}
	})
}

// Sends and requests on a closed client or channel, and requests pending
// when the connection ends, fail with ErrClosed (also net.ErrClosed);
// closing before the connection is up reports ErrClosed too.
func TestErrClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		var ch *Peer
		w.srv.OnConnect(func(x *Peer) { ch = x })
		w.srv.Handle("hold", func(*Peer, Msg) {})
		var pending error
		w.pumpUntil(10*time.Second, func() bool { return ch != nil && c.Connected() })
		c.Request(context.Background(), Msg{"action": "hold"}, func(_ Msg, err error) { pending = err }, Timeout(time.Minute))
		w.pumpUntil(10*time.Second, func() bool { return ch.Stats().PacketsIn > 2 })
		chDone := false
		w.srv.OnDisconnect(func(*Peer, error) { chDone = true })
		ch.Close()
		w.pumpUntil(10*time.Second, func() bool { return pending != nil && chDone })
		errs := map[string]error{
			"pending request": pending,
			"Client.Send":     c.Send(Msg{"action": "x"}),
			"Client.Request":  c.Request(context.Background(), Msg{"action": "x"}, func(Msg, error) {}, Timeout(time.Second)),
			"Peer.Send":       ch.Send(Msg{"action": "x"}),
			"Peer.Request":    ch.Request(context.Background(), Msg{"action": "x"}, func(Msg, error) {}, Timeout(time.Second)),
		}
		for what, err := range errs {
			if !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s after the end: %v, want ErrClosed and net.ErrClosed", what, err)
			}
		}
		// Closed before connecting.
		early := w.client()
		var d Disconnected
		early.Handle("disconnected", func(_ *Client, x Disconnected) { d = x })
		early.Close()
		if err := early.Send(Msg{"action": "x"}); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after Close, before the disconnect: %v", err)
		}
		w.pumpUntil(10*time.Second, func() bool { return d.Err != nil })
		if !errors.Is(d.Err, ErrClosed) || !errors.Is(d.Err, net.ErrClosed) {
			t.Errorf("closed before connecting: %v", d.Err)
		}
	})
}

func TestErrNotARequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		var errs []error
		w.srv.Handle("plain", func(p *Peer, m Msg) {
			errs = append(errs, p.Reply(Msg{"action": "r"}), p.Forward(context.Background(), p, Timeout(time.Second)), p.ReplyTo(0, Msg{"action": "r"}))
		})
		c.Send(Msg{"action": "plain"})
		w.pumpUntil(10*time.Second, func() bool { return len(errs) == 3 })
		for i, err := range append(errs, c.Reply(Msg{"action": "r"})) {
			if !errors.Is(err, ErrNotARequest) {
				t.Errorf("%d: %v, want ErrNotARequest", i, err)
			}
		}
	})
}

type badListener struct{}

func (badListener) Network_x(a, b, c int) {}

type fooMsg struct {
	Action string `msgpack:"action"`
	N      int    `msgpack:"n"`
}

func TestRegistrationAndDecodeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		if err := w.srv.Register(badListener{}); !errors.Is(err, ErrBadHandler) {
			t.Errorf("bad signature: %v, want ErrBadHandler", err)
		}
		if err := w.srv.Register(struct{}{}); !errors.Is(err, ErrNoHandlers) {
			t.Errorf("no Network methods: %v, want ErrNoHandlers", err)
		}
		// A message that does not decode into the handler's type.
		var srvErr error
		w.srv.Handle("error", func(_ *Peer, err error) { srvErr = err })
		HandleFunc(w.srv, "foo", func(*Peer, fooMsg) {})
		c := w.client()
		c.Send(Msg{"action": "foo", "n": "not a number"})
		w.pumpUntil(10*time.Second, func() bool { return srvErr != nil })
		if !errors.Is(srvErr, ErrBadMessage) || !errors.Is(srvErr, codec.ErrDecode) {
			t.Errorf("undecodable message: %v, want ErrBadMessage", srvErr)
		}
	})
}

// A handler's panic reaches game code as an exported *PanicError.
func TestPanicErrorIsExported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var b boom
		w.srv.Register(&b)
		var got error
		w.srv.Handle("error", func(_ *Peer, err error) { got = err })
		c := w.client()
		c.Send(Msg{"action": "boom"})
		w.pumpUntil(10*time.Second, func() bool { return got != nil })
		var pe *PanicError
		if !errors.As(got, &pe) || !errors.Is(got, ErrPanic) || pe.Action != "boom" || pe.Value == nil || len(pe.Stack) == 0 {
			t.Fatalf("handler panic: %v (%T)", got, got)
		}
	})
}

// Failed-request frames are network input: any bytes give a RemoteError,
// with at most 256 bytes of valid UTF-8.
func TestParseRemoteErrorHostile(t *testing.T) {
	cases := [][]byte{nil, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		append([]byte{1}, []byte(strings.Repeat("é", 300))...), append([]byte{7}, 0xff, 0xfe, 'a')}
	for _, b := range cases {
		e := parseRemoteError(b)
		if len(e.Text) > maxRemoteText || !utf8.ValidString(e.Text) {
			t.Errorf("%x: text %q", b, e.Text)
		}
		if !errors.Is(e, ErrRemote) {
			t.Errorf("%x: %v does not match ErrRemote", b, e)
		}
	}
	if e := parseRemoteError(append([]byte{1}, "x"...)); !errors.Is(e, ErrNoHandler) || e.Text != "x" {
		t.Errorf("code 1: %+v", e)
	}
}

// FuzzParseRemoteError: any failed-request payload gives a RemoteError of
// at most 256 bytes of valid UTF-8 that matches ErrRemote, never a panic.
func FuzzParseRemoteError(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 'n', 'o'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'})
	f.Add(append([]byte{3}, strings.Repeat("é", 200)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		e := parseRemoteError(b)
		if len(e.Text) > maxRemoteText || !utf8.ValidString(e.Text) || !errors.Is(e, ErrRemote) {
			t.Fatalf("%x: %+v", b, e)
		}
	})
}
