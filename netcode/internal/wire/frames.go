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

// PathDataLen is the size of PATH_CHALLENGE/PATH_RESPONSE data.
const PathDataLen = 8

// AckEliciting reports whether a frame of type t obliges the receiver to
// acknowledge the packet that carries it (PROTOCOL.md §5). It is false for
// types that are not in the protocol.
func (t FrameType) AckEliciting() bool {
	switch t {
	case FramePing, FrameMessage, FrameFragment, FrameKeysReady,
		FramePathChallenge, FramePathResponse:
		return true
	}
	return false
}

// String returns the protocol's name for t, such as "MESSAGE", or
// "UNKNOWN(0x2a)".
func (t FrameType) String() string {
	switch t {
	case FramePadding:
		return "PADDING"
	case FramePing:
		return "PING"
	case FrameAck:
		return "ACK"
	case FrameMessage:
		return "MESSAGE"
	case FrameFragment:
		return "FRAGMENT"
	case FrameClose:
		return "CLOSE"
	case FrameKeysReady:
		return "KEYS_READY"
	case FramePathChallenge:
		return "PATH_CHALLENGE"
	case FramePathResponse:
		return "PATH_RESPONSE"
	}
	return fmt.Sprintf("UNKNOWN(%#02x)", byte(t))
}

// Frame is one parsed frame; which field is meaningful depends on Type
// (Ack, Message, Fragment, Close, or Path for PATH_CHALLENGE and
// PATH_RESPONSE). The other fields keep whatever they held before.
type Frame struct {
	Type     FrameType
	Ack      AckFrame
	Message  MessageFrame
	Fragment FragmentFrame
	Close    CloseFrame
	Path     [PathDataLen]byte
	// Params is a KEYS_READY frame's body (the sender's channel
	// parameters, PROTOCOL.md §6); it aliases the parsed buffer.
	Params []byte
}

// AppendPadding appends n PADDING frames (n bytes); n <= 0 appends nothing.
func AppendPadding(b []byte, n int) []byte {
	for range n {
		b = append(b, byte(FramePadding))
	}
	return b
}

// AppendPing appends a PING frame (1 byte).
func AppendPing(b []byte) []byte { return append(b, byte(FramePing)) }

// MaxKeysReadyParams bounds a KEYS_READY frame's params.
const MaxKeysReadyParams = 512

// AppendKeysReady appends a KEYS_READY frame carrying params (at most
// MaxKeysReadyParams bytes; longer params are cut, and the peer will then
// report a parameter mismatch).
func AppendKeysReady(b []byte, params []byte) []byte {
	params = params[:min(len(params), MaxKeysReadyParams)]
	b = append(b, byte(FrameKeysReady))
	b = binary.AppendUvarint(b, uint64(len(params)))
	return append(b, params...)
}

// KeysReadyFrameLen returns the encoded length of a KEYS_READY frame with
// n bytes of params.
func KeysReadyFrameLen(n int) int {
	n = min(n, MaxKeysReadyParams)
	return 1 + VarintLen(uint64(n)) + n
}

// AppendPathChallenge appends a PATH_CHALLENGE frame (1+PathDataLen bytes).
func AppendPathChallenge(b []byte, data [PathDataLen]byte) []byte {
	return append(append(b, byte(FramePathChallenge)), data[:]...)
}

// AppendPathResponse appends a PATH_RESPONSE frame (1+PathDataLen bytes).
func AppendPathResponse(b []byte, data [PathDataLen]byte) []byte {
	return append(append(b, byte(FramePathResponse)), data[:]...)
}

// ParseFrame parses the frame at the start of b into f and returns the number
// of bytes it used. It never allocates on success; slices in f alias b. On
// error it returns 0 and f may hold part of the frame.
func ParseFrame(b []byte, f *Frame) (int, error) {
	r := reader{b: b}
	if err := parseFrame(&r, f); err != nil {
		return 0, err
	}
	return r.off, nil
}

// ParseFrames parses payload frame by frame into f and calls yield after each
// frame, PADDING included, in order. It stops at, and returns, the first
// parse error or the first error yield returns (unwrapped, so the caller can
// use its own sentinels). An empty payload is an error wrapping ErrTruncated:
// a protected packet carries at least one frame.
//
// The same f is reused for every frame, so yield must copy whatever it keeps
// beyond its own return; slices in f alias payload. ParseFrames allocates
// nothing unless it returns a parse error. Because yield receives f, f
// escapes: keep one Frame per connection rather than one per call.
func ParseFrames(payload []byte, f *Frame, yield func(*Frame) error) error {
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty payload", ErrTruncated)
	}
	r := reader{b: payload}
	for r.off < len(payload) {
		if err := parseFrame(&r, f); err != nil {
			return err
		}
		if err := yield(f); err != nil {
			return err
		}
	}
	return nil
}

// parseFrame parses the frame at r.off, leaving r.off after it. Error offsets
// are offsets in r.b.
func parseFrame(r *reader, f *Frame) error {
	start := r.off
	t, err := r.byte("frame type")
	if err != nil {
		return err
	}
	f.Type = FrameType(t)
	switch f.Type {
	case FramePadding, FramePing:
		return nil
	case FrameKeysReady:
		n, err := r.varint("keys ready params length")
		if err != nil {
			return err
		}
		if n > MaxKeysReadyParams {
			return fmt.Errorf("%w: keys ready params length %d exceeds %d", ErrInvalid, n, MaxKeysReadyParams)
		}
		f.Params, err = r.bytes(n, "keys ready params")
		return err
	case FrameAck:
		return parseAck(r, &f.Ack)
	case FrameMessage:
		return parseMessage(r, &f.Message)
	case FrameFragment:
		return parseFragment(r, &f.Fragment)
	case FrameClose:
		return parseClose(r, &f.Close)
	case FramePathChallenge, FramePathResponse:
		d, err := r.bytes(PathDataLen, "path data")
		if err != nil {
			return err
		}
		copy(f.Path[:], d)
		return nil
	}
	return fmt.Errorf("%w: %#02x at offset %d", ErrUnknownFrame, t, start)
}
