//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package discovery

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reuseAddrPort sets SO_REUSEADDR and SO_REUSEPORT, as Avahi and Bonjour
// do on their mDNS sockets, so that every mDNS stack of the host binds
// port 5353.
func reuseAddrPort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
