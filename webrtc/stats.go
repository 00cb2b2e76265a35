package webrtc

import (
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

var _ netcode.Transport = (*Conn)(nil)

// Stats describes one connection. RTT, MinRTT and Jitter come from pings
// on the control channel (every Config.KeepAlive), so they include SCTP's
// own delays, as a game message would. Bytes and packets are those of the
// selected ICE candidate pair (native peers, from pion's GetStats; in a
// browser, where pion's wasm build has no GetStats, they count message
// payloads instead).
type Stats struct {
	RTT    time.Duration // smoothed round-trip time of control pings
	MinRTT time.Duration
	Jitter time.Duration
	// Loss is the recent fraction of UnreliableSequenced messages missing
	// from the sequence numbers received (exponentially weighted over
	// about 64 messages); SCTP does not expose its packet loss. 0 without
	// sequenced traffic.
	Loss float64

	BytesIn, BytesOut       uint64 // on the wire (see above)
	PacketsIn, PacketsOut   uint64
	MessagesIn, MessagesOut uint64 // application messages
	PayloadIn, PayloadOut   uint64 // application bytes

	QueuedBytes   int    // bytes in the channels' send buffers (bufferedAmount)
	DropSequenced uint64 // sequenced messages dropped as older than the newest
	DropQueueFull uint64 // unreliable messages dropped: receive queue full
}

// statsEvery bounds how often Stats asks pion for its statistics.
const statsEvery = 250 * time.Millisecond

// Stats returns the connection's statistics in netcode's form, as the
// engine shows them for any transport (netcode.Transport): RTT, MinRTT,
// Jitter, Loss, the byte and packet counters (see Stats, the type), and
// QueuedReliableBytes (what the data channels still buffer). Counters
// that only netcode's own reliability layer has (Resends, LostPackets,
// OldestUnacked, rates and drops) stay 0: SCTP does not expose them.
// ChannelStats has what only this transport measures.
func (c *Conn) Stats() netcode.Stats {
	s := c.ChannelStats()
	return netcode.Stats{
		RTT: s.RTT, MinRTT: s.MinRTT, Jitter: s.Jitter, Loss: s.Loss,
		BytesIn: s.BytesIn, BytesOut: s.BytesOut, PacketsIn: s.PacketsIn, PacketsOut: s.PacketsOut,
		QueuedReliableBytes: s.QueuedBytes,
	}
}

// ChannelStats returns the connection's statistics as this transport
// measures them. It does not wait for the network; it may take pion's
// statistics lock (at most every 250 ms).
func (c *Conn) ChannelStats() Stats {
	now := time.Now()
	queued := 0
	for _, dc := range c.dcs {
		queued += int(dc.BufferedAmount())
	}
	c.mu.Lock()
	refresh := now.Sub(c.statsAt) >= statsEvery
	c.mu.Unlock()
	var wire Stats
	haveWire := false
	if refresh {
		wire, haveWire = c.platformStats()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.stats
	out := Stats{
		RTT: s.rtt, MinRTT: s.minRTT, Jitter: s.jitter, Loss: s.loss,
		MessagesIn: s.msgsIn, MessagesOut: s.msgsOut,
		PayloadIn: s.payloadIn, PayloadOut: s.payloadOut,
		QueuedBytes:   queued,
		DropSequenced: s.dropSequenced,
		DropQueueFull: s.dropQueueFull,
	}
	if haveWire {
		c.statsCache, c.statsAt = wire, now
	}
	if !c.statsAt.IsZero() {
		w := c.statsCache
		out.BytesIn, out.BytesOut, out.PacketsIn, out.PacketsOut = w.BytesIn, w.BytesOut, w.PacketsIn, w.PacketsOut
	} else {
		out.BytesIn, out.BytesOut = s.payloadIn, s.payloadOut
		out.PacketsIn, out.PacketsOut = s.msgsIn, s.msgsOut
	}
	return out
}
