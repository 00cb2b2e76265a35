package lobby

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/netcode"
)

// streamAction is the reserved action of stream chunks.
const streamAction = "_stream"

// streamChunk bounds the bytes of one stream message.
const streamChunk = 16 << 10

// Limits of streams.
const (
	// MaxStreamBuffer bounds the bytes a peer's streams hold unread, all
	// of them together; a peer that sends more is disconnected (the
	// reader is not keeping up). Data handed to StreamReceived is not
	// held.
	MaxStreamBuffer = 1 << 20
	// MaxStreams bounds the named streams a session holds with one peer:
	// those Config.Streams declares plus those either side opened (the
	// unnamed stream of Session.Stream is not counted). A peer that opens
	// one more is disconnected.
	MaxStreams = 16
	// MaxStreamName bounds a stream's name, in bytes of UTF-8.
	MaxStreamName = 32
	// MaxChunkSize bounds StreamConfig.ChunkSize, in bytes.
	MaxChunkSize = streamChunk
)

// Stream errors. A fixed-size stream that receives a chunk of another size
// is closed with an error matching ErrChunkSize (Read returns it once the
// chunks before it are read; so do Write and Err); a Write whose length is
// not a multiple of the chunk size fails with one too, sending nothing.
var (
	ErrChunkSize      = errors.New("lobby: stream chunk size")
	ErrTooManyStreams = errors.New("lobby: too many streams")
)

// StreamConfig declares a named stream that a session opens with every
// peer as the peer is admitted (peerpy's initialize_streams), so that it
// exists on both sides before PeerAdded, without either game opening it.
type StreamConfig struct {
	// Name names the stream: 1..MaxStreamName bytes of UTF-8, unique
	// among Config.Streams.
	Name string
	// ChunkSize, if not 0, makes the stream fixed-size (peerpy): every
	// chunk has exactly ChunkSize bytes (1..MaxChunkSize). Write takes
	// whole chunks only; Read and StreamReceived deliver whole chunks
	// only; a chunk of another size from the peer closes the stream with
	// an error matching ErrChunkSize. Both sides must declare the same
	// size. 0: a byte stream, with no boundaries.
	ChunkSize int
}

type streamMsg struct {
	Action string `msgpack:"action" json:"action"`
	Name   string `msgpack:"n,omitempty" json:"n,omitempty"`
	Data   []byte `msgpack:"d" json:"d"`
}

// maxGoneStreams bounds the streams of removed peers that the session
// keeps for their unread bytes; beyond it the oldest is dropped.
const maxGoneStreams = DefaultMaxPeers

// Stream is a reliable, ordered stream of bytes to and from one peer
// (Multipeer's stream), carried beside the peer's messages: the unnamed
// one of Session.Stream, or a named one (Config.Streams,
// Session.OpenStream). It belongs to the goroutine that calls Pump: Read
// never blocks.
//
// It follows io.Reader's conventions: once the peer is removed, Read
// returns what arrived before the removal, then 0, io.EOF for good; Write
// fails with io.ErrClosedPipe. A fixed-size stream closed for a chunk of
// the wrong size returns that error instead of io.EOF.
//
// What arrives is kept for Read unless a listener with StreamReceived is
// registered: then it goes to that method instead.
type Stream struct {
	s    *Session
	p    *Peer
	name string
	size int // chunk size; 0 for a byte stream
	buf  []byte
	err  error // why it closed: io.EOF (peer removed) or an ErrChunkSize
}

// Stream returns the unnamed byte stream with peer p: the same one on
// every call while p is in the session, and after p's removal until its
// unread bytes are read. For a peer that is not (or no longer) in the
// session, nil included, it returns a closed stream (Read: io.EOF, Write:
// an error); a removed peer's stream never reopens. It does not block;
// call it from the Pump goroutine.
func (s *Session) Stream(p *Peer) *Stream {
	if st := s.streams[p][""]; st != nil {
		return st
	}
	if !s.isMember(p) {
		return &Stream{s: s, p: p, err: io.EOF}
	}
	return s.newStream(p, "", 0)
}

// OpenStream returns the stream named name with peer p, opening it if need
// be ("" is Stream's unnamed stream). A name of Config.Streams returns the
// stream opened at admission, fixed-size if declared so; another name
// opens a byte stream, which the peer's side opens when the first bytes
// arrive (StreamReceived, or Streams, tell its game). At most MaxStreams
// named streams per peer (ErrTooManyStreams). For a peer that is not in
// the session it returns the stream only if it was kept for unread bytes,
// else an error matching ErrNotPeer. It does not block; call it from the
// Pump goroutine.
func (s *Session) OpenStream(p *Peer, name string) (*Stream, error) {
	if err := validStreamName(name); err != nil && name != "" {
		return nil, err
	}
	if st := s.streams[p][name]; st != nil {
		return st, nil
	}
	if !s.isMember(p) {
		return nil, fmt.Errorf("%w: no stream %q", ErrNotPeer, name)
	}
	if name != "" && s.namedStreams(p) >= MaxStreams {
		return nil, fmt.Errorf("%w: %d named streams with %q already", ErrTooManyStreams, MaxStreams, p.Name)
	}
	return s.newStream(p, name, 0), nil
}

// Streams returns the streams with peer p, ordered by name: the unnamed
// one if it was used, those of Config.Streams, and those either side
// opened. It does not block; call it from the Pump goroutine.
func (s *Session) Streams(p *Peer) []*Stream {
	out := make([]*Stream, 0, len(s.streams[p]))
	for _, st := range s.streams[p] {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *Stream) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

func (s *Session) newStream(p *Peer, name string, size int) *Stream {
	if s.streams == nil {
		s.streams = make(map[*Peer]map[string]*Stream)
	}
	m := s.streams[p]
	if m == nil {
		m = make(map[string]*Stream)
		s.streams[p] = m
	}
	st := &Stream{s: s, p: p, name: name, size: size}
	m[name] = st
	return st
}

// namedStreams counts p's named streams.
func (s *Session) namedStreams(p *Peer) int {
	m := s.streams[p]
	if _, ok := m[""]; ok {
		return len(m) - 1
	}
	return len(m)
}

// openDeclared opens the streams of Config.Streams with a peer being
// admitted.
func (s *Session) openDeclared(p *Peer) {
	for _, sc := range s.cfg.Streams {
		if s.streams[p][sc.Name] == nil {
			s.newStream(p, sc.Name, sc.ChunkSize)
		}
	}
}

// Name returns the stream's name ("" for the unnamed one).
func (st *Stream) Name() string { return st.name }

// Peer returns the peer at the other end.
func (st *Stream) Peer() *Peer { return st.p }

// ChunkSize returns the chunk size of a fixed-size stream, 0 for a byte
// stream.
func (st *Stream) ChunkSize() int { return st.size }

// Err returns why the stream closed: nil while it is open, io.EOF once
// the peer was removed, an error matching ErrChunkSize once the peer sent
// a chunk of the wrong size. Games that take data through StreamReceived
// learn of a closed stream here.
func (st *Stream) Err() error { return st.err }

// Write queues b for the peer (flushed by Pump). It never blocks. On a
// fixed-size stream len(b) must be a multiple of the chunk size (else an
// error matching ErrChunkSize, and nothing is sent). Once the peer is
// gone it fails with io.ErrClosedPipe; on a stream closed for a wrong
// chunk size, with that error.
func (st *Stream) Write(b []byte) (int, error) {
	switch {
	case st.err == io.EOF:
		return 0, io.ErrClosedPipe
	case st.err != nil:
		return 0, st.err
	case st.size > 0 && len(b)%st.size != 0:
		return 0, fmt.Errorf("%w: write of %d bytes on stream %q, not a multiple of %d", ErrChunkSize, len(b), st.name, st.size)
	}
	per := streamChunk
	if st.size > 0 {
		per = streamChunk / st.size * st.size // whole chunks per message
	}
	n := 0
	for len(b) > 0 {
		c := b[:min(len(b), per)]
		if err := st.p.Send(streamMsg{Action: streamAction, Name: st.name, Data: c}); err != nil {
			return n, err
		}
		n += len(c)
		b = b[len(c):]
	}
	return n, nil
}

// Read copies what has arrived into b. It never blocks: with nothing
// buffered it returns 0, nil while the stream is open, then 0, io.EOF once
// the peer left (or the error that closed it, see Err). On a fixed-size
// stream it copies whole chunks only, as many as fit in b, and a b shorter
// than one chunk is io.ErrShortBuffer while a chunk is buffered.
func (st *Stream) Read(b []byte) (int, error) {
	if len(st.buf) == 0 {
		if st.err != nil {
			return 0, st.err
		}
		return 0, nil
	}
	want := len(b)
	if st.size > 0 {
		if want < st.size {
			return 0, io.ErrShortBuffer
		}
		want -= want % st.size
	}
	n := copy(b[:want], st.buf)
	st.buf = st.buf[n:]
	if len(st.buf) == 0 {
		st.buf = nil
		if st.err != nil {
			st.s.dropStream(st)
		}
	}
	return n, nil
}

// Buffered returns the number of bytes Read can return now.
func (st *Stream) Buffered() int { return len(st.buf) }

// closeStreams ends p's streams as p is removed: Read drains what arrived,
// then returns io.EOF (or the error that closed the stream before). A
// stream with unread bytes stays reachable through Session.Stream and
// OpenStream until they are read (at most maxGoneStreams such streams, the
// oldest dropped first).
func (s *Session) closeStreams(p *Peer) {
	m := s.streams[p]
	for name, st := range m {
		if st.err == nil {
			st.err = io.EOF
		}
		if len(st.buf) == 0 {
			delete(m, name)
			continue
		}
		s.undrained = append(s.undrained, st)
	}
	if len(m) == 0 {
		delete(s.streams, p)
	}
	for len(s.undrained) > maxGoneStreams {
		s.forgetStream(s.undrained[0])
	}
}

// dropStream forgets a removed peer's stream once it is drained (a
// stream closed while its peer stays is kept, so that it does not reopen).
func (s *Session) dropStream(st *Stream) {
	if !s.isMember(st.p) && s.streams[st.p][st.name] == st {
		s.forgetStream(st)
	}
}

func (s *Session) forgetStream(st *Stream) {
	if m := s.streams[st.p]; m[st.name] == st {
		delete(m, st.name)
		if len(m) == 0 {
			delete(s.streams, st.p)
		}
	}
	s.undrained = slices.DeleteFunc(s.undrained, func(x *Stream) bool { return x == st })
}

// unread counts the bytes p's streams hold for Read.
func (s *Session) unread(p *Peer) int {
	n := 0
	for _, st := range s.streams[p] {
		n += len(st.buf)
	}
	return n
}

// onStream takes a chunk from p: to its stream's StreamReceived listeners
// if there are any, else to its buffer for Read. A message that breaks
// the stream rules (a name too long, too many streams, too many unread
// bytes) disconnects p; a chunk of the wrong size on a fixed-size stream
// closes that stream only.
func (s *Session) onStream(p *Peer, payload []byte) {
	m := streamMsg{Data: s.scratch[:0]}
	if err := s.codec.Decode(payload, &m); err != nil {
		return
	}
	if cap(m.Data) > cap(s.scratch) && cap(m.Data) <= 2*streamChunk {
		s.scratch = m.Data[:0] // reused for the next chunk (StreamReceived's data is not retained)
	}
	if m.Name != "" {
		if err := validStreamName(m.Name); err != nil {
			p.Conn().CloseWithReason(netcode.CodeProtocolViolation, "invalid stream name")
			return
		}
	}
	if len(m.Data) > streamChunk {
		p.Conn().CloseWithReason(netcode.CodeProtocolViolation, fmt.Sprintf("stream chunk over %d bytes", streamChunk))
		return
	}
	st := s.streams[p][m.Name]
	if st == nil {
		if m.Name != "" && s.namedStreams(p) >= MaxStreams {
			p.Conn().CloseWithReason(CodeRefused, fmt.Sprintf("more than %d streams", MaxStreams))
			return
		}
		st = s.newStream(p, m.Name, 0)
	}
	if st.err != nil || len(m.Data) == 0 {
		return // closed (chunks in flight are dropped), or nothing
	}
	if st.size > 0 && len(m.Data)%st.size != 0 {
		// The chunks before it stay readable; the stream stays in the
		// map, closed, so that its name does not reopen.
		st.err = fmt.Errorf("%w: peer %q sent %d bytes on stream %q of %d-byte chunks; stream closed", ErrChunkSize, p.Name, len(m.Data), st.name, st.size)
		return
	}
	if s.streamListeners > 0 {
		s.deliverStream(st, m.Data)
		return
	}
	if s.unread(p)+len(m.Data) > MaxStreamBuffer {
		p.Conn().CloseWithReason(CodeRefused, fmt.Sprintf("stream buffer over %d bytes unread", MaxStreamBuffer))
		return
	}
	st.buf = append(st.buf, m.Data...)
}

// deliverStream hands data to the StreamReceived listeners, chunk by chunk
// on a fixed-size stream.
func (s *Session) deliverStream(st *Stream, data []byte) {
	step := len(data)
	if st.size > 0 {
		step = st.size
	}
	p, name := st.p, st.name
	for len(data) > 0 {
		c := data[:step:step]
		s.emit("StreamReceived", p, func(l any) {
			if h, ok := l.(interface {
				StreamReceived(*Peer, string, []byte)
			}); ok {
				h.StreamReceived(p, name, c)
			}
		})
		data = data[step:]
	}
}

// validStreamName checks a stream name: 1..MaxStreamName bytes of UTF-8
// without control characters.
func validStreamName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty stream name", ErrConfig)
	case len(name) > MaxStreamName:
		return fmt.Errorf("%w: stream name of %d bytes, at most %d", ErrConfig, len(name), MaxStreamName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: stream name is not valid UTF-8", ErrConfig)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: stream name contains control character %U", ErrConfig, r)
		}
	}
	return nil
}

// validateStreams checks Config.Streams.
func validateStreams(scs []StreamConfig) error {
	if len(scs) > MaxStreams {
		return fmt.Errorf("%w: %d streams, at most %d", ErrConfig, len(scs), MaxStreams)
	}
	seen := make(map[string]bool, len(scs))
	for _, sc := range scs {
		if err := validStreamName(sc.Name); err != nil {
			return err
		}
		if seen[sc.Name] {
			return fmt.Errorf("%w: stream %q declared twice", ErrConfig, sc.Name)
		}
		seen[sc.Name] = true
		if sc.ChunkSize < 0 || sc.ChunkSize > MaxChunkSize {
			return fmt.Errorf("%w: stream %q ChunkSize %d outside 0..%d", ErrConfig, sc.Name, sc.ChunkSize, MaxChunkSize)
		}
	}
	return nil
}
