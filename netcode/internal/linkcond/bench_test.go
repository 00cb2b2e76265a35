package linkcond_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

const benchSize = 64

// BenchmarkWriteRead writes a datagram and reads it back, one at a time, over
// fakenet: raw, and through a zero-config conditioner at both ends (Send on
// the writer, Receive on the reader).
func BenchmarkWriteRead(b *testing.B) {
	b.Run("fakenet", func(b *testing.B) {
		n := fakenet.New()
		a, _ := n.Listen(addrA)
		c, _ := n.Listen(addrB)
		defer a.Close()
		defer c.Close()
		benchSequential(b, a, c)
	})
	b.Run("zero", func(b *testing.B) {
		w, r := benchPair(b, linkcond.Direction{})
		benchSequential(b, w, r)
	})
}

func benchSequential(b *testing.B, w, r linkcond.PacketConn) {
	msg := make([]byte, benchSize)
	buf := make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := w.WriteToUDPAddrPort(msg, addrB); err != nil {
			b.Fatal(err)
		}
		if _, _, err := r.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPair returns a conditioned writer on A and a conditioned reader on B,
// both applying d (Send on the writer, Receive on the reader).
func benchPair(b *testing.B, d linkcond.Direction) (w, r *linkcond.Conn) {
	n := fakenet.New()
	a, _ := n.ListenQueue(addrA, 1<<14)
	c, _ := n.ListenQueue(addrB, 1<<14)
	w, err := linkcond.Wrap(a, linkcond.Config{Seed: 1, Send: d})
	if err != nil {
		b.Fatal(err)
	}
	r, err = linkcond.Wrap(c, linkcond.Config{Seed: 2, Receive: d})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(); r.Close() })
	return w, r
}

// BenchmarkPipeline streams datagrams while a goroutine reads them, with at
// most pipelineWindow datagrams in flight; ns/op is per datagram written.
// "fakenet" is the baseline without a conditioner; "zero" and "lossy" go
// through a conditioner at both ends (Send on the writer, Receive on the
// reader). "lossy" drops, duplicates, reorders and delays (200 µs ± 100 µs per
// end), so it exercises the delay lines, the scheduler and its timer.
func BenchmarkPipeline(b *testing.B) {
	b.Run("fakenet", func(b *testing.B) {
		n := fakenet.New()
		a, _ := n.ListenQueue(addrA, 1<<14)
		c, _ := n.ListenQueue(addrB, 1<<14)
		defer a.Close()
		var reads atomic.Uint64
		benchPipeline(b, a, c, &reads, func() int { return int(n.Stats().Delivered - reads.Load()) })
	})
	for _, tc := range []struct {
		name string
		d    linkcond.Direction
	}{
		{"zero", linkcond.Direction{}},
		{"lossy", linkcond.Direction{Loss: 0.05, Duplicate: 0.01, Reorder: 0.01,
			Latency: 200 * time.Microsecond, Jitter: 100 * time.Microsecond}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w, r := benchPair(b, tc.d)
			var reads atomic.Uint64
			// In flight: held by w, queued in fakenet, held or ready in r.
			benchPipeline(b, w, r, &reads, func() int {
				ws, rs := w.Stats().Send, r.Stats().Receive
				return ws.Pending + int(ws.Delivered-rs.Packets) + rs.Pending
			})
			ws, rs := w.Stats().Send, r.Stats().Receive
			if ws.DroppedQueue+rs.DroppedQueue != 0 {
				b.Fatalf("conditioner queues overflowed: %+v %+v", ws, rs)
			}
		})
	}
}

const pipelineWindow = 1024

// benchPipeline writes b.N datagrams with w while a goroutine reads r,
// counting in reads, and waits until inFlight reaches 0. It closes r.
func benchPipeline(b *testing.B, w, r linkcond.PacketConn, reads *atomic.Uint64, inFlight func() int) {
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := r.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			reads.Add(1)
		}
	})
	msg := make([]byte, benchSize)
	b.ReportAllocs()
	b.SetBytes(benchSize)
	i := 0
	for b.Loop() {
		if _, err := w.WriteToUDPAddrPort(msg, addrB); err != nil {
			b.Fatal(err)
		}
		if i++; i%32 == 0 {
			for inFlight() > pipelineWindow {
				time.Sleep(50 * time.Microsecond) // let the readers run
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for inFlight() > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("still %d in flight", inFlight())
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(reads.Load())/float64(b.N), "delivered/op")
	r.Close()
	wg.Wait()
}
