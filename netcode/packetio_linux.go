//go:build linux

package netcode

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batch sizes: datagrams per recvmmsg and per sendmmsg call.
const (
	readBatchLen  = 32
	writeBatchLen = 64
	// readSlotLen is a read slot's size while every datagram fits it; the
	// first longer one (a peer with a larger Config.MaxDatagramSize) is
	// lost, truncated, and the slots grow to 64 KiB.
	readSlotLen = 2048
)

// mmsghdr is struct mmsghdr: the compiler pads it as the C compiler does
// (64 bytes on 64-bit platforms, 32 on 32-bit ones).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// sockaddr holds a struct sockaddr_in or sockaddr_in6.
type sockaddr = unix.RawSockaddrInet6

// mmsgIO is recvmmsg/sendmmsg on a UDP socket (issue 13 item 2). Its
// buffers are reused: it allocates nothing per call. x/net's ipv4/ipv6
// ReadBatch would allocate a *net.UDPAddr and its IP per datagram read.
type mmsgIO struct {
	rc  syscall.RawConn
	v6  bool // AF_INET6 socket: IPv4 peers as v4-mapped addresses
	alt *singleIO

	// write side: the outbound queue's drainer only
	whdr  [writeBatchLen]mmsghdr
	wiov  [writeBatchLen]unix.Iovec
	wname [writeBatchLen]sockaddr
	wlen  int
	wn    int
	werr  syscall.Errno
	wfn   func(fd uintptr) bool

	// read side: the reader goroutine only
	rhdr  [readBatchLen]mmsghdr
	riov  [readBatchLen]unix.Iovec
	rname [readBatchLen]sockaddr
	rbuf  [readBatchLen][]byte
	rn    int
	rerr  syscall.Errno
	rfn   func(fd uintptr) bool
	// handle is read's handler while read runs.
	handle func(n int)
	// readCalls counts recvmmsg calls, those that found nothing too (tests).
	readCalls atomic.Uint64
	grow      bool // a datagram was truncated: grow the slots before the next read
	off       bool // the kernel has no recvmmsg/sendmmsg: use alt
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
	for i := range m.rhdr {
		m.rbuf[i] = make([]byte, readSlotLen)
		m.setReadSlot(i)
	}
	for i := range m.whdr {
		h := &m.whdr[i].hdr
		h.Iov = &m.wiov[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&m.wname[i]))
	}
	return m
}

func (m *mmsgIO) setReadSlot(i int) {
	m.riov[i].Base = &m.rbuf[i][0]
	m.riov[i].SetLen(len(m.rbuf[i]))
	h := &m.rhdr[i].hdr
	h.Iov = &m.riov[i]
	h.SetIovlen(1)
	h.Name = (*byte)(unsafe.Pointer(&m.rname[i]))
	h.Namelen = uint32(unsafe.Sizeof(m.rname[i]))
	h.Flags = 0
}

func (m *mmsgIO) sendmmsg(fd uintptr) bool {
	n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.whdr[0])), uintptr(m.wlen), 0, 0, 0)
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
		if m.grow {
			m.grow = false
			for i := range m.rbuf {
				m.rbuf[i] = make([]byte, 65536)
				m.setReadSlot(i)
			}
		}
		for i := range max(m.rn, 1) {
			m.setReadSlot(i) // the slots the last read used
		}
		m.readCalls.Add(1)
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.rhdr[0])), readBatchLen, 0, 0, 0)
		if e == unix.EAGAIN {
			m.rn = 0
			return false
		}
		if e != 0 {
			m.rn, m.rerr = 0, e
			return true
		}
		m.rn = int(n)
		m.handle(m.rn)
		if m.rn < readBatchLen {
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
	n := min(len(b), writeBatchLen)
	for i := range n {
		p := &b[i]
		h := &m.whdr[i].hdr
		h.Namelen = m.putAddr(&m.wname[i], p.to)
		if h.Namelen == 0 {
			if i == 0 {
				return 0, errors.New("netcode: address family not supported by the socket")
			}
			n = i
			break
		}
		m.wiov[i].Base = unsafe.SliceData(p.buf)
		m.wiov[i].SetLen(len(p.buf))
	}
	m.wlen, m.wn, m.werr = n, 0, 0
	err := m.rc.Write(m.wfn)
	for i := range n {
		m.wiov[i].Base = nil // let the buffers go
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
	h := &m.rhdr[i]
	n, flags := int(h.len), h.hdr.Flags
	sa := &m.rname[i]
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
	b := m.rbuf[i][:min(n, len(m.rbuf[i]))]
	ok := from.IsValid()
	if flags&unix.MSG_TRUNC != 0 {
		// A peer with a larger datagram budget: this datagram is lost;
		// every slot grows to 64 KiB before the next read, once.
		ok = false
		m.grow = len(m.rbuf[i]) < 65536
	}
	return b, from, ok
}
