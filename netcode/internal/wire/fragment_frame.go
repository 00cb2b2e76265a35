package wire

import (
	"encoding/binary"
	"fmt"
)

// MaxFragmentCount bounds a FRAGMENT frame's count at the parser; the channel
// layer bounds it further by the maximum message size.
const MaxFragmentCount = 65536

// FragmentFrame carries one fragment of a message. Data aliases the parsed
// buffer. A parsed frame has 2 <= Count <= MaxFragmentCount and
// Index < Count.
type FragmentFrame struct {
	// Channel is the channel the message belongs to.
	Channel uint8
	// Seq is the per-channel message sequence number.
	Seq uint64
	// Index is this fragment's position, from 0.
	Index uint32
	// Count is the number of fragments of the message.
	Count uint32
	// Data is this fragment's share of the message.
	Data []byte
}

// FragmentFrameLen returns the length AppendFragment appends for the given
// values.
func FragmentFrameLen(seq uint64, index, count uint32, dataLen int) int {
	return 1 + 1 + VarintLen(seq) + VarintLen(uint64(index)) + VarintLen(uint64(count)) +
		VarintLen(uint64(dataLen)) + dataLen
}

// AppendFragment appends a FRAGMENT frame. It writes what it is given; the
// peer's parser rejects the frame unless 2 <= count <= MaxFragmentCount and
// index < count, so callers must keep to those bounds.
func AppendFragment(b []byte, channel uint8, seq uint64, index, count uint32, data []byte) []byte {
	b = append(b, byte(FrameFragment), channel)
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendUvarint(b, uint64(index))
	b = binary.AppendUvarint(b, uint64(count))
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func parseFragment(r *reader, f *FragmentFrame) error {
	var err error
	if f.Channel, err = r.byte("fragment channel"); err != nil {
		return err
	}
	if f.Seq, err = r.varint("fragment seq"); err != nil {
		return err
	}
	idx, err := r.varint("fragment index")
	if err != nil {
		return err
	}
	cnt, err := r.varint("fragment count")
	if err != nil {
		return err
	}
	if cnt < 2 || cnt > MaxFragmentCount {
		return fmt.Errorf("%w: fragment count %d outside 2..%d", ErrInvalid, cnt, MaxFragmentCount)
	}
	if idx >= cnt {
		return fmt.Errorf("%w: fragment index %d not below count %d", ErrInvalid, idx, cnt)
	}
	f.Index, f.Count = uint32(idx), uint32(cnt)
	n, err := r.varint("fragment length")
	if err != nil {
		return err
	}
	f.Data, err = r.bytes(n, "fragment")
	return err
}
