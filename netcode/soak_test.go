package netcode

// The soak test: a server and many clients exchange reliable and unreliable
// traffic for a long time through bursty loss, duplication and reordering,
// then every reliable message is accounted for and heap and goroutine
// counts must not trend upwards.
//
// It is off by default. Enable it with a duration:
//
//	go test ./netcode -run Soak -soak=10m                   # virtual time (synctest + fakenet)
//	go test ./netcode -run Soak -soak=10m -soak.real        # real time, real UDP on 127.0.0.1
//	PUMPNET_SOAK=10m PUMPNET_SOAK_REAL=1 go test ./netcode -run Soak -timeout 30m
//
// In virtual time, 10 minutes of traffic run in about a minute of CPU:
// the fake clock only moves when every goroutine waits, so the figures
// (loss, resends, latency) are the protocol's and not the machine's. The
// real-time run on loopback sockets measures the same thing with real
// scheduling, real timers and real socket buffers; give go test a -timeout
// above the soak duration plus a minute. -soak.clients changes the number of
// clients (default 16). The test logs its figures with t.Logf (use -v).

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
)

var (
	soakFlag        = flag.Duration("soak", 0, "run the soak test for this long (0: skip; env PUMPNET_SOAK)")
	soakRealFlag    = flag.Bool("soak.real", false, "run the soak test in real time on 127.0.0.1 sockets (env PUMPNET_SOAK_REAL=1)")
	soakClientsFlag = flag.Int("soak.clients", 16, "clients in the soak test")
)

// soakSettings reads the flags, then the environment.
func soakSettings(t *testing.T) (d time.Duration, realNet bool, clients int) {
	d, realNet, clients = *soakFlag, *soakRealFlag, *soakClientsFlag
	if v := os.Getenv("PUMPNET_SOAK"); d == 0 && v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("PUMPNET_SOAK=%q: %v", v, err)
		}
	}
	if v := os.Getenv("PUMPNET_SOAK_REAL"); v != "" && v != "0" {
		realNet = true
	}
	return d, realNet, clients
}

// Channels of the soak traffic.
const (
	soakOrdered   = 0 // ReliableOrdered: a sequence per direction and client
	soakState     = 1 // UnreliableSequenced: game state, newest wins
	soakUnordered = 2 // ReliableUnordered: exactly once, any order
)

var soakModes = []DeliveryMode{ReliableOrdered, UnreliableSequenced, ReliableUnordered}

// soakLink is 10% bursty loss (Gilbert-Elliott: bursts of 4 datagrams on
// average, entered with probability 1/36, so the bad state holds 1/10 of
// the time), 2% duplication, 20 ± 10 ms latency and 5% of datagrams held
// back 30 ms so that later ones overtake them. Per direction.
var soakLink = LinkDirection{
	Latency:      20 * time.Millisecond,
	Jitter:       10 * time.Millisecond,
	BurstEnter:   0.25 / 9,
	BurstExit:    0.25,
	BurstLoss:    1,
	Duplicate:    0.02,
	Reorder:      0.05,
	ReorderDelay: 30 * time.Millisecond,
}

// soakTick is the game's frame: every tick each side sends and drains.
const soakTick = 20 * time.Millisecond

// A soak message: seq (8) | sent at, unix ns (8) | pattern bytes.
func soakMsg(seq uint64, sentAt time.Time, size int) []byte {
	b := make([]byte, max(size, 16))
	binary.BigEndian.PutUint64(b, seq)
	binary.BigEndian.PutUint64(b[8:], uint64(sentAt.UnixNano()))
	for i := 16; i < len(b); i++ {
		b[i] = byte(seq) ^ byte(i)
	}
	return b
}

func parseSoakMsg(b []byte) (seq uint64, sentAt time.Time, ok bool) {
	if len(b) < 16 {
		return 0, time.Time{}, false
	}
	seq = binary.BigEndian.Uint64(b)
	for i := 16; i < len(b); i++ {
		if b[i] != byte(seq)^byte(i) {
			return 0, time.Time{}, false
		}
	}
	return seq, time.Unix(0, int64(binary.BigEndian.Uint64(b[8:]))), true
}

// soakEnd is one side of one connection: what it sent and what it checked.
type soakEnd struct {
	c                             *Conn
	sentOrdered, sentUnordered    uint64
	sentState                     uint64
	nextOrdered                   uint64          // next ordered seq expected
	unorderedLow                  uint64          // every unordered seq below has arrived
	unorderedSeen                 map[uint64]bool // seen at or above unorderedLow
	gotUnordered                  uint64
	lastState                     int64
	gotState                      uint64
	corrupt, dup, outOfOrder, bad uint64
	stateBackwards, queueFull     uint64
	latency                       *latencyHist // ordered messages
}

func newSoakEnd(c *Conn, h *latencyHist) *soakEnd {
	return &soakEnd{c: c, unorderedSeen: map[uint64]bool{}, lastState: -1, latency: h}
}

// latencyHist counts latencies in 1 ms buckets up to 10 s (fixed memory,
// so that it does not show in the heap trend).
type latencyHist struct {
	n       uint64
	buckets [10001]uint64
}

func (h *latencyHist) add(d time.Duration) {
	h.n++
	h.buckets[min(max(d.Milliseconds(), 0), int64(len(h.buckets)-1))]++
}

// quantile returns the bucket at quantile q (0..1).
func (h *latencyHist) quantile(q float64) time.Duration {
	want := uint64(math.Ceil(q * float64(h.n)))
	var acc uint64
	for i, c := range h.buckets {
		acc += c
		if acc >= want && c > 0 {
			return time.Duration(i) * time.Millisecond
		}
	}
	return 0
}

// send queues one tick of traffic. Reliable sequences advance only when
// Send took the message.
func (e *soakEnd) send(now time.Time, tick int, rng *rand.Rand) {
	size := 24 + rng.IntN(200)
	if tick%100 == 0 {
		size = 4000 // fragmented
	}
	e.trySend(soakOrdered, &e.sentOrdered, now, size)
	if tick%5 == 0 {
		e.trySend(soakUnordered, &e.sentUnordered, now, 100)
	}
	e.trySend(soakState, &e.sentState, now, 64)
	e.c.Flush()
}

func (e *soakEnd) trySend(ch uint8, seq *uint64, now time.Time, size int) {
	switch err := e.c.Send(ch, soakMsg(*seq, now, size)); {
	case err == nil:
		*seq++
	case isQueueFull(err):
		e.queueFull++
	default:
		e.bad++
	}
}

func isQueueFull(err error) bool { return errors.Is(err, ErrQueueFull) }

// drain receives and checks everything delivered.
func (e *soakEnd) drain(now time.Time) {
	for m, ok := e.c.Receive(); ok; m, ok = e.c.Receive() {
		seq, sentAt, ok := parseSoakMsg(m.Data)
		if !ok {
			e.corrupt++
			continue
		}
		switch m.Channel {
		case soakOrdered:
			switch {
			case seq == e.nextOrdered:
				e.nextOrdered++
				e.latency.add(now.Sub(sentAt))
			case seq < e.nextOrdered:
				e.dup++
			default:
				e.outOfOrder++
				e.nextOrdered = seq + 1
			}
		case soakUnordered:
			if seq < e.unorderedLow || e.unorderedSeen[seq] {
				e.dup++
				continue
			}
			e.unorderedSeen[seq] = true
			e.gotUnordered++
			for e.unorderedSeen[e.unorderedLow] {
				delete(e.unorderedSeen, e.unorderedLow)
				e.unorderedLow++
			}
		case soakState:
			if int64(seq) <= e.lastState {
				e.stateBackwards++
			}
			e.lastState = int64(seq)
			e.gotState++
		default:
			e.bad++
		}
	}
}

// soakNet makes the sockets: fakenet inside a synctest bubble, or real UDP
// on 127.0.0.1.
type soakNet interface {
	listen(t *testing.T, i int) PacketConn // i = 0: the server
}

type fakeSoakNet struct{ n *fakenet.Network }

func (f fakeSoakNet) listen(t *testing.T, i int) PacketConn {
	pc, err := f.n.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 7000))
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

type udpSoakNet struct{}

func (udpSoakNet) listen(t *testing.T, _ int) PacketConn {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return uc
}

type soakSample struct {
	at         time.Duration
	heap       uint64
	goroutines int
}

// slope is the least-squares slope of y over x.
func slope(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func TestSoak(t *testing.T) {
	d, realNet, clients := soakSettings(t)
	if d == 0 {
		t.Skip("soak test off: enable with -soak=30s or PUMPNET_SOAK=30s (add -soak.real or PUMPNET_SOAK_REAL=1 for real sockets on 127.0.0.1)")
	}
	if realNet {
		runSoak(t, udpSoakNet{}, d, clients, true)
		return
	}
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		runSoak(t, fakeSoakNet{fakenet.New()}, d, clients, false)
	})
	t.Logf("wall time for %v of virtual time: %v", d, time.Since(wall).Round(time.Millisecond))
}

func runSoak(t *testing.T, sn soakNet, d time.Duration, clients int, realNet bool) {
	wallStart := time.Now()
	srvCfg := &Config{Channels: soakModes}
	srv, err := ListenPacket(sn.listen(t, 0), srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srvAddr := srv.AddrPort()

	// Connect every client through its own conditioned link.
	type dialed struct {
		i   int
		c   *Conn
		err error
	}
	dials := make(chan dialed, clients)
	for i := range clients {
		cfg := &Config{Channels: soakModes, Link: &LinkConditions{Send: soakLink, Receive: soakLink, Seed: uint64(i + 1)}}
		ep, err := NewEndpoint(sn.listen(t, i+1), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := ep.Dial(ctx, srvAddr, DialOptions{Fingerprint: srv.Fingerprint()})
			dials <- dialed{i, c, err}
		}()
	}
	lat := &latencyHist{}
	cliEnds := make([]*soakEnd, clients)
	for range clients {
		r := <-dials
		if r.err != nil {
			t.Fatalf("client %d: %v", r.i, r.err)
		}
		cliEnds[r.i] = newSoakEnd(r.c, lat)
	}
	var srvEnds []*soakEnd
	for range clients {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c, err := srv.Accept(ctx)
		cancel()
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		srvEnds = append(srvEnds, newSoakEnd(c, lat))
	}
	ends := append(slices.Clone(cliEnds), srvEnds...)
	t.Logf("%d clients connected after %v", clients, time.Since(wallStart))

	// Traffic for d, sampling heap and goroutines.
	sampleEvery := max(d/60, time.Second)
	var samples []soakSample
	sample := func(at time.Duration) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		samples = append(samples, soakSample{at, ms.HeapAlloc, steadyGoroutines()})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	nextSample := start
	for tick := 0; ; tick++ {
		now := time.Now()
		if now.Sub(start) >= d {
			break
		}
		if !now.Before(nextSample) {
			sample(now.Sub(start))
			nextSample = nextSample.Add(sampleEvery)
		}
		for _, e := range ends {
			e.drain(now)
			e.send(now, tick, rng)
		}
		for _, e := range ends {
			if err := e.c.Err(); err != nil {
				t.Fatalf("a connection ended during the soak: %v", err)
			}
		}
		time.Sleep(soakTick)
	}
	sample(time.Since(start))

	// Stop sending; everything reliable must arrive.
	drainStart := time.Now()
	complete := func() bool {
		for i, e := range cliEnds {
			s := srvEnds[i]
			if e.nextOrdered != s.sentOrdered || s.nextOrdered != e.sentOrdered ||
				e.gotUnordered != s.sentUnordered || s.gotUnordered != e.sentUnordered {
				return false
			}
		}
		return true
	}
	for !complete() {
		if time.Since(drainStart) > time.Minute {
			for i, e := range cliEnds {
				s := srvEnds[i]
				t.Errorf("client %d: server got ordered %d/%d unordered %d/%d; client got ordered %d/%d unordered %d/%d",
					i, s.nextOrdered, e.sentOrdered, s.gotUnordered, e.sentUnordered,
					e.nextOrdered, s.sentOrdered, e.gotUnordered, s.sentUnordered)
			}
			t.Fatal("reliable messages still missing a minute after the senders stopped")
		}
		for _, e := range ends {
			e.c.Flush()
			e.drain(time.Now())
		}
		time.Sleep(soakTick)
	}
	drained := time.Since(drainStart)
	// Nothing more may arrive: no late duplicates.
	time.Sleep(2 * time.Second)
	for _, e := range ends {
		e.drain(time.Now())
	}

	// Accounting.
	var sentRel, gotRel, sentState, gotState, dup, ooo, corrupt, bad, back, qfull uint64
	var st Stats
	for _, e := range ends {
		sentRel += e.sentOrdered + e.sentUnordered
		gotRel += e.nextOrdered + e.gotUnordered
		sentState += e.sentState
		gotState += e.gotState
		dup += e.dup
		ooo += e.outOfOrder
		corrupt += e.corrupt
		bad += e.bad
		back += e.stateBackwards
		qfull += e.queueFull
		s := e.c.Stats()
		st.PacketsOut += s.PacketsOut
		st.PacketsIn += s.PacketsIn
		st.Resends += s.Resends
		st.LostPackets += s.LostPackets
		st.DropReplay += s.DropReplay
		st.AuthFailures += s.AuthFailures
		st.RefusedPackets += s.RefusedPackets
	}
	mode := "virtual time, synctest + fakenet"
	if realNet {
		mode = "real time, UDP on 127.0.0.1"
	}
	t.Logf("soak %v (%s), %d clients, %v from start to end", d, mode, clients, time.Since(wallStart).Round(time.Millisecond))
	t.Logf("reliable: sent %d, delivered %d, lost %d, duplicated %d, out of order %d, corrupt %d; all delivered %v after the senders stopped",
		sentRel, gotRel, sentRel-min(gotRel, sentRel), dup, ooo, corrupt, drained.Round(time.Millisecond))
	t.Logf("state (unreliable-sequenced): sent %d, delivered %d (%.1f%%), went backwards %d",
		sentState, gotState, 100*float64(gotState)/float64(max(sentState, 1)), back)
	t.Logf("ordered latency: p50 %v, p99 %v, p99.9 %v, max %v (%d messages)",
		lat.quantile(0.50), lat.quantile(0.99), lat.quantile(0.999), lat.quantile(1), lat.n)
	t.Logf("packets: out %d, in %d, declared lost %d, resends %d, duplicates/replays dropped %d, refused %d, auth failures %d, Send queue full %d",
		st.PacketsOut, st.PacketsIn, st.LostPackets, st.Resends, st.DropReplay, st.RefusedPackets, st.AuthFailures, qfull)

	if gotRel != sentRel || dup != 0 || ooo != 0 || corrupt != 0 || bad != 0 {
		t.Errorf("reliable delivery broken: sent %d, delivered %d, duplicated %d, out of order %d, corrupt %d, errors %d",
			sentRel, gotRel, dup, ooo, corrupt, bad)
	}
	if back != 0 {
		t.Errorf("unreliable-sequenced state went backwards %d times", back)
	}
	if gotState == 0 || gotState >= sentState {
		t.Errorf("state: delivered %d of %d; through 10%% loss some must be lost and most delivered", gotState, sentState)
	}
	if st.LostPackets == 0 || st.DropReplay == 0 {
		t.Errorf("the link conditioner did not lose (%d) or duplicate (%d) anything", st.LostPackets, st.DropReplay)
	}
	if qfull != 0 {
		t.Errorf("Send found the queue full %d times: the offered load is not sustainable", qfull)
	}
	checkSoakSlopes(t, samples)
}

// Bounds of the soak's trends, over the samples after the first fifth (the
// warm-up fills windows, pools and RTT estimates). The heap, measured after
// a GC, may not grow by more than 2 MiB plus 10% of its mean over the
// measured span at its fitted slope; the goroutine count may not grow by
// one or more over it, and must end where it started after warm-up.
const (
	soakHeapGrowthFixed = 2 << 20
	soakHeapGrowthRatio = 0.10
)

// steadyGoroutines counts goroutines without the passing ones: each
// connection's timer runs its callback on a goroutine of its own
// (time.AfterFunc) for a few microseconds, so in real time a single count
// catches some of them at random. The least of ten counts 2 ms apart is
// the standing population, which is what a leak raises.
func steadyGoroutines() int {
	n := runtime.NumGoroutine()
	for range 9 {
		time.Sleep(2 * time.Millisecond)
		n = min(n, runtime.NumGoroutine())
	}
	return n
}

func checkSoakSlopes(t *testing.T, samples []soakSample) {
	t.Helper()
	samples = samples[len(samples)/5:]
	if len(samples) < 5 {
		t.Logf("only %d samples after warm-up: no trend computed (run longer)", len(samples))
		return
	}
	var x, heap, gor []float64
	var heapSum float64
	for _, s := range samples {
		x = append(x, s.at.Minutes())
		heap = append(heap, float64(s.heap))
		gor = append(gor, float64(s.goroutines))
		heapSum += float64(s.heap)
	}
	span := samples[len(samples)-1].at - samples[0].at
	heapMean := heapSum / float64(len(samples))
	hs, gs := slope(x, heap), slope(x, gor)
	heapGrowth := hs * span.Minutes()
	gorGrowth := gs * span.Minutes()
	minHeap, maxHeap := uint64(math.MaxUint64), uint64(0)
	for _, s := range samples {
		minHeap, maxHeap = min(minHeap, s.heap), max(maxHeap, s.heap)
	}
	t.Logf("heap after GC: mean %.1f MiB, min %.1f, max %.1f, slope %+.1f KiB/min (%+.1f KiB over %v); goroutines %d -> %d, slope %+.3f/min (%d samples)",
		heapMean/(1<<20), float64(minHeap)/(1<<20), float64(maxHeap)/(1<<20), hs/1024, heapGrowth/1024, span.Round(time.Second),
		samples[0].goroutines, samples[len(samples)-1].goroutines, gs, len(samples))
	if bound := soakHeapGrowthFixed + soakHeapGrowthRatio*heapMean; heapGrowth > bound {
		t.Errorf("heap trends upwards: %.0f KiB over %v at the fitted slope, bound %.0f KiB (a leak?)",
			heapGrowth/1024, span, bound/1024)
	}
	if gorGrowth >= 1 || samples[len(samples)-1].goroutines > samples[0].goroutines {
		t.Errorf("goroutines trend upwards: %d -> %d, slope %.3f/min", samples[0].goroutines, samples[len(samples)-1].goroutines, gs)
	}
}
