//go:build linux

package netcode

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batch sizes: datagrams per recvmmsg and per sendmmsg call.
const (
	readBatchLen  = 32
	writeBatchLen = 64
)

// mmsghdr is struct mmsghdr: the compiler pads it as the C compiler does
// (64 bytes on 64-bit platforms, 32 on 32-bit ones).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// sockaddr holds a struct sockaddr_in or sockaddr_in6.
type sockaddr = unix.RawSockaddrInet6

// mmsgIO is recvmmsg/sendmmsg on a UDP socket (issue 13 item 2). It
// allocates nothing per call. x/net's ipv4/ipv6 ReadBatch would allocate a
// *net.UDPAddr and its IP per datagram read.
//
// Its buffers are borrowed, not owned (issue 13 item 7): a read takes a
// readSet from a process-wide pool when the socket has data and gives it
// back when a read finds the socket empty, and a batched write takes a
// writeSet for the call. An endpoint waiting for traffic holds no buffer,
// so a process with many quiet endpoints (clients, bots, tests) does not
// hold 64 KiB of read slots for each, and a busy endpoint reuses the same
// set from read to read.
type mmsgIO struct {
	rc  syscall.RawConn
	v6  bool // AF_INET6 socket: IPv4 peers as v4-mapped addresses
	alt *singleIO

	// write side: the outbound queue's drainer only
	ws   *writeSet // during a writeBatch call
	wlen int
	wn   int
	werr syscall.Errno
	wfn  func(fd uintptr) bool

	// read side: the reader goroutine only
	rs   *readSet // nil while the socket has nothing to read
	rn   int
	rerr syscall.Errno
	rfn  func(fd uintptr) bool
	// handle is read's handler while read runs.
	handle func(n int)
	// readCalls counts recvmmsg calls, those that found nothing too (tests).
	readCalls atomic.Uint64
	big       bool // a datagram was truncated: read into maxReadLen slots from now on
	off       bool // the kernel has no recvmmsg/sendmmsg: use alt
}

// readSet is what one recvmmsg call reads into. The message headers point
// into the set itself; a set in its pool has every slot reset
// (setReadSlot).
type readSet struct {
	hdr  [readBatchLen]mmsghdr
	iov  [readBatchLen]unix.Iovec
	name [readBatchLen]sockaddr
	buf  [readBatchLen][]byte
}

// writeSet is what one sendmmsg call writes from.
type writeSet struct {
	hdr  [writeBatchLen]mmsghdr
	iov  [writeBatchLen]unix.Iovec
	name [writeBatchLen]sockaddr
}

// Pools of read sets (slots of readSlotLen and of maxReadLen bytes) and of
// write sets, shared by every endpoint of the process.
var (
	readSets = [2]sync.Pool{
		{New: func() any { return newReadSet(readSlotLen) }},
		{New: func() any { return newReadSet(maxReadLen) }},
	}
	writeSets = sync.Pool{New: func() any { return newWriteSet() }}
)

func newReadSet(slot int) *readSet {
	s := &readSet{}
	for i := range s.buf {
		s.buf[i] = make([]byte, slot)
		s.setReadSlot(i)
	}
	return s
}

func newWriteSet() *writeSet {
	w := &writeSet{}
	for i := range w.hdr {
		h := &w.hdr[i].hdr
		h.Iov = &w.iov[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&w.name[i]))
	}
	return w
}

// newPacketIO returns batched I/O for a *net.UDPConn, else the fallback.
func newPacketIO(pc PacketConn) packetIO {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return newSingleIO(pc)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return newSingleIO(pc)
	}
	domain := -1
	if cerr := rc.Control(func(fd uintptr) {
		domain, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); cerr != nil || err != nil || (domain != unix.AF_INET && domain != unix.AF_INET6) {
		return newSingleIO(pc)
	}
	m := &mmsgIO{rc: rc, v6: domain == unix.AF_INET6, alt: newSingleIO(pc)}
	m.wfn, m.rfn = m.sendmmsg, m.recvmmsg
	return m
}

// setReadSlot makes slot i ready for the next read.
func (s *readSet) setReadSlot(i int) {
	s.iov[i].Base = &s.buf[i][0]
	s.iov[i].SetLen(len(s.buf[i]))
	h := &s.hdr[i].hdr
	h.Iov = &s.iov[i]
	h.SetIovlen(1)
	h.Name = (*byte)(unsafe.Pointer(&s.name[i]))
	h.Namelen = uint32(unsafe.Sizeof(s.name[i]))
	h.Flags = 0
}

// pool returns the pool of the read sets this endpoint reads into.
func (m *mmsgIO) pool() *sync.Pool {
	if m.big {
		return &readSets[1]
	}
	return &readSets[0]
}

// takeReadSet borrows a read set, when the socket has data.
func (m *mmsgIO) takeReadSet() {
	if m.rs == nil {
		m.rs = m.pool().Get().(*readSet)
	}
}

// releaseReadSet gives the read set back (every slot reset), when the
// socket has nothing to read.
func (m *mmsgIO) releaseReadSet() {
	if m.rs != nil {
		m.pool().Put(m.rs)
		m.rs = nil
	}
}

func (m *mmsgIO) sendmmsg(fd uintptr) bool {
	n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.ws.hdr[0])), uintptr(m.wlen), 0, 0, 0)
	if e == unix.EAGAIN {
		return false // wait until the socket is writable
	}
	m.wn, m.werr = int(n), e
	return true
}

// recvmmsg is the read loop, run inside the socket's RawRead so that the
// runtime's readiness for the socket is not reset between reads: it reads
// a batch, handles it, and reads again while batches come full. A batch
// shorter than readBatchLen means recvmmsg met an empty socket queue, so
// it returns false to wait for the next datagram's readiness without the
// read that would only find EAGAIN: on a quiet socket (a ping-pong) each
// datagram then costs one system call instead of two. (A datagram that
// arrives after recvmmsg looked at the queue marks the socket ready again:
// the runtime's poller sees every arrival, and waitRead returns at once if
// one came meanwhile.)
func (m *mmsgIO) recvmmsg(fd uintptr) bool {
	for {
		m.takeReadSet()
		rs := m.rs
		m.readCalls.Add(1)
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&rs.hdr[0])), readBatchLen, 0, 0, 0)
		if e == unix.EAGAIN {
			m.rn = 0
			m.releaseReadSet()
			return false
		}
		if e != 0 {
			m.rn, m.rerr = 0, e
			m.releaseReadSet()
			return true
		}
		m.rn = int(n)
		m.handle(m.rn)
		for i := range m.rn {
			rs.setReadSlot(i) // the slots this read used
		}
		if m.big && len(rs.buf[0]) < maxReadLen {
			readSets[0].Put(rs) // a truncated datagram: larger slots from now on
			m.rs = nil
		}
		if m.rn < readBatchLen {
			// The queue is empty: wait, holding no read set.
			m.releaseReadSet()
			return false
		}
	}
}

// putAddr writes a as the sockaddr of the socket's family into sa and
// returns its length (0: a cannot be reached from this socket).
func (m *mmsgIO) putAddr(sa *sockaddr, a netip.AddrPort) uint32 {
	ip := a.Addr()
	if !m.v6 {
		ip = ip.Unmap()
		if !ip.Is4() {
			return 0
		}
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip.As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s4.Port))[:], a.Port())
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ip.As16()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], a.Port())
	return unix.SizeofSockaddrInet6
}

func (m *mmsgIO) writeBatch(b []outPacket) (int, error) {
	if m.off || len(b) == 1 {
		// One datagram: sendto costs the round trip less than
		// sendmmsg's message header copies.
		return m.alt.writeBatch(b)
	}
	w := writeSets.Get().(*writeSet)
	defer writeSets.Put(w)
	n := min(len(b), writeBatchLen)
	for i := range n {
		p := &b[i]
		h := &w.hdr[i].hdr
		h.Namelen = m.putAddr(&w.name[i], p.to)
		if h.Namelen == 0 {
			if i == 0 {
				return 0, errors.New("netcode: address family not supported by the socket")
			}
			n = i
			break
		}
		w.iov[i].Base = unsafe.SliceData(p.buf)
		w.iov[i].SetLen(len(p.buf))
	}
	m.ws, m.wlen, m.wn, m.werr = w, n, 0, 0
	err := m.rc.Write(m.wfn)
	m.ws = nil
	for i := range n {
		w.iov[i].Base = nil // let the buffers go
	}
	if err != nil {
		return 0, err // net.ErrClosed
	}
	if m.werr != 0 {
		if m.werr == unix.ENOSYS || m.werr == unix.EOPNOTSUPP {
			m.off = true // no sendmmsg: one datagram per call from now on
			return m.alt.writeBatch(b)
		}
		return 0, os.NewSyscallError("sendmmsg", m.werr)
	}
	return m.wn, nil
}

func (m *mmsgIO) read(handle func(n int)) error {
	if m.off {
		return m.alt.read(handle)
	}
	m.handle, m.rerr = handle, 0
	err := m.rc.Read(m.rfn)
	m.handle = nil
	if err != nil {
		return err
	}
	if m.rerr == unix.ENOSYS || m.rerr == unix.EOPNOTSUPP {
		m.off = true
		return m.alt.read(handle)
	}
	return os.NewSyscallError("recvmmsg", m.rerr)
}

func (m *mmsgIO) message(i int) ([]byte, netip.AddrPort, bool) {
	if m.off {
		return m.alt.message(i)
	}
	rs := m.rs
	h := &rs.hdr[i]
	n, flags := int(h.len), h.hdr.Flags
	sa := &rs.name[i]
	var from netip.AddrPort
	switch sa.Family {
	case unix.AF_INET:
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		from = netip.AddrPortFrom(netip.AddrFrom4(s4.Addr),
			binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&s4.Port))[:]))
	case unix.AF_INET6:
		from = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr),
			binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:]))
	}
	b := rs.buf[i][:min(n, len(rs.buf[i]))]
	ok := from.IsValid()
	if flags&unix.MSG_TRUNC != 0 {
		// A peer with a larger datagram budget: this datagram is lost;
		// the endpoint reads into maxReadLen slots from the next read on.
		ok = false
		m.big = true
	}
	return b, from, ok
}
