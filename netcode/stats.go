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

	// OldestUnacked is the stall detector: how long ago the oldest
	// reliable message that the peer has not yet acknowledged was given to
	// Send (0 when every reliable message was acknowledged). On a healthy
	// connection it stays within a few round trips even under loss; a value
	// that keeps growing means the reliable stream makes no progress,
	// whatever else the connection still carries (acknowledgements,
	// keepalives, unreliable traffic). A game can show it, or close the
	// connection when it passes a bound of its own. After the connection
	// ended it keeps aging what was never acknowledged.
	OldestUnacked time.Duration
	// ProbeTimeout is how long the connection now waits for an
	// acknowledgement before it resends what it sent last (RFC 9002's PTO,
	// including its backoff after consecutive timeouts).
	ProbeTimeout time.Duration

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
	now := time.Now()
	c.rotateRates(now)
	s := &c.stats
	var oldest time.Duration
	if at, ok := c.sender.OldestUnacked(); ok {
		oldest = max(now.Sub(at), 0)
	}
	return Stats{
		OldestUnacked:       oldest,
		ProbeTimeout:        c.sent.ProbeTimeout(&c.rtt, maxAckDelay),
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
