//go:build !linux

package netcode

import (
	"syscall"
)

// socketBufOps does not read the sizes back outside Linux: a set that
// succeeded counts as granted (the BSDs and macOS refuse a size above
// their limit with an error instead of capping it), a failed one as the
// OS default, reported as 0.
func socketBufOps(bs bufferSocket, _ syscall.RawConn) (rd, wr bufOps) {
	mk := func(set func(int) error) bufOps {
		granted := 0
		return bufOps{
			get: func() (int, error) { return granted, nil },
			set: func(n int) error {
				err := set(n)
				if err == nil {
					granted = n
				}
				return err
			},
		}
	}
	return mk(bs.SetReadBuffer), mk(bs.SetWriteBuffer)
}
