package wire

// MaxPacketNumber bounds packet numbers: a connection is closed before it
// would send packet number MaxPacketNumber (2^62, PROTOCOL.md §3).
const MaxPacketNumber = uint64(1) << 62

// ExpandPN recovers a full packet number from its truncated low 32 bits,
// choosing the value closest to largest+1 (RFC 9000 Appendix A.3 with
// pn_nbits = 32). largest is the largest packet number authenticated so far;
// before any, pass 0 with haveLargest false (the next expected number is
// then 0).
//
// If largest+1 < MaxPacketNumber, the result is below MaxPacketNumber, and
// every packet number pn < MaxPacketNumber with
// largest+1-2^31 < pn <= largest+1+2^31 is recovered exactly from uint32(pn).
func ExpandPN(largest uint64, haveLargest bool, truncated uint32) uint64 {
	var expected uint64
	if haveLargest {
		expected = largest + 1
	}
	const win = uint64(1) << 32
	const hwin = win / 2
	const mask = win - 1
	candidate := (expected &^ mask) | uint64(truncated)
	switch {
	// candidate <= expected - hwin, written so that nothing goes below 0.
	case candidate+hwin <= expected && candidate < MaxPacketNumber-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}
