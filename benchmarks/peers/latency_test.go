package peers

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/xtaci/kcp-go/v5"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/benchmarks/peers/enet"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// BenchmarkPeers_PingPong is ../benchmarks' BenchmarkPingPong_latency with
// the peers beside pumpnet: the round trip of a 64-byte message over
// loopback, one in flight, both ends in this process, each block of 1,000
// timed round trips right after 1,000 untimed raw UDP ones (p50/udp).
//
//   - raw-udp: the floor (paired with itself: a check of the method);
//   - enet-reliable / enet-unreliable: ENet peers on channel 0, packets
//     with ENET_PACKET_FLAG_RELIABLE, or flags 0 (unreliable, sequenced);
//     each side enet_peer_send then enet_host_flush, and waits parked in
//     Go's netpoller on its host's socket, then calls enet_host_service
//     with a 0 timeout until no event is left (enetWaiter) — the wake-up
//     path of the raw UDP baseline and of pumpnet. (Blocking in
//     enet_host_service's own poll instead made the round trip 3.7–6.5×
//     slower on a quiet machine: a thread asleep in C wakes slower than a
//     goroutine woken by the netpoller.) ENet sends the ack of a reliable
//     packet from enet_host_service before it returns the packet, so a
//     reliable round trip is 4 datagrams;
//   - kcp-reliable: kcp-go sessions in fast mode (tuneKCP), Write and a
//     blocking Read; KCP has no unreliable mode;
//   - netcode-*, engine-*: as in ../benchmarks.
//
// Peers run first; pumpnet rows then report p50/best-peer, their p50/udp
// divided by the best p50/udp among the peers of the same class (reliable:
// enet-reliable and kcp-reliable; unreliable: enet-unreliable).
// datagrams/rtt counts both directions.
func BenchmarkPeers_PingPong(b *testing.B) {
	b.Run("raw-udp", func(b *testing.B) {
		ping, stop := harness.RawUDPPinger(b)
		defer stop()
		harness.PingLoop(b, ping, nil)
	})
	b.Run("enet-reliable", func(b *testing.B) { benchENetPing(b, enet.Reliable) })
	b.Run("enet-unreliable", func(b *testing.B) { benchENetPing(b, 0) })
	b.Run("kcp-reliable", benchKCPPing)
	b.Run("netcode-reliable", func(b *testing.B) {
		pingRole(b, "pumpnet-reliable", harness.PingNetcode(b, netcode.ReliableOrdered))
	})
	b.Run("netcode-unreliable", func(b *testing.B) {
		pingRole(b, "pumpnet-unreliable", harness.PingNetcode(b, netcode.Unreliable))
	})
	b.Run("engine-reliable", func(b *testing.B) {
		pingRole(b, "pumpnet-reliable", harness.PingEngine(b, engine.ReliableOrdered))
	})
	b.Run("engine-unreliable", func(b *testing.B) {
		pingRole(b, "pumpnet-unreliable", harness.PingEngine(b, engine.Unreliable))
	})
}

// pingRole records or compares r, a ping-pong's p50/udp: role is
// "peer-reliable" or "peer-unreliable" (a peer records its ratio),
// "pumpnet-reliable" or "pumpnet-unreliable" (pumpnet rows report
// p50/best-peer).
func pingRole(b *testing.B, role string, r float64) {
	switch role {
	case "peer-reliable", "peer-unreliable":
		recordPeer(b, peerKey("pingpong", role == "peer-reliable"), r)
	case "pumpnet-reliable", "pumpnet-unreliable":
		reportVsPeer(b, peerKey("pingpong", role == "pumpnet-reliable"), r, "p50/best-peer", false)
	}
}

// enetServiceMS is the timeout every ENet loop here gives
// enet_host_service: it returns as soon as a datagram arrives, and wakes
// at least every millisecond to run ENet's timers.
const enetServiceMS = 1

// enetPair connects a client host to a server host on 127.0.0.1. The
// server host is serviced by serve (called with every event) in its own
// goroutine until stop; the client host belongs to the caller.
func enetPair(tb testing.TB, channels int, serve func(*enet.Host, enet.Event, []byte)) (cl *enet.Host, peer enet.Peer, stop func()) {
	tb.Helper()
	srv, err := enet.NewHost(netip.MustParseAddrPort("127.0.0.1:0"), 4, channels)
	if err != nil {
		tb.Fatal(err)
	}
	cl, err = enet.NewHost(netip.AddrPort{}, 1, channels)
	if err != nil {
		tb.Fatal(err)
	}
	peer, err = cl.Connect(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), srv.Port()), channels)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w, err := newENetWaiter(srv)
		if err != nil {
			tb.Error(err)
			return
		}
		defer w.close()
		buf := make([]byte, 4096)
		on := func(ev enet.Event) bool { serve(srv, ev, buf); return false }
		for ctx.Err() == nil {
			if _, err := w.serviceUntil(time.Now().Add(10*time.Millisecond), buf, on); err != nil {
				tb.Error(err)
				return
			}
		}
	}()
	stop = func() {
		cancel()
		wg.Wait()
		cl.Destroy()
		srv.Destroy()
	}
	buf := make([]byte, 64)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, err := cl.Service(enetServiceMS, buf)
		if err != nil {
			tb.Fatal(err)
		}
		if ev.Type == enet.EventConnect {
			return cl, peer, stop
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatal("enet: no connection within 10 s")
		}
	}
}

// benchENetPing is the ENet ping-pong: channel 0, packets with flags.
func benchENetPing(b *testing.B, flags uint32) {
	cl, peer, stop := enetPair(b, 1, func(srv *enet.Host, ev enet.Event, buf []byte) {
		if ev.Type == enet.EventReceive {
			if err := ev.Peer.Send(0, buf[:ev.N], flags); err != nil {
				b.Error(err)
			}
			srv.Flush()
		}
	})
	defer stop()
	w, err := newENetWaiter(cl)
	if err != nil {
		b.Fatal(err)
	}
	defer w.close()
	msg := make([]byte, harness.MsgSize)
	buf := make([]byte, 2048)
	var seq uint64
	pong := func(ev enet.Event) bool {
		return ev.Type == enet.EventReceive && ev.N == harness.MsgSize && binary.LittleEndian.Uint64(buf) == seq
	}
	role := "peer-unreliable"
	if flags&enet.Reliable != 0 {
		role = "peer-reliable"
	}
	pingRole(b, role, harness.PingLoop(b, func() (time.Duration, bool) {
		seq++
		binary.LittleEndian.PutUint64(msg, seq)
		start := time.Now()
		if err := peer.Send(0, msg, flags); err != nil {
			b.Fatal(err)
		}
		cl.Flush()
		got, err := w.serviceUntil(start.Add(time.Second), buf, pong)
		if err != nil {
			b.Fatal(err)
		}
		if !got {
			return 0, false // unreliable: a lost ping is not resent
		}
		return time.Since(start), true
	}, func() uint64 { return uint64(cl.DatagramsIn()) + uint64(cl.DatagramsOut()) }))
}

// kcpPair dials a fast-mode kcp-go session to a listener on 127.0.0.1 and
// returns both ends (the server's accepted after a 1-byte hello, which it
// consumed).
func kcpPair(tb testing.TB) (cl, sv *kcp.UDPSession, stop func()) {
	tb.Helper()
	ln, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	cl, err = kcp.DialWithOptions(ln.Addr().String(), nil, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tuneKCP(cl)
	if _, err := cl.Write([]byte{'h'}); err != nil {
		tb.Fatal(err)
	}
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	if sv, err = ln.AcceptKCP(); err != nil {
		tb.Fatal(err)
	}
	tuneKCP(sv)
	buf := make([]byte, 16)
	if _, err := sv.Read(buf); err != nil {
		tb.Fatal(err)
	}
	return cl, sv, func() { cl.Close(); sv.Close(); ln.Close() }
}

func benchKCPPing(b *testing.B) {
	cl, sv, stop := kcpPair(b)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, err := sv.Read(buf)
			if err != nil {
				return
			}
			if _, err := sv.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, harness.MsgSize)
	buf := make([]byte, 2048)
	pingRole(b, "peer-reliable", harness.PingLoop(b, func() (time.Duration, bool) {
		start := time.Now()
		if _, err := cl.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Read(buf); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), true
	}, func() uint64 { in, _ := kcpDatagrams(); return in }))
}
