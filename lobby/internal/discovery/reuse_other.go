//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package discovery

import "syscall"

// reuseAddrPort does nothing here: on this system the MDNS backend shares
// port 5353 only as far as the platform's defaults allow.
func reuseAddrPort(_, _ string, _ syscall.RawConn) error { return nil }
