package delivery_test

import (
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/delivery"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// A sender and a receiver over a perfect link: one packet, acknowledged.
func Example() {
	cfg := delivery.Config{Modes: []delivery.Mode{delivery.ReliableOrdered, delivery.Unreliable}}
	s, err := delivery.NewSender(cfg)
	if err != nil {
		panic(err)
	}
	r, err := delivery.NewReceiver(cfg)
	if err != nil {
		panic(err)
	}
	now := time.Unix(0, 0)
	_ = s.Queue(0, []byte("hello"), now)
	_ = s.Queue(1, []byte("position 3,4"), now)

	pkt, refs := s.AppendFrames(nil, delivery.DefaultMaxFramePayload, now, nil)
	var f wire.Frame
	err = wire.ParseFrames(pkt, &f, func(f *wire.Frame) error {
		switch f.Type {
		case wire.FrameMessage:
			return r.OnMessage(&f.Message, now)
		case wire.FrameFragment:
			return r.OnFragment(&f.Fragment, now)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, ref := range refs { // the peer acknowledged the packet
		s.OnAcked(ref)
	}
	for ch, data, ok := r.Next(); ok; ch, data, ok = r.Next() {
		fmt.Printf("channel %d: %s\n", ch, data)
	}
	fmt.Println("reliable units:", len(refs), "sender idle:", s.Idle())
	// Output:
	// channel 0: hello
	// channel 1: position 3,4
	// reliable units: 1 sender idle: true
}
