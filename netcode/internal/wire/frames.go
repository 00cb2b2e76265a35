package wire

import (
	"encoding/binary"
	"fmt"
)

// FrameType is the first byte of a frame.
type FrameType byte

// Frame types (PROTOCOL.md §5).
const (
	FramePadding       FrameType = 0x00
	FramePing          FrameType = 0x01
	FrameAck           FrameType = 0x02
	FrameMessage       FrameType = 0x03
	FrameFragment      FrameType = 0x04
	FrameClose         FrameType = 0x05
	FrameKeysReady     FrameType = 0x06
	FramePathChallenge FrameType = 0x07
	FramePathResponse  FrameType = 0x08
)

// Limits enforced by the parser.
const (
	// MaxAckMaskBytes bounds the ACK frame's bitfield (256 packets behind
	// the largest).
	MaxAckMaskBytes = 32
	// MaxCloseReason bounds a CLOSE frame's reason text in bytes.
	MaxCloseReason = 256
	// MaxFragmentCount bounds a FRAGMENT frame's count at the parser; the
	// channel layer bounds it further by the maximum message size.
	MaxFragmentCount = 65536
	// PathDataLen is the size of PATH_CHALLENGE/PATH_RESPONSE data.
	PathDataLen = 8
)

// AckEliciting reports whether a frame of type t obliges the receiver to
// acknowledge the packet that carries it.
func (t FrameType) AckEliciting() bool {
	switch t {
	case FramePadding, FrameAck, FrameClose:
		return false
	}
	return true
}

// AckFrame acknowledges packets: Largest, and each packet Largest-1-i whose
// bit i is set in Mask[:MaskLen].
type AckFrame struct {
	Largest     uint64
	DelayMicros uint64
	MaskLen     uint8
	Mask        [MaxAckMaskBytes]byte
}

// Acks reports whether the frame acknowledges packet pn.
func (f *AckFrame) Acks(pn uint64) bool {
	if pn == f.Largest {
		return true
	}
	if pn > f.Largest {
		return false
	}
	i := f.Largest - 1 - pn
	if i >= uint64(f.MaskLen)*8 {
		return false
	}
	return f.Mask[i/8]&(1<<(i%8)) != 0
}

// Smallest returns the smallest packet number the frame could acknowledge.
func (f *AckFrame) Smallest() uint64 {
	span := uint64(f.MaskLen) * 8
	if span > f.Largest {
		return 0
	}
	return f.Largest - span
}

// MessageFrame carries a whole message. Data aliases the parsed buffer.
type MessageFrame struct {
	Channel uint8
	Seq     uint64
	Data    []byte
}

// FragmentFrame carries one fragment of a message. Data aliases the parsed
// buffer.
type FragmentFrame struct {
	Channel uint8
	Seq     uint64
	Index   uint32
	Count   uint32
	Data    []byte
}

// CloseFrame ends a connection with a code and a reason. Reason aliases the
// parsed buffer.
type CloseFrame struct {
	Code   uint64
	Reason []byte
}

// Frame is one parsed frame; which field is meaningful depends on Type.
type Frame struct {
	Type     FrameType
	Ack      AckFrame
	Message  MessageFrame
	Fragment FragmentFrame
	Close    CloseFrame
	Path     [PathDataLen]byte
}

// VarintLen returns the encoded length of v.
func VarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// AppendPadding appends n PADDING frames.
func AppendPadding(b []byte, n int) []byte {
	for range n {
		b = append(b, byte(FramePadding))
	}
	return b
}

// AppendPing appends a PING frame.
func AppendPing(b []byte) []byte { return append(b, byte(FramePing)) }

// AppendKeysReady appends a KEYS_READY frame.
func AppendKeysReady(b []byte) []byte { return append(b, byte(FrameKeysReady)) }

// AckFrameLen returns the encoded length of f.
func AckFrameLen(f *AckFrame) int {
	return 1 + VarintLen(f.Largest) + VarintLen(f.DelayMicros) + 1 + int(f.MaskLen)
}

// AppendAck appends an ACK frame. MaskLen above MaxAckMaskBytes is clamped.
func AppendAck(b []byte, f *AckFrame) []byte {
	n := min(int(f.MaskLen), MaxAckMaskBytes)
	b = append(b, byte(FrameAck))
	b = binary.AppendUvarint(b, f.Largest)
	b = binary.AppendUvarint(b, f.DelayMicros)
	b = append(b, byte(n))
	return append(b, f.Mask[:n]...)
}

// MessageFrameLen returns the encoded length of a MESSAGE frame.
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

// FragmentFrameLen returns the encoded length of a FRAGMENT frame.
func FragmentFrameLen(seq uint64, index, count uint32, dataLen int) int {
	return 1 + 1 + VarintLen(seq) + VarintLen(uint64(index)) + VarintLen(uint64(count)) +
		VarintLen(uint64(dataLen)) + dataLen
}

// AppendFragment appends a FRAGMENT frame.
func AppendFragment(b []byte, channel uint8, seq uint64, index, count uint32, data []byte) []byte {
	b = append(b, byte(FrameFragment), channel)
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendUvarint(b, uint64(index))
	b = binary.AppendUvarint(b, uint64(count))
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// AppendClose appends a CLOSE frame; a reason longer than MaxCloseReason is
// cut at a UTF-8 boundary.
func AppendClose(b []byte, code uint64, reason string) []byte {
	if len(reason) > MaxCloseReason {
		cut := MaxCloseReason
		for cut > 0 && reason[cut]&0xC0 == 0x80 {
			cut--
		}
		reason = reason[:cut]
	}
	b = append(b, byte(FrameClose))
	b = binary.AppendUvarint(b, code)
	b = binary.AppendUvarint(b, uint64(len(reason)))
	return append(b, reason...)
}

// AppendPathChallenge appends a PATH_CHALLENGE frame.
func AppendPathChallenge(b []byte, data [PathDataLen]byte) []byte {
	return append(append(b, byte(FramePathChallenge)), data[:]...)
}

// AppendPathResponse appends a PATH_RESPONSE frame.
func AppendPathResponse(b []byte, data [PathDataLen]byte) []byte {
	return append(append(b, byte(FramePathResponse)), data[:]...)
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) varint(what string) (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n == 0 {
		return 0, fmt.Errorf("%w: %s at offset %d", ErrTruncated, what, r.off)
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: %s varint overflows at offset %d", ErrInvalid, what, r.off)
	}
	r.off += n
	return v, nil
}

func (r *reader) byte(what string) (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: %s at offset %d", ErrTruncated, what, r.off)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// bytes returns n bytes, checking n against the bytes left first.
func (r *reader) bytes(n uint64, what string) ([]byte, error) {
	left := uint64(len(r.b) - r.off)
	if n > left {
		return nil, fmt.Errorf("%w: %s length %d exceeds %d remaining bytes", ErrTruncated, what, n, left)
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

// ParseFrame parses the frame at the start of b into f and returns the number
// of bytes it used. It never allocates; slices in f alias b.
func ParseFrame(b []byte, f *Frame) (int, error) {
	r := reader{b: b}
	t, err := r.byte("frame type")
	if err != nil {
		return 0, err
	}
	f.Type = FrameType(t)
	switch f.Type {
	case FramePadding, FramePing, FrameKeysReady:
		return r.off, nil
	case FrameAck:
		err = parseAck(&r, &f.Ack)
	case FrameMessage:
		err = parseMessage(&r, &f.Message)
	case FrameFragment:
		err = parseFragment(&r, &f.Fragment)
	case FrameClose:
		err = parseClose(&r, &f.Close)
	case FramePathChallenge, FramePathResponse:
		var d []byte
		d, err = r.bytes(PathDataLen, "path data")
		if err == nil {
			copy(f.Path[:], d)
		}
	default:
		return 0, fmt.Errorf("%w: %#02x", ErrUnknownFrame, t)
	}
	if err != nil {
		return 0, err
	}
	return r.off, nil
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

func parseClose(r *reader, f *CloseFrame) error {
	var err error
	if f.Code, err = r.varint("close code"); err != nil {
		return err
	}
	n, err := r.varint("close reason length")
	if err != nil {
		return err
	}
	if n > MaxCloseReason {
		return fmt.Errorf("%w: close reason length %d exceeds %d", ErrInvalid, n, MaxCloseReason)
	}
	f.Reason, err = r.bytes(n, "close reason")
	return err
}
