// Package delivery is pumpnet's channel layer: per-channel send queues,
// fragmentation, and the receive side's deduplication, ordering and
// reassembly for the four delivery modes (netcode/PROTOCOL.md §5).
//
// A Sender queues messages (Queue), writes them into packets as MESSAGE and
// FRAGMENT frames (AppendFrames) and keeps each reliable unit — a whole
// message or one fragment, named by a Ref — until the connection reports
// it acknowledged (OnAcked) or lost (OnLost, which queues it for resending).
// Packet acknowledgement, loss detection and resend timing belong to
// package ackhandler; this package only learns their verdicts. A Receiver
// takes the frames of authenticated packets (OnMessage, OnFragment) and
// hands complete messages to the game (Next).
//
// Every message of every mode carries a per-channel sequence number.
// ReliableOrdered delivers exactly once, in order; ReliableUnordered
// exactly once, as messages complete; Unreliable at most once; and
// UnreliableSequenced at most once, dropping anything at or below the last
// sequence number delivered. Reliable channels keep at most Window messages
// in flight, and a receiver treats a sequence number that a correct sender
// could not have sent as a protocol violation (see Receiver.checkWindow for
// the argument). A large unreliable message stays unreliable: its fragments
// are sent once, and if one is lost the whole message is dropped (freed by
// Receiver.Expire) — it is never promoted to reliable.
//
// Memory is bounded on both sides: the Sender by SendQueueBytes (queued
// plus unacknowledged), the Receiver by RecvBufferBytes (undelivered plus
// reassembly, charged before anything is stored). A full receive buffer
// refuses frames with ErrBufferFull, which the connection turns into "do
// not acknowledge this packet": reliable data is resent later, so a game
// that stops calling Next slows its peer down instead of growing memory.
//
// Time is an input (now); nothing here reads the clock or starts a
// goroutine. Neither Sender nor Receiver is safe for concurrent use: the
// connection serialises all calls. Steady-state Queue, AppendFrames,
// OnAcked, OnMessage and Next allocate nothing.
//
// A complete loop over a perfect link:
//
//	package main
//
//	import (
//		"fmt"
//		"time"
//
//		"github.com/pumpnet/pumpnet/netcode/internal/delivery"
//		"github.com/pumpnet/pumpnet/netcode/internal/wire"
//	)
//
//	func main() {
//		cfg := delivery.Config{Modes: []delivery.Mode{delivery.ReliableOrdered, delivery.Unreliable}}
//		s, _ := delivery.NewSender(cfg)
//		r, _ := delivery.NewReceiver(cfg)
//		now := time.Now()
//		_ = s.Queue(0, []byte("hello"), now)
//		_ = s.Queue(1, []byte("position 3,4"), now)
//
//		var refs []delivery.Ref
//		pkt, refs := s.AppendFrames(nil, delivery.DefaultMaxFramePayload, now, refs[:0])
//		var f wire.Frame
//		_ = wire.ParseFrames(pkt, &f, func(f *wire.Frame) error {
//			switch f.Type {
//			case wire.FrameMessage:
//				return r.OnMessage(&f.Message, now)
//			case wire.FrameFragment:
//				return r.OnFragment(&f.Fragment, now)
//			}
//			return nil
//		})
//		for _, ref := range refs { // the peer acknowledged the packet
//			s.OnAcked(ref)
//		}
//		for ch, data, ok := r.Next(); ok; ch, data, ok = r.Next() {
//			fmt.Printf("channel %d: %s\n", ch, data)
//		}
//		fmt.Println("sender idle:", s.Idle())
//	}
package delivery
