// Package ackhandler is pumpnet's packet-level reliability machinery: which
// packets arrived and when to acknowledge them ([ReceivedTracker]), which
// sent packets were acknowledged or lost ([SentHistory]), the round-trip
// estimate ([RTT]) and the send-rate budget ([Congestion]). It follows
// RFC 9002 and quic-go's internal/ackhandler, simplified for games: one
// packet-number space, ACK frames of at most 257 packets
// (netcode/PROTOCOL.md §5), and a probe timeout that declares the
// outstanding packets lost so that the caller resends their contents in new
// packets.
//
// The package deals in packets and opaque refs (type parameter R of
// SentHistory): a ref names something a packet carried — a message of a
// reliable channel, a fragment, a KEYS_READY — and the caller decides what
// an acknowledged or lost ref means. Messages, channels and queues belong to
// the delivery layer.
//
// Time is an input: every method that needs the time takes now, and nothing
// here reads the clock or starts a goroutine. Nothing here is safe for
// concurrent use: one connection loop owns all four types. Callbacks
// (acked, lost) run synchronously and must not call back into the
// SentHistory that invoked them; collect the refs and act after the call
// returns.
//
// A connection loop uses the types like this:
//
//	recv := ackhandler.NewReceivedTracker(0) // our ack delay: 5 ms
//	sent := ackhandler.NewSentHistory[Ref](0) // 4096 packets
//	var rtt ackhandler.RTT
//	cc, _ := ackhandler.NewCongestion(ackhandler.CongestionConfig{})
//
//	// On each authenticated packet pn from the peer:
//	recv.Received(pn, packetHadAckElicitingFrame, now)
//	// ... and for each ACK frame in it:
//	res, err := sent.OnAck(&ack, now, &rtt, peerMaxAckDelay, onAcked, onLost)
//	if err != nil { /* close: ProtocolViolation */ }
//	if res.AckedBytes > 0 { cc.OnAcked(now, res.AckedBytes, &rtt) }
//	if res.Loss() { cc.OnLoss(now, &rtt) }
//
//	// When building a packet: piggyback an ACK whenever there is history,
//	var f wire.AckFrame
//	if recv.FillAck(now, &f) { b = wire.AppendAck(b, &f) /* then recv.OnAckSent() once sent */ }
//	// add ack-eliciting frames only if !sent.Full() && cc.CanSend(now, sent.BytesInFlight(), size),
//	// then record it: sent.Sent(pn, now, size, ackEliciting, refs); cc.OnSent(now, size)
//
//	// Timers: sleep until the earliest of recv.AckDeadline() (send an
//	// ack-only packet if nothing else is going out), sent.NextDeadline(&rtt,
//	// peerMaxAckDelay) (call sent.OnTimeout) and cc.NextSendTime(now).
//
// Keeping ACK frames short: the connection may add to each packet that carries
// an ACK frame a ref naming that frame's Largest; when that ref is acked, it
// calls recv.IgnoreBelow(largest+1), since the peer now knows about those
// packets (RFC 9000 §13.2.4). In a simulation with 20% loss this takes the
// mean mask from 24 bytes to 1.
//
// Ack-only and CLOSE packets are not ack-eliciting, carry no refs and need
// no record in the SentHistory (Sent only advances the largest packet number
// sent for them), and they bypass Congestion.CanSend: the caller decides.
package ackhandler
