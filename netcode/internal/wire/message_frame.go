package wire

import "encoding/binary"

// MessageFrame carries a whole message. Data aliases the parsed buffer.
type MessageFrame struct {
	// Channel is the channel the message belongs to.
	Channel uint8
	// Seq is the per-channel message sequence number.
	Seq uint64
	// Data is the message.
	Data []byte
}

// MessageFrameLen returns the length AppendMessage appends for a message
// with sequence number seq and dataLen bytes.
func MessageFrameLen(seq uint64, dataLen int) int {
	return 1 + 1 + VarintLen(seq) + VarintLen(uint64(dataLen)) + dataLen
}

// AppendMessage appends a MESSAGE frame.
func AppendMessage(b []byte, channel uint8, seq uint64, data []byte) []byte {
	b = append(b, byte(FrameMessage), channel)
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func parseMessage(r *reader, f *MessageFrame) error {
	var err error
	if f.Channel, err = r.byte("message channel"); err != nil {
		return err
	}
	if f.Seq, err = r.varint("message seq"); err != nil {
		return err
	}
	n, err := r.varint("message length")
	if err != nil {
		return err
	}
	f.Data, err = r.bytes(n, "message")
	return err
}
