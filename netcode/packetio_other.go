//go:build !linux

package netcode

// newPacketIO returns the fallback: batched system calls are Linux only.
func newPacketIO(pc PacketConn) packetIO { return newSingleIO(pc) }
