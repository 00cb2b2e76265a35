package peers

import (
	"sync"
	"testing"

	"github.com/xtaci/kcp-go/v5"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
)

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
	harness.ReportRatio(b, harness.Ratio(v, bestPeer(key, higher)), unit)
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
