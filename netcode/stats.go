package netcode

import "time"

// Stats describes one connection. Rates are over the last full second.
type Stats struct {
	RTT    time.Duration // smoothed round-trip time
	MinRTT time.Duration
	Jitter time.Duration // smoothed variation between consecutive RTT samples
	// Loss is the recent fraction of ack-eliciting packets declared lost,
	// 0..1 (exponentially weighted over about the last 64 packets).
	Loss float64

	BytesIn, BytesOut     uint64 // totals, on the wire
	PacketsIn, PacketsOut uint64
	BytesInPerSec         uint64
	BytesOutPerSec        uint64
	PacketsInPerSec       uint64
	PacketsOutPerSec      uint64

	Resends             uint64  // reliable units resent after a loss
	LostPackets         uint64  // packets declared lost
	QueuedReliableBytes int     // queued plus unacknowledged reliable bytes
	SendRate            float64 // the pacing budget, bytes per second

	AuthFailures   uint64 // packets that failed authentication
	DropReplay     uint64 // replayed or too old packets
	DropMalformed  uint64 // unparseable packets
	RefusedPackets uint64 // packets not acknowledged because the receive buffer was full

	// PathChallenges counts PATH_CHALLENGEs sent to addresses the peer's
	// packets came from; PathChanges counts moves to a validated new peer
	// address (a NAT rebinding, a change of network: see RemoteAddr).
	PathChallenges, PathChanges uint64
}

// Stats returns the connection's statistics. It never blocks for long.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotateRates(time.Now())
	s := &c.stats
	return Stats{
		RTT:                 c.rtt.Smoothed(),
		MinRTT:              c.rtt.Min(),
		Jitter:              c.rtt.Jitter(),
		Loss:                c.lossEWMA,
		BytesIn:             s.bytesIn,
		BytesOut:            s.bytesOut,
		PacketsIn:           s.packetsIn,
		PacketsOut:          s.packetsOut,
		BytesInPerSec:       c.rateLast.bytesIn,
		BytesOutPerSec:      c.rateLast.bytesOut,
		PacketsInPerSec:     c.rateLast.packetsIn,
		PacketsOutPerSec:    c.rateLast.packetsOut,
		Resends:             s.resends,
		PathChallenges:      s.pathChallenges,
		PathChanges:         s.pathChanges,
		LostPackets:         s.lostPackets,
		QueuedReliableBytes: c.sender.QueuedReliableBytes(),
		SendRate:            float64(c.cc.Rate()),
		AuthFailures:        s.dropAuth,
		DropReplay:          s.dropReplay,
		DropMalformed:       s.dropMalformed,
		RefusedPackets:      s.dropRefused,
	}
}
