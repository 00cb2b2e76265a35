package lobby

import (
	"fmt"
	"io"
	"slices"
)

// streamAction is the reserved action of stream chunks.
const streamAction = "_stream"

// streamChunk bounds the bytes of one stream message.
const streamChunk = 16 << 10

// MaxStreamBuffer bounds the bytes a peer's stream holds unread; a peer
// that sends more is disconnected (the reader is not keeping up).
const MaxStreamBuffer = 1 << 20

type streamMsg struct {
	Action string `msgpack:"action"`
	Data   []byte `msgpack:"d"`
}

// maxGoneStreams bounds the streams of removed peers that the session
// keeps for their unread bytes; beyond it the oldest is dropped.
const maxGoneStreams = DefaultMaxPeers

// Stream is a reliable, ordered byte stream to and from one peer
// (Multipeer's stream), carried beside the peer's messages. It belongs to
// the goroutine that calls Pump: Read never blocks.
//
// It follows io.Reader's conventions: once the peer is removed, Read
// returns what arrived before the removal, then 0, io.EOF for good; Write
// fails with io.ErrClosedPipe.
type Stream struct {
	s    *Session
	p    *Peer
	buf  []byte
	gone bool
}

// Stream returns the byte stream with peer p: the same one on every call
// while p is in the session, and after p's removal until its unread bytes
// are read. For a peer that is not (or no longer) in the session, nil
// included, it returns a closed stream (Read: io.EOF, Write: an error); a
// removed peer's stream never reopens. It does not block; call it from the
// Pump goroutine.
func (s *Session) Stream(p *Peer) *Stream {
	if st := s.streams[p]; st != nil {
		return st
	}
	if !s.isMember(p) {
		return &Stream{s: s, p: p, gone: true}
	}
	if s.streams == nil {
		s.streams = make(map[*Peer]*Stream)
	}
	st := &Stream{s: s, p: p}
	s.streams[p] = st
	return st
}

// Write queues b for the peer (flushed by Pump). It never blocks; once the
// peer is gone it fails with io.ErrClosedPipe.
func (st *Stream) Write(b []byte) (int, error) {
	if st.gone {
		return 0, io.ErrClosedPipe
	}
	n := 0
	for len(b) > 0 {
		c := b[:min(len(b), streamChunk)]
		if err := st.p.Send(streamMsg{Action: streamAction, Data: c}); err != nil {
			return n, err
		}
		n += len(c)
		b = b[len(c):]
	}
	return n, nil
}

// Read copies what has arrived into b. It never blocks: with nothing
// buffered it returns 0, nil while the peer is in the session, and 0,
// io.EOF once it left.
func (st *Stream) Read(b []byte) (int, error) {
	if len(st.buf) == 0 {
		if st.gone {
			return 0, io.EOF
		}
		return 0, nil
	}
	n := copy(b, st.buf)
	st.buf = st.buf[n:]
	if len(st.buf) == 0 {
		st.buf = nil
		if st.gone {
			st.s.dropStream(st)
		}
	}
	return n, nil
}

// closeStream ends p's stream as p is removed: Read drains what arrived,
// then returns io.EOF. A stream with unread bytes stays reachable through
// Session.Stream until they are read (at most maxGoneStreams such streams,
// the oldest dropped first).
func (s *Session) closeStream(p *Peer) {
	st := s.streams[p]
	if st == nil {
		return
	}
	st.gone = true
	if len(st.buf) == 0 {
		delete(s.streams, p)
		return
	}
	s.undrained = append(s.undrained, p)
	if len(s.undrained) > maxGoneStreams {
		delete(s.streams, s.undrained[0])
		s.undrained = slices.Delete(s.undrained, 0, 1)
	}
}

// dropStream forgets a removed peer's stream once it is drained.
func (s *Session) dropStream(st *Stream) {
	if s.streams[st.p] == st {
		delete(s.streams, st.p)
		s.undrained = slices.DeleteFunc(s.undrained, func(p *Peer) bool { return p == st.p })
	}
}

// Buffered returns the number of bytes Read can return now.
func (st *Stream) Buffered() int { return len(st.buf) }

// onStream appends a chunk from p to its stream.
func (s *Session) onStream(p *Peer, payload []byte) {
	var m streamMsg
	if err := s.codec.Decode(payload, &m); err != nil {
		return
	}
	st := s.Stream(p)
	if len(st.buf)+len(m.Data) > MaxStreamBuffer {
		p.Conn().CloseWithReason(CodeRefused, fmt.Sprintf("stream buffer over %d bytes unread", MaxStreamBuffer))
		return
	}
	st.buf = append(st.buf, m.Data...)
}
