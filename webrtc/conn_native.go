//go:build !js

package webrtc

import "github.com/pion/webrtc/v4"

// waitForSpace: natively, a reliable channel's reader waits for Receive to
// free queue space; SCTP's receive window then holds the sender back.
const waitForSpace = true

// platformStats reads the selected ICE candidate pair's counters.
func (c *Conn) platformStats() (Stats, bool) {
	var out Stats
	found := false
	for _, st := range c.pc.GetStats() {
		p, ok := st.(webrtc.ICECandidatePairStats)
		if !ok || !p.Nominated {
			continue
		}
		out.BytesIn += p.BytesReceived
		out.BytesOut += p.BytesSent
		out.PacketsIn += uint64(p.PacketsReceived)
		out.PacketsOut += uint64(p.PacketsSent)
		found = true
	}
	return out, found
}
