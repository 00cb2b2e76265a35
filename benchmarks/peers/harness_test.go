package peers

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/xtaci/kcp-go/v5"
)

// rttRecorder collects duration samples (round trips, handshakes, delivery
// times) and reports percentiles.
type rttRecorder struct{ samples []time.Duration }

func (r *rttRecorder) add(d time.Duration) { r.samples = append(r.samples, d) }

func (r *rttRecorder) pct(p float64) time.Duration { return percentile(r.samples, p) }

// percentile returns the p-quantile (0..1) of s, nearest rank, without
// modifying s.
func percentile[T ~int64](s []T, p float64) T {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c[min(len(c)-1, int(float64(len(c))*p))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// report attaches p50/p99 and, when base > 0, the p50 ratio to the baseline.
func (r *rttRecorder) report(b *testing.B, base time.Duration) {
	p50 := r.pct(0.50)
	b.ReportMetric(us(p50), "p50-µs")
	b.ReportMetric(us(r.pct(0.99)), "p99-µs")
	if base > 0 {
		b.ReportMetric(float64(p50)/float64(base), "p50/udp")
	}
}

// ratio returns a/b, or 0 when either is unknown (so that no ratio is
// reported rather than a wrong one).
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// reportRatio reports v under unit unless it is unknown (0).
func reportRatio(b *testing.B, v float64, unit string) {
	if v > 0 {
		b.ReportMetric(v, unit)
	}
}

// heapAllocs returns the number of heap allocations the process (every
// goroutine) made so far: runtime.MemStats.Mallocs, which is exact (it
// stops the world briefly; call it only around measured intervals).
// go test's own allocs/op is an integer division, so 0.99 allocations per
// op print as 0: every benchmark here reports the exact figure too.
func heapAllocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// reportAllocsPerMsg reports the exact heap allocations per message.
func reportAllocsPerMsg(b *testing.B, allocs uint64, msgs int) {
	if msgs > 0 {
		b.ReportMetric(float64(allocs)/float64(msgs), "allocs/msg")
	}
}

// cpuMeter measures the CPU time (user + system, all threads) the process
// spends between start and stop; see processCPU.
type cpuMeter struct {
	cpu    time.Duration
	wall   time.Time
	allocs uint64
}

func startMeter() cpuMeter {
	return cpuMeter{cpu: processCPU(), wall: time.Now(), allocs: heapAllocs()}
}

// stop returns the CPU time, wall time and heap allocations since start.
// cpu is negative when the platform cannot measure it.
func (m cpuMeter) stop() (cpu, wall time.Duration, allocs uint64) {
	c := processCPU()
	wall = time.Since(m.wall)
	allocs = heapAllocs() - m.allocs
	if c < 0 || m.cpu < 0 {
		return -1, wall, allocs
	}
	return c - m.cpu, wall, allocs
}

// blob is the message of every engine benchmark: an action and opaque
// bytes whose first bytes carry a sequence number and a send time. Its
// size is chosen so that the engine frame (kind byte + msgpack) that
// netcode carries has an exact length, the same as the netcode-level and
// raw benchmarks' payloads.
type blob struct {
	Action string `msgpack:"action"`
	Data   []byte `msgpack:"d"`
}

// newBlob returns a message whose engine frame is frameSize bytes long.
func newBlob(action string, frameSize int) *blob {
	c := codec.Default()
	for n := frameSize; n >= 0; n-- {
		m := &blob{Action: action, Data: make([]byte, n)}
		if b, err := c.Append([]byte{0}, m); err == nil && len(b) == frameSize {
			return m
		}
	}
	panic(fmt.Sprintf("peers: no %q message has a %d-byte frame", action, frameSize))
}

// connectEngine connects an engine client to target and pumps it until
// the server's "connected" greeting arrived.
func connectEngine(tb testing.TB, target string, cfg *engine.ClientConfig) *engine.Client {
	tb.Helper()
	cl, err := engine.Connect(target, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := waitGreeting(cl, 10*time.Second); err != nil {
		cl.Close()
		tb.Fatal(err)
	}
	return cl
}

// waitGreeting pumps cl until the server greeted it, or fails.
func waitGreeting(cl *engine.Client, timeout time.Duration) error {
	greeted := false
	var failed error
	cl.Handle("connected", func(engine.Msg) { greeted = true })
	cl.Handle("error", func(err error) { failed = err })
	cl.Handle("disconnected", func(d engine.Disconnected) {
		if failed == nil {
			failed = fmt.Errorf("disconnected: %s", d.Reason)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !greeted && failed == nil {
		if ctx.Err() != nil {
			return errors.New("peers: no greeting from the server in time")
		}
		cl.PumpWait(ctx, 50*time.Millisecond)
	}
	return failed
}

// benchTimer is the part of *testing.B that a round of a benchmark
// drives; tests of the harness pass noTimer.
type benchTimer interface {
	ResetTimer()
	StopTimer()
}

type noTimer struct{}

func (noTimer) ResetTimer() {}
func (noTimer) StopTimer()  {}

// The best peer: each peer sub-benchmark records its ratio to the raw-UDP
// baseline of its own round under a key naming the scenario, the metric
// and the class of delivery it competes in (a reliable pumpnet row is
// compared with reliable peers only); a pumpnet sub-benchmark of the same
// scenario, which runs after the peers, divides its own ratio by the best
// peer's and reports it as <metric>/best-peer. Each peer's last run is
// the one that counts (go test runs a sub-benchmark several times, with
// growing b.N, and reports the last). A ratio of ratios keeps the
// method's pairing: each side is divided by raw UDP measured right beside
// it.
var peerBest = struct {
	sync.Mutex
	m map[string]map[string]float64 // key → peer sub-benchmark → ratio
}{m: map[string]map[string]float64{}}

// recordPeer notes the ratio v of the peer sub-benchmark b for key,
// replacing what its earlier runs noted; v <= 0 (unknown) forgets it.
func recordPeer(b testing.TB, key string, v float64) {
	peerBest.Lock()
	defer peerBest.Unlock()
	m := peerBest.m[key]
	if m == nil {
		m = map[string]float64{}
		peerBest.m[key] = m
	}
	if v > 0 {
		m[b.Name()] = v
	} else {
		delete(m, b.Name())
	}
}

// bestPeer returns the best ratio recorded for key (the highest when
// higher is better, else the lowest); 0 when no peer recorded one.
func bestPeer(key string, higher bool) float64 {
	peerBest.Lock()
	defer peerBest.Unlock()
	best := 0.0
	for _, v := range peerBest.m[key] {
		if best == 0 || (higher && v > best) || (!higher && v < best) {
			best = v
		}
	}
	return best
}

// reportVsPeer reports v divided by the best peer's ratio for key, under
// unit, when a peer of the scenario ran before.
func reportVsPeer(b *testing.B, key string, v float64, unit string, higher bool) {
	reportRatio(b, ratio(v, bestPeer(key, higher)), unit)
}

// peerKey is the key of the best-peer table; reliable is the class.
func peerKey(scenario string, reliable bool) string {
	if reliable {
		return scenario + "/reliable"
	}
	return scenario + "/unreliable"
}

// kcp-go in fast mode, as its README and the KCP README recommend for
// latency-sensitive traffic such as games: nodelay on, a 10 ms internal
// update interval, fast retransmit after 2 duplicate ACKs, congestion
// control off (SetNoDelay(1, 10, 2, 1)); send and receive windows of 1,024
// segments (kcp-go's own tests use the same; the default is 32). Its FEC
// stays off (0 data and 0 parity shards): the README presents FEC as a
// trade of bandwidth for recovery on lossy links, which loopback is not,
// and pumpnet has none. No packet encryption (a nil BlockCrypt): kcp-go's
// crypto is optional; pumpnet always encrypts, ENet never does.
// SetWriteDelay stays false (its default): each Write flushes at once.
// SetACKNoDelay stays false (its default): ACKs ride on the next data or
// go out at the next update.
func tuneKCP(s *kcp.UDPSession) {
	s.SetNoDelay(1, 10, 2, 1)
	s.SetWindowSize(1024, 1024)
}

// kcpDatagrams returns the datagrams kcp-go received and sent so far in
// this process (its SNMP counters, every session).
func kcpDatagrams() (in, out uint64) {
	s := kcp.DefaultSnmp.Copy()
	return s.InPkts, s.OutPkts
}
