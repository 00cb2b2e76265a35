package lobby

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
)

func TestSessionSendOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		ss := []*Session{l.join("ann"), l.join("bob"), l.join("cy")}
		l.pumpUntil(20*time.Second, meshComplete(ss, 3))
		ann, bob, cy := ss[0], ss[1], ss[2]
		toBob, toCy := ann.Peer(bob.ID()), ann.Peer(cy.ID())
		chat := func(text string) engine.Msg { return engine.Msg{"action": "chat", "text": text} }
		for _, send := range []error{
			ann.Send(chat("all")),
			ann.Send(chat("but bob"), engine.Except(toBob)),
			ann.Send(chat("bob only"), engine.To(toBob), engine.Unreliable),
			ann.Send(chat("cy twice listed"), engine.To(toCy, toCy)),
		} {
			if send != nil {
				t.Fatal(send)
			}
		}
		want := map[*Session][]string{
			bob: {"ann: all", "ann: bob only"},
			cy:  {"ann: all", "ann: but bob", "ann: cy twice listed"},
		}
		l.pumpUntil(10*time.Second, func() bool {
			return len(l.logs[bob].chats) >= 2 && len(l.logs[cy].chats) >= 3
		})
		l.pumpFor(time.Second)
		for s, w := range want {
			got := slices.Sorted(slices.Values(l.logs[s].chats))
			if !slices.Equal(got, w) {
				t.Errorf("%s heard %q, want %q", s.Name(), l.logs[s].chats, w)
			}
		}
		if err := ann.Send(chat("x"), engine.Unreliable, engine.ReliableOrdered); !errors.Is(err, engine.ErrSendOption) {
			t.Errorf("two modes: %v, want ErrSendOption", err)
		}
		if err := ann.Send(chat("x"), engine.To(toBob), engine.To(toCy)); !errors.Is(err, engine.ErrSendOption) {
			t.Errorf("two To: %v, want ErrSendOption", err)
		}
		if raceEnabled {
			// sync.Pool drops items at random under the race detector, so
			// buffers are not reused as in a normal build. CI runs this
			// test without -race too.
			return
		}
		// Steady state: no allocation per send (the message passed by
		// pointer, as a struct value passed as any is copied by Go).
		m := &struct {
			Action string `msgpack:"action"`
			Text   string `msgpack:"text"`
		}{"chat", "steady"}
		for _, f := range map[string]func(){
			"all":    func() { ann.Send(m) },
			"To":     func() { ann.Send(m, engine.To(toBob), engine.Unreliable) },
			"Except": func() { ann.Send(m, engine.Except(toCy)) },
		} {
			for range 3 {
				for range 60 {
					f()
				}
				l.pumpFor(200 * time.Millisecond)
			}
			if n := testing.AllocsPerRun(50, f); n != 0 {
				t.Errorf("Session.Send: %v allocations, want 0", n)
			}
			l.pumpFor(200 * time.Millisecond)
		}
	})
}

// A session whose peers use the JSON codec works as with msgpack: hellos,
// messages and streams (the lobby's own messages carry json tags too).
func TestSessionWithJSONCodec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		useJSON := func(c *Config) { c.Codec = codec.JSON(codec.Limits{}) }
		ann, bob := l.join("ann", useJSON), l.join("bob", useJSON)
		l.pumpUntil(20*time.Second, meshComplete([]*Session{ann, bob}, 2))
		if err := ann.Send(engine.Msg{"action": "chat", "text": "hi in json"}); err != nil {
			t.Fatal(err)
		}
		st := ann.Stream(ann.Peer(bob.ID()))
		if _, err := st.Write([]byte("stream bytes")); err != nil {
			t.Fatal(err)
		}
		var got []byte
		buf := make([]byte, 64)
		l.pumpUntil(10*time.Second, func() bool {
			n, _ := bob.Stream(bob.Peer(ann.ID())).Read(buf)
			got = append(got, buf[:n]...)
			return len(l.logs[bob].chats) == 1 && string(got) == "stream bytes"
		})
		if l.logs[bob].chats[0] != "ann: hi in json" {
			t.Fatalf("bob heard %q", l.logs[bob].chats)
		}
	})
}
