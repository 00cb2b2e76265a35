//go:build js && wasm

package webrtc

// waitForSpace: a browser's data channel has no receive flow control, so
// a full receive queue ends the connection (CodeReceiveOverflow) instead
// of holding the channel's reader.
const waitForSpace = false

// platformStats: pion's wasm build has no GetStats.
func (c *Conn) platformStats() (Stats, bool) { return Stats{}, false }
