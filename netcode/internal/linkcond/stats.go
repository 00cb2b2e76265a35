package linkcond

// DirectionStats counts what one direction of a Conn did with its datagrams.
// For every direction, until Close:
//
//	Packets = Passed + Dropped()
//	Passed + Duplicated = Delivered + Pending (+ WriteErrors on Send)
type DirectionStats struct {
	// Packets counts datagrams offered: written (Send) or read from the
	// underlying conn (Receive).
	Packets uint64
	// Passed counts offered datagrams that were not dropped. A duplicated
	// datagram counts once here and once in Duplicated.
	Passed uint64
	// DroppedLoss counts datagrams dropped by independent Loss.
	DroppedLoss uint64
	// DroppedBurst counts datagrams dropped in the Gilbert-Elliott bad state.
	DroppedBurst uint64
	// DroppedQueue counts datagrams dropped because the bandwidth queue
	// (QueueBytes) or the conditioner's own hold limit was full.
	DroppedQueue uint64
	// Duplicated counts extra copies scheduled by Duplicate.
	Duplicated uint64
	// Reordered counts datagrams held back by ReorderDelay.
	Reordered uint64
	// Delivered counts copies handed on: written to the underlying conn
	// (Send) or returned by ReadFromUDPAddrPort (Receive).
	Delivered uint64
	// WriteErrors counts delayed copies the underlying conn refused to write
	// (Send only; an immediate write's error is returned to the caller and
	// counted here too).
	WriteErrors uint64
	// Pending is the number of copies held right now: waiting for their due
	// time, and on Receive also waiting to be read.
	Pending int
}

// Dropped returns the datagrams dropped for any reason. It only reads s.
func (s DirectionStats) Dropped() uint64 {
	return s.DroppedLoss + s.DroppedBurst + s.DroppedQueue
}

// Stats holds a Conn's counters per direction.
type Stats struct {
	Send, Receive DirectionStats
}
