package netcode

import (
	"net/netip"
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

// singleIO is the fallback: one datagram per call.
type singleIO struct {
	pc   PacketConn
	buf  []byte
	n    int
	from netip.AddrPort
}

func newSingleIO(pc PacketConn) *singleIO {
	return &singleIO{pc: pc, buf: make([]byte, 65536)}
}

func (s *singleIO) writeBatch(b []outPacket) (int, error) {
	if _, err := s.pc.WriteToUDPAddrPort(b[0].buf, b[0].to); err != nil {
		return 0, err
	}
	return 1, nil
}

func (s *singleIO) read(handle func(n int)) error {
	n, from, err := s.pc.ReadFromUDPAddrPort(s.buf)
	if err != nil {
		return err
	}
	s.n, s.from = n, from
	handle(1)
	return nil
}

func (s *singleIO) message(int) ([]byte, netip.AddrPort, bool) {
	return s.buf[:s.n], s.from, true
}
