package ackhandler_test

import (
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/ackhandler"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// Example sends five packets, each carrying one message, over a link that
// loses packet 1; the receiver's ACK acknowledges the others, and the sender
// learns that message "m1" must be resent.
func Example() {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return start.Add(time.Duration(n) * time.Millisecond) }

	sender := ackhandler.NewSentHistory[string](0)
	receiver := ackhandler.NewReceivedTracker(0)
	var rtt ackhandler.RTT

	for pn := range uint64(5) {
		msg := fmt.Sprintf("m%d", pn)
		if err := sender.Sent(pn, ms(int(pn)), 100, true, []string{msg}); err != nil {
			panic(err)
		}
		if pn != 1 { // lost on the way
			receiver.Received(pn, true, ms(int(pn)+10))
		}
	}
	fmt.Println("ack due at", receiver.AckDeadline().Sub(start))

	var ack wire.AckFrame
	receiver.FillAck(ms(15), &ack)
	receiver.OnAckSent()

	res, err := sender.OnAck(&ack, ms(25), &rtt, receiver.MaxAckDelay(),
		func(m string) { fmt.Println("acked", m) },
		func(m string) { fmt.Println("lost", m) })
	if err != nil {
		panic(err)
	}
	fmt.Printf("acked %d packets, lost %d, rtt %v, in flight %d\n",
		res.AckedPackets, res.LostPackets, rtt.Smoothed(), sender.BytesInFlight())
	// Output:
	// ack due at 12ms
	// acked m0
	// acked m2
	// acked m3
	// acked m4
	// lost m1
	// acked 4 packets, lost 1, rtt 21ms, in flight 0
}
