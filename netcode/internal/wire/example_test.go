package wire_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

func ExampleParseFrames() {
	// A sender packs frames into one payload...
	buf := make([]byte, 0, 1200)
	b := wire.AppendAck(buf, &wire.AckFrame{Largest: 41, MaskLen: 1, Mask: [wire.MaxAckMaskBytes]byte{0b101}})
	b = wire.AppendMessage(b, 2, 7, []byte("hello"))
	b = wire.AppendClose(b, 0, "bye")

	// ...and the receiver walks them with one reused Frame.
	var f wire.Frame
	err := wire.ParseFrames(b, &f, func(f *wire.Frame) error {
		switch f.Type {
		case wire.FrameAck:
			fmt.Println(f.Type, f.Ack.Largest, f.Ack.Acks(40), f.Ack.Acks(39), f.Ack.Acks(38))
		case wire.FrameMessage:
			fmt.Printf("%v channel %d seq %d %q\n", f.Type, f.Message.Channel, f.Message.Seq, f.Message.Data)
		default:
			fmt.Println(f.Type, f.Type.AckEliciting())
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// ACK 41 true false true
	// MESSAGE channel 2 seq 7 "hello"
	// CLOSE false
	// <nil>
}
