package lobby

import (
	"fmt"
	"io"
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

// Stream is a reliable, ordered byte stream to and from one peer
// (Multipeer's stream), carried beside the peer's messages. It belongs to
// the goroutine that calls Pump: Read never blocks.
type Stream struct {
	s    *Session
	p    *Peer
	buf  []byte
	gone bool
}

// Stream returns the byte stream with peer p (the same one on every call).
func (s *Session) Stream(p *Peer) *Stream {
	if s.streams == nil {
		s.streams = make(map[*Peer]*Stream)
	}
	st := s.streams[p]
	if st == nil {
		st = &Stream{s: s, p: p}
		s.streams[p] = st
	}
	return st
}

// Write queues b for the peer (flushed by Pump). It never blocks; it fails
// once the peer is gone.
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
	}
	return n, nil
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
