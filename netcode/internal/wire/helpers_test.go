package wire

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// appendFrame re-encodes a parsed frame with the Append function of its type.
func appendFrame(b []byte, f *Frame) []byte {
	switch f.Type {
	case FramePadding:
		return AppendPadding(b, 1)
	case FramePing:
		return AppendPing(b)
	case FrameKeysReady:
		return AppendKeysReady(b, f.Params)
	case FrameAck:
		return AppendAck(b, &f.Ack)
	case FrameMessage:
		return AppendMessage(b, f.Message.Channel, f.Message.Seq, f.Message.Data)
	case FrameFragment:
		g := &f.Fragment
		return AppendFragment(b, g.Channel, g.Seq, g.Index, g.Count, g.Data)
	case FrameClose:
		return AppendClose(b, f.Close.Code, string(f.Close.Reason))
	case FramePathChallenge:
		return AppendPathChallenge(b, f.Path)
	case FramePathResponse:
		return AppendPathResponse(b, f.Path)
	}
	panic(fmt.Sprintf("appendFrame: type %v", f.Type))
}

// frameLen returns the Len function's answer for a frame.
func frameLen(f *Frame) int {
	switch f.Type {
	case FramePadding, FramePing:
		return 1
	case FrameKeysReady:
		return KeysReadyFrameLen(len(f.Params))
	case FrameAck:
		return AckFrameLen(&f.Ack)
	case FrameMessage:
		return MessageFrameLen(f.Message.Seq, len(f.Message.Data))
	case FrameFragment:
		g := &f.Fragment
		return FragmentFrameLen(g.Seq, g.Index, g.Count, len(g.Data))
	case FrameClose:
		return CloseFrameLen(f.Close.Code, string(f.Close.Reason))
	case FramePathChallenge, FramePathResponse:
		return 1 + PathDataLen
	}
	panic(fmt.Sprintf("frameLen: type %v", f.Type))
}

// frameDiff describes how two frames differ in the fields their type uses,
// or returns "" when they are the same.
func frameDiff(got, want *Frame) string {
	if got.Type != want.Type {
		return fmt.Sprintf("type %v, want %v", got.Type, want.Type)
	}
	switch got.Type {
	case FrameAck:
		g, w := &got.Ack, &want.Ack
		if g.Largest != w.Largest || g.DelayMicros != w.DelayMicros || g.MaskLen != w.MaskLen ||
			!bytes.Equal(g.Mask[:g.MaskLen], w.Mask[:w.MaskLen]) {
			return fmt.Sprintf("ack %+v, want %+v", *g, *w)
		}
	case FrameMessage:
		g, w := &got.Message, &want.Message
		if g.Channel != w.Channel || g.Seq != w.Seq || !bytes.Equal(g.Data, w.Data) {
			return fmt.Sprintf("message {%d %d len %d}, want {%d %d len %d}",
				g.Channel, g.Seq, len(g.Data), w.Channel, w.Seq, len(w.Data))
		}
	case FrameFragment:
		g, w := &got.Fragment, &want.Fragment
		if g.Channel != w.Channel || g.Seq != w.Seq || g.Index != w.Index || g.Count != w.Count ||
			!bytes.Equal(g.Data, w.Data) {
			return fmt.Sprintf("fragment {%d %d %d/%d len %d}, want {%d %d %d/%d len %d}",
				g.Channel, g.Seq, g.Index, g.Count, len(g.Data),
				w.Channel, w.Seq, w.Index, w.Count, len(w.Data))
		}
	case FrameClose:
		g, w := &got.Close, &want.Close
		if g.Code != w.Code || !bytes.Equal(g.Reason, w.Reason) {
			return fmt.Sprintf("close {%d %q}, want {%d %q}", g.Code, g.Reason, w.Code, w.Reason)
		}
	case FrameKeysReady:
		if !bytes.Equal(got.Params, want.Params) {
			return fmt.Sprintf("params %x, want %x", got.Params, want.Params)
		}
	case FramePathChallenge, FramePathResponse:
		if got.Path != want.Path {
			return fmt.Sprintf("path %x, want %x", got.Path, want.Path)
		}
	}
	return ""
}

func fullMask() (m [MaxAckMaskBytes]byte) {
	for i := range m {
		m[i] = 0xff
	}
	return m
}

func seqBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// sampleFrame is one frame with its edge values, encoded by appendFrame.
type sampleFrame struct {
	name  string
	frame Frame
}

// sampleFrames covers every frame type with edge values: 0, the largest
// varints, the largest mask, empty and largest data and reasons, channel
// 255, fragment count 2 and 65536, index count-1.
func sampleFrames() []sampleFrame {
	long := strings.Repeat("é", MaxCloseReason/2) // 256 bytes of 2-byte runes
	var s []sampleFrame
	add := func(name string, f Frame) { s = append(s, sampleFrame{name, f}) }
	add("padding", Frame{Type: FramePadding})
	add("ping", Frame{Type: FramePing})
	add("keys ready, no params", Frame{Type: FrameKeysReady})
	add("keys ready, max params", Frame{Type: FrameKeysReady, Params: seqBytes(MaxKeysReadyParams)})
	add("ack zero", Frame{Type: FrameAck})
	add("ack max varints, max mask", Frame{Type: FrameAck, Ack: AckFrame{
		Largest: math.MaxUint64, DelayMicros: math.MaxUint64, MaskLen: MaxAckMaskBytes, Mask: fullMask()}})
	add("ack one mask byte", Frame{Type: FrameAck, Ack: AckFrame{
		Largest: 300, DelayMicros: 1, MaskLen: 1, Mask: [MaxAckMaskBytes]byte{0x05}}})
	add("ack packet number limit", Frame{Type: FrameAck, Ack: AckFrame{
		Largest: MaxPacketNumber - 1, DelayMicros: 25000, MaskLen: 3, Mask: [MaxAckMaskBytes]byte{0x80, 0, 0x01}}})
	add("message empty", Frame{Type: FrameMessage, Message: MessageFrame{Data: []byte{}}})
	add("message channel 255 max seq", Frame{Type: FrameMessage, Message: MessageFrame{
		Channel: 255, Seq: math.MaxUint64, Data: seqBytes(64)}})
	add("message 1200 bytes", Frame{Type: FrameMessage, Message: MessageFrame{
		Channel: 7, Seq: 127, Data: seqBytes(1200)}})
	add("message 64 KiB", Frame{Type: FrameMessage, Message: MessageFrame{
		Channel: 1, Seq: 128, Data: seqBytes(65536)}})
	add("fragment count 2 index 0 empty", Frame{Type: FrameFragment, Fragment: FragmentFrame{
		Count: 2, Data: []byte{}}})
	add("fragment count 2 index 1", Frame{Type: FrameFragment, Fragment: FragmentFrame{
		Channel: 255, Seq: math.MaxUint64, Index: 1, Count: 2, Data: seqBytes(10)}})
	add("fragment count 65536 index 65535", Frame{Type: FrameFragment, Fragment: FragmentFrame{
		Channel: 3, Seq: 1 << 40, Index: MaxFragmentCount - 1, Count: MaxFragmentCount, Data: seqBytes(1100)}})
	add("fragment count 65536 index 0", Frame{Type: FrameFragment, Fragment: FragmentFrame{
		Count: MaxFragmentCount, Data: seqBytes(1)}})
	add("close empty", Frame{Type: FrameClose, Close: CloseFrame{Reason: []byte{}}})
	add("close max code max reason", Frame{Type: FrameClose, Close: CloseFrame{
		Code: math.MaxUint64, Reason: []byte(long)}})
	add("close ascii", Frame{Type: FrameClose, Close: CloseFrame{Code: 1, Reason: []byte("too many authentication failures")}})
	add("path challenge zero", Frame{Type: FramePathChallenge})
	add("path challenge", Frame{Type: FramePathChallenge, Path: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}})
	add("path response ff", Frame{Type: FramePathResponse, Path: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})
	return s
}
