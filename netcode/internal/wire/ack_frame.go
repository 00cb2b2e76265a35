package wire

import (
	"encoding/binary"
	"fmt"
)

// MaxAckMaskBytes bounds the ACK frame's bitfield (256 packets behind the
// largest).
const MaxAckMaskBytes = 32

// AckFrame acknowledges packets: Largest, and each packet Largest-1-i whose
// bit i (bit i%8 of Mask[i/8], least significant first) is set in
// Mask[:MaskLen]. A MaskLen above MaxAckMaskBytes counts as MaxAckMaskBytes
// everywhere (Acks, Smallest, AckFrameLen, AppendAck).
type AckFrame struct {
	// Largest is the largest packet number acknowledged.
	Largest uint64
	// DelayMicros is how long the sender held the ACK after receiving
	// Largest, in microseconds.
	DelayMicros uint64
	// MaskLen is the number of meaningful bytes in Mask.
	MaskLen uint8
	// Mask holds one bit per packet below Largest.
	Mask [MaxAckMaskBytes]byte
}

func (f *AckFrame) maskLen() int { return min(int(f.MaskLen), MaxAckMaskBytes) }

// Acks reports whether the frame acknowledges packet pn.
func (f *AckFrame) Acks(pn uint64) bool {
	if pn == f.Largest {
		return true
	}
	if pn > f.Largest {
		return false
	}
	i := f.Largest - 1 - pn
	if i >= uint64(f.maskLen())*8 {
		return false
	}
	return f.Mask[i/8]&(1<<(i%8)) != 0
}

// Smallest returns the smallest packet number the frame describes: every
// packet from Smallest to Largest is either acknowledged (Acks reports true)
// or reported missing, and no packet below Smallest is acknowledged. It is
// max(0, Largest - 8*MaskLen); it is not necessarily acknowledged itself.
func (f *AckFrame) Smallest() uint64 {
	span := uint64(f.maskLen()) * 8
	if span > f.Largest {
		return 0
	}
	return f.Largest - span
}

// AckFrameLen returns the length AppendAck appends for f.
func AckFrameLen(f *AckFrame) int {
	return 1 + VarintLen(f.Largest) + VarintLen(f.DelayMicros) + 1 + f.maskLen()
}

// AppendAck appends an ACK frame. MaskLen above MaxAckMaskBytes is clamped.
func AppendAck(b []byte, f *AckFrame) []byte {
	n := f.maskLen()
	b = append(b, byte(FrameAck))
	b = binary.AppendUvarint(b, f.Largest)
	b = binary.AppendUvarint(b, f.DelayMicros)
	b = append(b, byte(n))
	return append(b, f.Mask[:n]...)
}

func parseAck(r *reader, f *AckFrame) error {
	var err error
	if f.Largest, err = r.varint("ack largest"); err != nil {
		return err
	}
	if f.DelayMicros, err = r.varint("ack delay"); err != nil {
		return err
	}
	n, err := r.byte("ack mask length")
	if err != nil {
		return err
	}
	if n > MaxAckMaskBytes {
		return fmt.Errorf("%w: ack mask length %d exceeds %d", ErrInvalid, n, MaxAckMaskBytes)
	}
	m, err := r.bytes(uint64(n), "ack mask")
	if err != nil {
		return err
	}
	f.MaskLen = n
	copy(f.Mask[:], m)
	clear(f.Mask[n:])
	return nil
}
