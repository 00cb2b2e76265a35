package netcode

import (
	"log/slog"
	"sync/atomic"
	"syscall"
)

// defaultSocketBuffer is Config.SendBufferBytes's default: quic-go's
// DesiredReceiveBufferSize and DesiredSendBufferSize (7 MiB).
const defaultSocketBuffer = 7 << 20

// bufferSocket is what a socket needs for its buffers to be sized
// (*net.UDPConn has it).
type bufferSocket interface {
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
	SyscallConn() (syscall.RawConn, error)
}

// bufOps reads and sets one of a socket's buffers. get reports the size
// as the application set it (on Linux, half of what getsockopt says:
// the kernel doubles it for its bookkeeping). force is nil where the OS
// has no privileged override.
type bufOps struct {
	get   func() (int, error)
	set   func(int) error
	force func(int) error
}

// growBuffer asks for want bytes, as quic-go's setReceiveBuffer does: the
// ordinary option first, then the privileged one (Linux SO_RCVBUFFORCE /
// SO_SNDBUFFORCE, which needs CAP_NET_ADMIN) if the OS capped it. It
// never shrinks a buffer, and returns the size the OS granted.
func growBuffer(ops bufOps, want int) (int, error) {
	cur, err := ops.get()
	if err != nil || cur >= want {
		return cur, err
	}
	_ = ops.set(want)
	if cur, err = ops.get(); err != nil || cur >= want || ops.force == nil {
		return cur, err
	}
	_ = ops.force(want)
	return ops.get()
}

// bufferWarned makes the capped-buffer warning once per process, as
// quic-go does: every endpoint of a process meets the same OS limit.
var bufferWarned atomic.Bool

// warnBuffer logs, once per process, that the OS granted less than
// wanted for a socket's buffer.
func warnBuffer(log *slog.Logger, which string, want, got int) {
	if got >= want || !bufferWarned.CompareAndSwap(false, true) {
		return
	}
	log.Warn("netcode: the OS capped the UDP socket "+which+" buffer: bursts above it are lost before netcode sees them; "+
		"on Linux raise the limits with sysctl -w net.core.rmem_max=7340032 net.core.wmem_max=7340032, or give the process CAP_NET_ADMIN",
		"wanted_KiB", want>>10, "granted_KiB", got>>10)
}

// sizeSocketBuffers grows pc's buffers as Config.ReceiveBufferBytes and
// SendBufferBytes say if pc is a socket (bufferSocket), and returns the
// sizes granted (0 for other PacketConns, or a buffer left to the OS).
func sizeSocketBuffers(pc PacketConn, cfg *config) (rd, wr int) {
	bs, ok := pc.(bufferSocket)
	if !ok {
		return 0, 0
	}
	rc, err := bs.SyscallConn()
	if err != nil {
		return 0, 0
	}
	rops, wops := socketBufOps(bs, rc)
	size := func(ops bufOps, want int, which string) int {
		if want <= 0 {
			return 0
		}
		got, err := growBuffer(ops, want)
		if err != nil {
			return 0
		}
		warnBuffer(cfg.Logger, which, want, got)
		return got
	}
	return size(rops, cfg.ReceiveBufferBytes, "receive"), size(wops, cfg.SendBufferBytes, "send")
}
