package peers

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtaci/kcp-go/v5"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/benchmarks/peers/enet"
	"github.com/pumpnet/pumpnet/netcode"
)

// BenchmarkPeers_Throughput is ../benchmarks' BenchmarkThroughput with the
// peers beside pumpnet: a sender in a helper process sends b.N messages of
// 64 or 1,200 bytes, or reliable ones of 64 KiB or 1 MiB, as fast as the
// transport lets it; this process receives them. One op is one message; every row is paired with an
// untimed raw UDP round of about the same length right after it
// (msg/s/udp, rx-cpu/udp).
//
//   - raw-udp: one message per datagram, no flow control (the baseline).
//   - enet-reliable: ENet, channel 0, ENET_PACKET_FLAG_RELIABLE. The sender
//     queues messages with enet_peer_send and calls enet_host_service with
//     a 0 timeout (sending what the window allows, reading acks) every ~4
//     datagrams' worth, like pumpnet's senders flush; while more than
//     1,024 commands wait in the peer's queue (ENet has no other
//     backpressure) it services with a 1 ms timeout (counted in
//     queue-full/msg). The receiver services its host in a loop with a
//     1 ms timeout. Both hosts are serviced between rounds too.
//   - kcp-reliable: kcp-go in fast mode (tuneKCP); the sender writes ~4
//     datagrams' worth of messages per WriteBuffers call (one KCP message
//     each), which blocks while the send window is full; the receiver
//     reads one message per Read. kcp-go streams a 64 KiB or 1 MiB
//     message: WriteBuffers cuts it into KCP messages of one segment
//     (1,376 bytes), which the receiver reads and counts as bytes.
//     tx-lost-pkt-% is kcp-go's RetransSegs over OutSegs in the sender.
//   - enet-reliable carries 64 KiB and 1 MiB messages as ENet packets,
//     which ENet fragments (and the receiver's host reassembles).
//   - netcode-reliable, engine-reliable: as in ../benchmarks.
//
// Peers run first; pumpnet rows then report msg/s/best-peer (their
// msg/s/udp divided by the best peer's; goodput/best-peer for the large
// messages) and rx-cpu/best-peer. Metrics as
// in ../benchmarks; ENet's C heap (enet_packet_create, one malloc per
// packet) is not in allocs/msg, which counts Go heap allocations.
func BenchmarkPeers_Throughput(b *testing.B) {
	cases := []struct {
		name, transport string
		mode            netcode.DeliveryMode
		role            string
	}{
		{"raw-udp", "udp", 0, ""},
		{"enet-reliable", "enet", 0, "peer"},
		{"kcp-reliable", "kcp", 0, "peer"},
		{"netcode-reliable", "netcode", netcode.ReliableOrdered, "pumpnet"},
		{"engine-reliable", "engine", netcode.ReliableOrdered, "pumpnet"},
	}
	for _, size := range []int{64, 1200, 64 << 10, 1 << 20} {
		for _, c := range cases {
			var s, bs *harness.TputSession
			b.Run(harness.SizeName(size)+"/"+c.name, func(b *testing.B) {
				if s == nil {
					s = newTputSession(b, c.transport, c.mode, size)
					bs = newTputSession(b, "udp", 0, size)
				}
				b.ReportAllocs()
				b.ResetTimer()
				r := s.Round(b.N)
				b.StopTimer()
				base := bs.Baseline(r)
				r.Report(b, base)
				key := peerKey("tput/"+harness.SizeName(size), true)
				rate, cpu := harness.Ratio(r.Rate(), base.Rate()), harness.Ratio(r.CPUPerMsg(), base.CPUPerMsg())
				rateUnit := "msg/s/best-peer"
				if size > harness.RawChunk {
					rateUnit = "goodput/best-peer"
				}
				switch c.role {
				case "peer":
					recordPeer(b, key+"/rate", rate)
					recordPeer(b, key+"/cpu", cpu)
				case "pumpnet":
					reportVsPeer(b, key+"/rate", rate, rateUnit, true)
					reportVsPeer(b, key+"/cpu", cpu, "rx-cpu/best-peer", false)
				}
			})
			if s != nil {
				s.Close()
				bs.Close()
			}
		}
	}
}

// newTputSession is harness.NewTputSession with the peers' receivers.
func newTputSession(tb testing.TB, transport string, mode netcode.DeliveryMode, size int) *harness.TputSession {
	return harness.NewTputSession(tb, transport, mode, size, listenPeerTput)
}

// listenPeerTput makes the receiver of an ENet or kcp-go session.
func listenPeerTput(tb testing.TB, s *harness.TputSession, spec *harness.Spec) harness.TputReceiver {
	switch spec.Transport {
	case "kcp":
		ln, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
		if err != nil {
			tb.Fatal(err)
		}
		spec.Addr = ln.Addr().String()
		s.Start(*spec)
		ln.SetDeadline(time.Now().Add(20 * time.Second))
		sess, err := ln.AcceptKCP() // after the sender's hello
		if err != nil {
			ln.Close()
			tb.Fatal(err)
		}
		tuneKCP(sess)
		s.Helper().Reply(20 * time.Second) // ready
		return &kcpReceiver{s: s, ln: ln, sess: sess}
	case "enet":
		r := newENetReceiver(tb, s)
		spec.Addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), r.host.Port()).String()
		s.Start(*spec)
		s.Helper().Reply(20 * time.Second) // ready
		return r
	}
	return nil
}

// kcpReceiver reads a kcp-go session: one KCP message per Read (a whole
// message, or one segment of a large one).
type kcpReceiver struct {
	s    *harness.TputSession
	ln   *kcp.Listener
	sess *kcp.UDPSession
}

func (r *kcpReceiver) Receive(ctx context.Context, want int64, tail *atomic.Bool) (lastAt time.Time) {
	s := r.s
	stop := context.AfterFunc(ctx, func() { r.sess.SetReadDeadline(time.Now()) })
	defer func() {
		stop()
		r.sess.SetReadDeadline(time.Time{})
	}()
	buf := make([]byte, 2048)
	for s.Got.Load() < want {
		k, err := r.sess.Read(buf)
		if err != nil || s.IsMarker(buf[:k]) {
			break
		}
		if k == s.Size || (s.Size > len(buf) && k > harness.TputMarkerLen) {
			s.Got.Add(int64(k))
			if tail.Load() {
				lastAt = time.Now()
			}
		}
	}
	return lastAt
}

func (r *kcpReceiver) Close() {
	r.sess.Close()
	r.ln.Close()
}

// enetReceiver owns the receiving ENet host: one goroutine services it
// for the session's life (1 ms timeouts), counting into the session.
type enetReceiver struct {
	s     *harness.TputSession
	host  *enet.Host
	mu    sync.Mutex    // guards want, round, done and tail
	want  int64         // bytes
	round byte          // the round's number, in its end marker
	done  chan struct{} // closed when want messages or the marker arrived
	// tail is the round's "sender reported" flag; lastAt the last arrival
	// after it.
	tail   *atomic.Bool
	lastAt atomic.Int64
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

func newENetReceiver(tb testing.TB, s *harness.TputSession) *enetReceiver {
	h, err := enet.NewHost(netip.MustParseAddrPort("127.0.0.1:0"), 4, 1)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &enetReceiver{s: s, host: h, stop: cancel, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 4096)
		for ctx.Err() == nil {
			ev, err := h.Service(enetServiceMS, buf)
			if err != nil {
				tb.Error(err)
				return
			}
			if ev.Type != enet.EventReceive {
				continue
			}
			r.mu.Lock()
			finished := false
			if ev.N == s.Size {
				finished = s.Got.Add(int64(s.Size)) == r.want
				if r.tail != nil && r.tail.Load() {
					r.lastAt.Store(time.Now().UnixNano())
				}
			} else if ev.N == harness.TputMarkerLen && buf[0] == 0xff && buf[1] == r.round {
				finished = true
			}
			if finished {
				select {
				case <-r.done:
				default:
					close(r.done)
				}
			}
			r.mu.Unlock()
		}
	}()
	return r
}

// Begin readies round number round, of want bytes (s.Got is reset).
func (r *enetReceiver) Begin(want int64, round byte) {
	r.mu.Lock()
	r.want, r.round, r.done, r.tail = want, round, make(chan struct{}), nil
	r.lastAt.Store(0)
	r.mu.Unlock()
}

// Receive waits until the round is done or ctx is, and returns the last
// arrival after the sender reported (zero if none).
func (r *enetReceiver) Receive(ctx context.Context, _ int64, tail *atomic.Bool) time.Time {
	r.mu.Lock()
	r.tail = tail
	done := r.done
	r.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tail = nil
	if t := r.lastAt.Load(); t != 0 {
		return time.Unix(0, t)
	}
	return time.Time{}
}

func (r *enetReceiver) Close() {
	r.stop()
	r.wg.Wait()
	r.host.Destroy()
}

// peersTput is the peers' "tput" helper role: enetSender for ENet,
// harness.TputSender (with dialKCP) for the others.
func peersTput(spec harness.Spec, hio *harness.HelperIO) error {
	if spec.Transport == "enet" {
		return enetSender(spec, hio)
	}
	return harness.TputSender(spec, hio, dialKCP)
}

// dialKCP is the kcp-go sender: ~4 datagrams' worth of messages per
// WriteBuffers call (a large message in one call: kcp-go cuts it into
// segments), markers written alone.
func dialKCP(spec harness.Spec) (*harness.TputConn, error) {
	if spec.Transport != "kcp" {
		return nil, nil
	}
	sess, err := kcp.DialWithOptions(spec.Addr, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	tuneKCP(sess)
	if _, err := sess.Write([]byte{'h'}); err != nil { // the listener accepts on it
		sess.Close()
		return nil, err
	}
	every := max(1, 4*1100/spec.Size)
	batch := make([][]byte, 0, every)
	c := &harness.TputConn{Msg: make([]byte, spec.Size), Marker: []byte{0xff, 0}, Close: func() { sess.Close() }}
	c.Send = func(end bool) error {
		if end {
			_, err := sess.Write(c.Marker)
			return err
		}
		batch = append(batch, c.Msg)
		if len(batch) < every {
			return nil
		}
		_, err := sess.WriteBuffers(batch)
		batch = batch[:0]
		return err
	}
	c.Flush = func() {
		if len(batch) > 0 {
			sess.WriteBuffers(batch)
			batch = batch[:0]
		}
	}
	// Declared loss: the segments kcp-go sent again (this process holds
	// the one session).
	c.Stats = func() *netcode.Stats {
		snmp := kcp.DefaultSnmp.Copy()
		return &netcode.Stats{PacketsOut: snmp.OutSegs, LostPackets: snmp.RetransSegs}
	}
	return c, nil
}
