package lobby

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"
)

// TestStreamAfterRemoval: a removed peer's stream follows io.Reader's
// conventions: Read returns the bytes that arrived before the removal,
// then io.EOF for good, even when the game first asks for the stream
// after the removal; Write fails; the stream never reopens.
func TestStreamAfterRemoval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b, c := l.join("a"), l.join("b"), l.join("c")
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b, c}, 3))
		pb, pc := a.Peer(b.ID()), a.Peer(c.ID())
		data := bytes.Repeat([]byte("pumpnet "), 500)
		if n, err := b.Stream(b.Peer(a.ID())).Write(data); n != len(data) || err != nil {
			t.Fatalf("write %d, %v", n, err)
		}
		// a has not asked for b's stream yet; the bytes wait in it.
		l.pumpUntil(10*time.Second, func() bool { st := a.streams[pb]; return st != nil && st.Buffered() == len(data) })
		b.Disconnect()
		c.Disconnect()
		l.pumpUntil(10*time.Second, func() bool { return len(a.Peers()) == 0 })

		// First asked for after the removal: the bytes, then EOF.
		rs := a.Stream(pb)
		got, err := readToEOF(rs)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes (%v), want %d then EOF", len(got), err, len(data))
		}
		for i := range 3 {
			for _, st := range []*Stream{rs, a.Stream(pb), a.Stream(pc), a.Stream(nil)} {
				if n, err := st.Read(make([]byte, 10)); n != 0 || err != io.EOF {
					t.Fatalf("read %d after removal: %d, %v; want 0, io.EOF", i, n, err)
				}
				if _, err := st.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
					t.Fatalf("write after removal: %v", err)
				}
			}
			l.pumpFor(100 * time.Millisecond)
		}
		if len(a.streams) != 0 || len(a.undrained) != 0 {
			t.Fatalf("a keeps %d streams (%d undrained) of removed peers", len(a.streams), len(a.undrained))
		}
	})
}

// TestStreamsOfRemovedPeersBounded: the unread bytes of removed peers are
// kept for at most maxGoneStreams streams.
func TestStreamsOfRemovedPeersBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a := l.join("a")
		for i := range maxGoneStreams + 3 {
			b := l.join("b")
			l.pumpUntil(10*time.Second, func() bool { return len(a.Peers()) == 1 && len(b.Peers()) == 1 })
			pb := a.Peers()[0]
			b.Stream(b.Peers()[0]).Write([]byte{byte(i)})
			l.pumpUntil(10*time.Second, func() bool { st := a.streams[pb]; return st != nil && st.Buffered() == 1 })
			b.Close()
			l.sessions = l.sessions[:1]
			l.pumpUntil(10*time.Second, func() bool { return len(a.Peers()) == 0 })
		}
		if len(a.streams) != maxGoneStreams || len(a.undrained) != maxGoneStreams {
			t.Fatalf("%d streams, %d undrained kept, want %d", len(a.streams), len(a.undrained), maxGoneStreams)
		}
	})
}

// readToEOF reads r until io.EOF, failing with an error if Read returns
// 0, nil (a non-blocking stream with nothing buffered) 100 times in a row.
func readToEOF(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 1000)
	for idle := 0; idle < 100; {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			idle++
		} else {
			idle = 0
		}
	}
	return out, errors.New("Read keeps returning 0, nil: no EOF")
}
