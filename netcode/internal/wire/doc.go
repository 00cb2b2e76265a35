// Package wire holds pumpnet's wire formats: the protected-packet header and
// the frames inside a decrypted payload (netcode/PROTOCOL.md §3 and §5).
//
// Every frame type has an Append function, a Len function that returns the
// encoded length Append produces, and a parser reached through ParseFrame or
// ParseFrames. Parsers never allocate on success: parsed frames alias the
// input buffer. Every declared length is checked against the bytes left
// before anything is sliced, and hostile input returns an error, never a
// panic. Errors wrap ErrTruncated, ErrNotPumpnet, ErrReservedBits,
// ErrUnknownFrame or ErrInvalid; match them with errors.Is.
//
// Varints are the unsigned LEB128 of encoding/binary. As PROTOCOL.md says,
// a varint that binary.Uvarint accepts is accepted even when it is not
// minimally encoded (a 0 sent as 0x80 0x00 parses as 0); the Append
// functions always write the minimal form, so re-encoding a parsed frame can
// be shorter than its input but never longer.
//
// Nothing in this package keeps state or starts goroutines; every function
// is safe to call from any goroutine on buffers the caller owns.
//
// A sender builds a packet, a receiver walks it:
//
//	b := wire.AppendHeader(buf[:0], wire.Header{ConnID: peerID, PN: uint32(pn)})
//	payload := len(b)
//	b = wire.AppendAck(b, &ack)
//	b = wire.AppendMessage(b, channel, seq, msg)
//	// ... seal b[payload:] with b[:payload] as associated data ...
//
//	err := wire.ParseFrames(opened, &frame, func(f *wire.Frame) error {
//		switch f.Type {
//		case wire.FrameMessage:
//			deliver(f.Message.Channel, f.Message.Seq, f.Message.Data)
//		}
//		return nil
//	})
package wire
