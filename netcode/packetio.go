package netcode

import (
	"net/netip"
)

// Read buffer sizes. Datagrams are read into slots of readSlotLen bytes
// while every datagram fits one; the first longer one (a peer with a
// larger Config.MaxDatagramSize) is lost, truncated, and the endpoint
// reads into maxReadLen slots from then on.
const (
	readSlotLen = 2048
	maxReadLen  = 65536
)

// packetIO moves datagrams between an endpoint and its socket: batched
// system calls where the platform and the socket allow (packetio_linux.go:
// recvmmsg and sendmmsg on a *net.UDPConn), one datagram per call
// otherwise (any PacketConn: in-memory networks, the link conditioner,
// wrappers).
type packetIO interface {
	// writeBatch writes packets from the front of b, in order, in one
	// system call, and returns how many it wrote; a non-nil error is the
	// fate of b[n]. The outbound queue's drainer is its only caller at a
	// time.
	writeBatch(b []outPacket) (int, error)
	// read blocks until datagrams arrive and calls handle(n) for each
	// batch of n of them (message returns them, until handle returns). It
	// may handle many batches before it returns; it returns a non-nil
	// error for a failed read (net.ErrClosed once the socket is closed).
	// Reader goroutine only.
	read(handle func(n int)) error
	// message returns datagram i of the last readBatch (valid until the
	// next readBatch); ok is false for one that must be dropped (it was
	// truncated).
	message(i int) (b []byte, from netip.AddrPort, ok bool)
}

// singleIO is the fallback: one datagram per call. Its read buffer starts
// at readSlotLen bytes and grows to maxReadLen the first time a datagram
// fills it (it may have been cut short: it is dropped) or a read fails (on
// some systems a datagram longer than the buffer is an error): an endpoint
// whose peers send datagrams of the usual budget keeps a small buffer
// (issue 13 item 7).
type singleIO struct {
	pc   PacketConn
	buf  []byte
	n    int
	from netip.AddrPort
	full bool // the last datagram filled buf
}

func newSingleIO(pc PacketConn) *singleIO { return &singleIO{pc: pc} }

func (s *singleIO) writeBatch(b []outPacket) (int, error) {
	if _, err := s.pc.WriteToUDPAddrPort(b[0].buf, b[0].to); err != nil {
		return 0, err
	}
	return 1, nil
}

func (s *singleIO) read(handle func(n int)) error {
	switch {
	case s.full && len(s.buf) < maxReadLen:
		s.buf = make([]byte, maxReadLen)
	case s.buf == nil:
		s.buf = make([]byte, readSlotLen)
	}
	n, from, err := s.pc.ReadFromUDPAddrPort(s.buf)
	if err != nil {
		s.full, s.n = true, 0
		return err
	}
	s.n, s.from, s.full = n, from, n >= len(s.buf)
	handle(1)
	return nil
}

func (s *singleIO) message(int) ([]byte, netip.AddrPort, bool) {
	return s.buf[:s.n], s.from, !s.full || len(s.buf) >= maxReadLen
}
