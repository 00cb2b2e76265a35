package linkcond_test

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

var (
	addrA = netip.MustParseAddrPort("127.0.0.1:1000") // the conditioned side
	addrB = netip.MustParseAddrPort("127.0.0.1:2000") // the plain peer
)

// rig is a conditioned conn on A and a plain fakenet peer on B.
type rig struct {
	net  *fakenet.Network
	raw  *fakenet.Conn // A, wrapped by lc
	lc   *linkcond.Conn
	peer *fakenet.Conn // B
}

// newRig builds a rig; call it inside the synctest bubble. Both queues are
// large enough for the statistical tests, so fakenet itself drops nothing.
func newRig(t testing.TB, cfg linkcond.Config) *rig {
	t.Helper()
	n := fakenet.New()
	raw, err := n.ListenQueue(addrA, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := n.ListenQueue(addrB, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := linkcond.Wrap(raw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lc.Close()
		peer.Close()
	})
	return &rig{net: n, raw: raw, lc: lc, peer: peer}
}

// packetOf encodes a sequence number into a datagram of size bytes (≥ 8).
func packetOf(i, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, uint64(i))
	return b
}

// arrival is one datagram received by a collector.
type arrival struct {
	idx int
	at  time.Duration // since the collector started
	n   int
}

// collector reads a conn on its own goroutine until the conn is closed and
// records every datagram.
type collector struct {
	mu   sync.Mutex
	got  []arrival
	done chan struct{}
}

type reader interface {
	ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
}

func collect(r reader) *collector {
	c := &collector{done: make(chan struct{})}
	t0 := time.Now()
	go func() {
		defer close(c.done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := r.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			a := arrival{idx: int(binary.BigEndian.Uint64(buf)), at: time.Since(t0), n: n}
			c.mu.Lock()
			c.got = append(c.got, a)
			c.mu.Unlock()
		}
	}()
	return c
}

// arrivals returns what was received so far, in arrival order.
func (c *collector) arrivals() []arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]arrival(nil), c.got...)
}

// counts returns how many copies of each index 0..n-1 arrived.
func counts(got []arrival, n int) []int {
	k := make([]int, n)
	for _, a := range got {
		k[a.idx]++
	}
	return k
}

// inversions counts arrivals whose index is lower than an earlier arrival's.
func inversions(got []arrival) int {
	inv, highest := 0, -1
	for _, a := range got {
		if a.idx < highest {
			inv++
		}
		highest = max(highest, a.idx)
	}
	return inv
}

// within fails t unless got is within tol of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if got < want-tol || got > want+tol {
		t.Errorf("%s = %v, want %v ± %v", what, got, want, tol)
	}
}

// checkInvariants checks the bookkeeping identities of DirectionStats.
func checkInvariants(t *testing.T, dir string, s linkcond.DirectionStats) {
	t.Helper()
	if s.Packets != s.Passed+s.Dropped() {
		t.Errorf("%s: Packets %d != Passed %d + Dropped %d", dir, s.Packets, s.Passed, s.Dropped())
	}
	if s.Passed+s.Duplicated != s.Delivered+uint64(s.Pending)+s.WriteErrors {
		t.Errorf("%s: Passed %d + Duplicated %d != Delivered %d + Pending %d + WriteErrors %d",
			dir, s.Passed, s.Duplicated, s.Delivered, s.Pending, s.WriteErrors)
	}
}
