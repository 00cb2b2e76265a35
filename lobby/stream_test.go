package lobby

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
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
		l.pumpUntil(10*time.Second, func() bool { st := a.streams[pb][""]; return st != nil && st.Buffered() == len(data) })
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
			l.pumpUntil(10*time.Second, func() bool { st := a.streams[pb][""]; return st != nil && st.Buffered() == 1 })
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

// streamLog is a listener that takes stream data through StreamReceived,
// noting whether each call ran inside its session's Pump.
type streamLog struct {
	pumping *bool // set by the test around its session's Pump
	got     []streamChunkSeen
}

type streamChunkSeen struct {
	from, stream string
	data         string
	inPump       bool
}

func (l *streamLog) StreamReceived(p *Peer, stream string, data []byte) {
	l.got = append(l.got, streamChunkSeen{p.Name, stream, string(data), *l.pumping})
}

// TestStreamReceivedCallback: with a StreamReceived listener registered,
// stream data from a peer is handed to it inside Pump, on the goroutine
// calling Pump, in the order written, with the peer and the stream's
// name, and is not also kept for Read. A listener with the wrong
// StreamReceived signature is an error at Register.
func TestStreamReceivedCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a"), l.join("b")
		pumping := false
		rec := &streamLog{pumping: &pumping}
		if err := b.Register(rec); err != nil {
			t.Fatal(err)
		}
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		pb := a.Peer(b.ID())
		chat, err := a.OpenStream(pb, "chat")
		if err != nil {
			t.Fatal(err)
		}
		var want []streamChunkSeen
		for i := range 20 {
			st, name := a.Stream(pb), ""
			if i%3 == 0 {
				st, name = chat, "chat"
			}
			msg := fmt.Sprintf("line %d", i)
			if _, err := st.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			want = append(want, streamChunkSeen{"a", name, msg, true})
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(rec.got) < len(want) && time.Now().Before(deadline) {
			a.Pump()
			pumping = true
			b.Pump()
			pumping = false
			time.Sleep(5 * time.Millisecond)
		}
		if !slices.Equal(rec.got, want) {
			t.Fatalf("StreamReceived got\n%v\nwant\n%v", rec.got, want)
		}
		pa := b.Peer(a.ID())
		for _, st := range b.Streams(pa) {
			if st.Buffered() != 0 {
				t.Fatalf("stream %q also kept %d bytes for Read", st.Name(), st.Buffered())
			}
		}
		if names := streamNames(b.Streams(pa)); !slices.Equal(names, []string{"", "chat"}) {
			t.Fatalf("b's streams with a: %q, want the unnamed one and chat", names)
		}
	})
}

type wrongStreamReceived struct{}

// StreamReceived lacks the stream name: the session would never call it.
func (wrongStreamReceived) StreamReceived(p *Peer, data []byte) {}

func TestRegisterChecksStreamReceived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newLAN(t).join("ann")
		err := s.Register(wrongStreamReceived{})
		if !errors.Is(err, engine.ErrBadHandler) || !strings.Contains(err.Error(), "StreamReceived has signature func(*engine.Peer, []uint8), want func(*engine.Peer, string, []uint8)") {
			t.Fatalf("Register(StreamReceived(p, data)): %v; want engine.ErrBadHandler naming the signature", err)
		}
		if s.streamListeners != 0 {
			t.Fatal("a refused listener counts as a stream listener")
		}
	})
}

func streamNames(sts []*Stream) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.Name())
	}
	return out
}

// declaredLog records, at PeerAdded, the streams its session has with the
// new peer.
type declaredLog struct {
	s     *Session
	names [][]string
	sizes [][]int
}

func (d *declaredLog) PeerAdded(p *Peer) {
	var sizes []int
	for _, st := range d.s.Streams(p) {
		sizes = append(sizes, st.ChunkSize())
	}
	d.names = append(d.names, streamNames(d.s.Streams(p)))
	d.sizes = append(d.sizes, sizes)
}

var declared = []StreamConfig{{Name: "pos", ChunkSize: 8}, {Name: "chat"}}

func withStreams(scs ...StreamConfig) func(*Config) {
	return func(c *Config) { c.Streams = scs }
}

// TestDeclaredStreamsOpenOnAdmission: the streams Config.Streams declares
// exist on both sides when PeerAdded runs, with their chunk sizes, without
// either game opening them; bytes written on one arrive on the other.
func TestDeclaredStreamsOpenOnAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a", withStreams(declared...)), l.join("b", withStreams(declared...))
		da, db := &declaredLog{s: a}, &declaredLog{s: b}
		a.Register(da)
		b.Register(db)
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		for _, d := range []*declaredLog{da, db} {
			if len(d.names) != 1 || !slices.Equal(d.names[0], []string{"chat", "pos"}) || !slices.Equal(d.sizes[0], []int{0, 8}) {
				t.Fatalf("%s at PeerAdded: streams %q, chunk sizes %v; want [chat pos] [0 8]", d.s.Name(), d.names, d.sizes)
			}
		}
		pos := a.Streams(a.Peer(b.ID()))[1]
		if _, err := pos.Write([]byte("12345678abcdefgh")); err != nil {
			t.Fatal(err)
		}
		rs := b.Streams(b.Peer(a.ID()))[1]
		l.pumpUntil(10*time.Second, func() bool { return rs.Buffered() == 16 })
		buf := make([]byte, 12)
		if n, err := rs.Read(buf); n != 8 || err != nil || string(buf[:n]) != "12345678" {
			t.Fatalf("read %q, %v; want one whole chunk", buf[:n], err)
		}
	})
}

// TestFixedSizeStream: on a stream declared with a chunk size, every chunk
// reaches StreamReceived as exactly that many bytes, in order, however
// the writes grouped them; a Write that is not whole chunks fails at
// Write time and sends nothing; Read returns whole chunks only.
func TestFixedSizeStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		big := StreamConfig{Name: "big", ChunkSize: 5000} // 3 chunks a message
		a := l.join("a", withStreams(append(declared, big)...))
		b := l.join("b", withStreams(append(declared, big)...))
		c := l.join("c", withStreams(append(declared, big)...))
		pumping := true
		rec := &streamLog{pumping: &pumping}
		b.Register(rec)
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b, c}, 3))
		toB, err := a.OpenStream(a.Peer(b.ID()), "pos")
		if err != nil {
			t.Fatal(err)
		}
		if toB.ChunkSize() != 8 {
			t.Fatalf("chunk size %d", toB.ChunkSize())
		}
		for _, n := range []int{1, 7, 9, 12, 8*2048 + 4} {
			if w, err := toB.Write(make([]byte, n)); w != 0 || !errors.Is(err, ErrChunkSize) {
				t.Fatalf("Write(%d bytes) on 8-byte chunks: %d, %v; want 0, ErrChunkSize", n, w, err)
			}
		}
		var want []string
		var blob []byte
		for i := range 3000 { // 24,000 bytes in writes of 1, 2 and 3 chunks
			chunk := fmt.Sprintf("chunk%03d", i%1000)
			want = append(want, chunk)
			blob = append(blob, chunk...)
		}
		for len(blob) > 0 {
			n := 8 * (1 + len(blob)/8%3)
			if n > len(blob) {
				n = len(blob)
			}
			if _, err := toB.Write(blob[:n]); err != nil {
				t.Fatal(err)
			}
			blob = blob[n:]
		}
		bigB, _ := a.OpenStream(a.Peer(b.ID()), "big")
		bigData := bytes.Repeat([]byte("0123456789"), 5000*20/10)
		if _, err := bigB.Write(bigData); err != nil {
			t.Fatal(err)
		}
		l.pumpUntil(10*time.Second, func() bool { return len(rec.got) >= len(want)+20 })
		var got []string
		var bigGot []byte
		for _, g := range rec.got {
			switch g.stream {
			case "pos":
				got = append(got, g.data)
			case "big":
				if len(g.data) != 5000 {
					t.Fatalf("a chunk of %d bytes on a 5000-byte stream", len(g.data))
				}
				bigGot = append(bigGot, g.data...)
			default:
				t.Fatalf("chunk on stream %q", g.stream)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d chunks, want %d in order (first differing: %v)", len(got), len(want), firstDiff(got, want))
		}
		if !bytes.Equal(bigGot, bigData) {
			t.Fatal("big stream bytes differ")
		}

		// Read: whole chunks only (c has no StreamReceived listener).
		toC, _ := a.OpenStream(a.Peer(c.ID()), "pos")
		if _, err := toC.Write([]byte("aaaaaaaabbbbbbbbcccccccc")); err != nil {
			t.Fatal(err)
		}
		rs, _ := c.OpenStream(c.Peer(a.ID()), "pos")
		l.pumpUntil(10*time.Second, func() bool { return rs.Buffered() == 24 })
		if n, err := rs.Read(make([]byte, 7)); n != 0 || err != io.ErrShortBuffer {
			t.Fatalf("Read(7 bytes) on 8-byte chunks: %d, %v; want io.ErrShortBuffer", n, err)
		}
		buf := make([]byte, 20)
		if n, err := rs.Read(buf); n != 16 || err != nil || string(buf[:n]) != "aaaaaaaabbbbbbbb" {
			t.Fatalf("Read(20 bytes): %q, %v; want two whole chunks", buf[:n], err)
		}
	})
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("#%d %q, want %q", i, a[i], b[i])
		}
	}
	return "none, lengths differ"
}

// TestFixedSizeViolationClosesStream: a hostile peer sends a chunk of
// another size on a fixed-size stream. That stream closes with an error
// matching ErrChunkSize that the reader sees after the chunks before it
// (and Write and Err return it); later chunks on it are dropped and it
// does not reopen; the peer's other streams, the peer itself and the
// other peers are unaffected.
func TestFixedSizeViolationClosesStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a := l.join("a", withStreams(declared...))
		evil := l.join("evil", withStreams(declared...))
		c := l.join("c", withStreams(declared...))
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, evil, c}, 3))
		pa := evil.Peer(a.ID())
		raw := func(stream, data string) {
			t.Helper()
			if err := pa.Send(streamMsg{Action: streamAction, Name: stream, Data: []byte(data)}); err != nil {
				t.Fatal(err)
			}
		}
		raw("pos", "goodgood")
		raw("pos", "short")    // 5 bytes on 8-byte chunks
		raw("pos", "latelate") // after the violation: dropped
		raw("chat", "still here")
		cpos, _ := c.OpenStream(c.Peer(a.ID()), "pos")
		cpos.Write([]byte("from c.."))

		pe, pc := a.Peer(evil.ID()), a.Peer(c.ID())
		pos, _ := a.OpenStream(pe, "pos")
		chat, _ := a.OpenStream(pe, "chat")
		fromC, _ := a.OpenStream(pc, "pos")
		l.pumpUntil(10*time.Second, func() bool { return chat.Buffered() == 10 && fromC.Buffered() == 8 })
		l.pumpFor(time.Second)

		buf := make([]byte, 64)
		if n, err := pos.Read(buf); n != 8 || err != nil || string(buf[:n]) != "goodgood" {
			t.Fatalf("read %q, %v; want the chunk before the violation", buf[:n], err)
		}
		n, err := pos.Read(buf)
		if n != 0 || !errors.Is(err, ErrChunkSize) || !strings.Contains(err.Error(), `peer "evil" sent 5 bytes on stream "pos" of 8-byte chunks`) {
			t.Fatalf("after the violation: %d, %v; want 0 and an ErrChunkSize naming peer, size and stream", n, err)
		}
		if !errors.Is(pos.Err(), ErrChunkSize) {
			t.Fatalf("Err: %v", pos.Err())
		}
		if _, err := pos.Write(make([]byte, 8)); !errors.Is(err, ErrChunkSize) {
			t.Fatalf("Write on the closed stream: %v", err)
		}
		if again, err := a.OpenStream(pe, "pos"); again != pos || err != nil {
			t.Fatalf("OpenStream reopened the closed stream (%v)", err)
		}
		if n, err := chat.Read(buf); string(buf[:n]) != "still here" || err != nil {
			t.Fatalf("other stream of the same peer: %q, %v", buf[:n], err)
		}
		if n, err := fromC.Read(buf); string(buf[:n]) != "from c.." || err != nil {
			t.Fatalf("same stream of another peer: %q, %v", buf[:n], err)
		}
		if a.Peer(evil.ID()) == nil || a.Peer(c.ID()) == nil {
			t.Fatal("a peer was removed")
		}
		if _, err := a.Stream(pe).Write([]byte("ok")); err != nil {
			t.Fatalf("the unnamed stream with evil: %v", err)
		}
	})
}

// TestStreamLimits: stream names, declared streams and chunk sizes are
// bounded at Join; OpenStream stops at MaxStreams named streams; a peer
// that opens more, or uses an invalid name, is disconnected; what all of
// a peer's streams hold unread together is bounded by MaxStreamBuffer.
func TestStreamLimits(t *testing.T) {
	for _, scs := range [][]StreamConfig{
		{{Name: ""}},
		{{Name: strings.Repeat("x", MaxStreamName+1)}},
		{{Name: "a\x00b"}},
		{{Name: "pos"}, {Name: "pos"}},
		{{Name: "pos", ChunkSize: -1}},
		{{Name: "pos", ChunkSize: MaxChunkSize + 1}},
		slices.Repeat([]StreamConfig{{}}, MaxStreams+1),
	} {
		for i := range scs {
			if scs[i].Name == "" && len(scs) > 1 {
				scs[i].Name = fmt.Sprint(i)
			}
		}
		cfg := Config{DisplayName: "a", ServiceType: "x", Streams: scs}
		if err := cfg.validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Streams %.60v: %v, want ErrConfig", scs, err)
		}
	}
	ok := Config{DisplayName: "a", ServiceType: "x", Streams: []StreamConfig{{Name: strings.Repeat("é", MaxStreamName/2), ChunkSize: MaxChunkSize}}}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		attack func(p *Peer)
		reason string
	}{
		{"too many streams", func(p *Peer) {
			for i := range MaxStreams + 1 {
				p.Send(streamMsg{Action: streamAction, Name: fmt.Sprint("s", i), Data: []byte("x")})
			}
		}, "more than 16 streams"},
		{"invalid name", func(p *Peer) {
			p.Send(streamMsg{Action: streamAction, Name: strings.Repeat("x", MaxStreamName+1), Data: []byte("x")})
		}, "invalid stream name"},
		{"unread over MaxStreamBuffer on two streams", func(p *Peer) {
			chunk := make([]byte, streamChunk)
			for range MaxStreamBuffer / streamChunk / 2 {
				p.Send(streamMsg{Action: streamAction, Name: "one", Data: chunk})
				p.Send(streamMsg{Action: streamAction, Name: "two", Data: chunk})
			}
			p.Send(streamMsg{Action: streamAction, Data: []byte("x")})
		}, "stream buffer over 1048576 bytes unread"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				a, evil := l.join("a"), l.join("evil")
				l.pumpUntil(10*time.Second, meshComplete([]*Session{a, evil}, 2))
				pa := evil.Peer(a.ID())
				if tc.name == "too many streams" {
					// Locally, OpenStream stops at the limit.
					for i := range MaxStreams {
						if _, err := evil.OpenStream(pa, fmt.Sprint("mine", i)); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := evil.OpenStream(pa, "one more"); !errors.Is(err, ErrTooManyStreams) {
						t.Fatalf("OpenStream #%d: %v", MaxStreams+1, err)
					}
					if _, err := evil.OpenStream(pa, strings.Repeat("x", MaxStreamName+1)); !errors.Is(err, ErrConfig) {
						t.Fatalf("OpenStream with a long name: %v", err)
					}
				}
				tc.attack(pa)
				log := l.logs[evil]
				l.pumpUntil(10*time.Second, func() bool { return len(a.Peers()) == 0 && len(log.reasons) > 0 })
				if len(log.reasons) != 1 || !strings.Contains(log.reasons[0].Error(), tc.reason) {
					t.Fatalf("evil removed with %v; want %q", log.reasons, tc.reason)
				}
			})
		})
	}
}

// streamBomb panics in StreamReceived on "boom".
type streamBomb struct{ errs []error }

func (s *streamBomb) StreamReceived(_ *Peer, _ string, data []byte) {
	if string(data) == "boom" {
		panic("StreamReceived exploded")
	}
}
func (s *streamBomb) Network_error(_ *Peer, err error) { s.errs = append(s.errs, err) }

// TestStreamReceivedPanicRecovered: a panic in StreamReceived is recovered
// and reported as an "error" event like the other listener events; the
// other listeners still get the chunk, and the peer and its stream carry
// on.
func TestStreamReceivedPanicRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		a, b := l.join("a"), l.join("b")
		bomb := &streamBomb{}
		pumping := true
		rec := &streamLog{pumping: &pumping}
		if err := b.Register(bomb); err != nil {
			t.Fatal(err)
		}
		if err := b.Register(rec); err != nil {
			t.Fatal(err)
		}
		l.pumpUntil(10*time.Second, meshComplete([]*Session{a, b}, 2))
		st := a.Stream(a.Peer(b.ID()))
		for _, w := range []string{"one", "boom", "three"} {
			if _, err := st.Write([]byte(w)); err != nil {
				t.Fatal(err)
			}
		}
		l.pumpUntil(10*time.Second, func() bool { return len(rec.got) == 3 })
		if len(bomb.errs) != 1 || !errors.Is(bomb.errs[0], engine.ErrPanic) || !strings.Contains(bomb.errs[0].Error(), "StreamReceived exploded") {
			t.Fatalf("error events: %v; want one matching engine.ErrPanic", bomb.errs)
		}
		if got := []string{rec.got[0].data, rec.got[1].data, rec.got[2].data}; !slices.Equal(got, []string{"one", "boom", "three"}) {
			t.Fatalf("the listener after the panicking one got %q", got)
		}
		if b.Peer(a.ID()) == nil {
			t.Fatal("a was removed")
		}
	})
}
