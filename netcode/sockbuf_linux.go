//go:build linux

package netcode

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketBufOps reads the buffers with getsockopt (halved: Linux reports
// twice the size set) and forces them with SO_RCVBUFFORCE and
// SO_SNDBUFFORCE past net.core.rmem_max / wmem_max when the process has
// CAP_NET_ADMIN.
func socketBufOps(bs bufferSocket, rc syscall.RawConn) (rd, wr bufOps) {
	opt := func(name int) func() (int, error) {
		return func() (int, error) {
			var v int
			var err error
			if cerr := rc.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, name) }); cerr != nil {
				return 0, cerr
			}
			return v / 2, err
		}
	}
	force := func(name int) func(int) error {
		return func(n int) error {
			var err error
			if cerr := rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, name, n) }); cerr != nil {
				return cerr
			}
			return err
		}
	}
	return bufOps{get: opt(unix.SO_RCVBUF), set: bs.SetReadBuffer, force: force(unix.SO_RCVBUFFORCE)},
		bufOps{get: opt(unix.SO_SNDBUF), set: bs.SetWriteBuffer, force: force(unix.SO_SNDBUFFORCE)}
}
