package netcode

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

var (
	srvAddr = netip.MustParseAddrPort("10.1.0.1:31425")
	cliAddr = netip.MustParseAddrPort("10.1.0.2:40000")
)

// tap wraps a PacketConn and can record or drop what it writes.
type tap struct {
	PacketConn
	mu       sync.Mutex
	record   bool
	written  [][]byte
	dropFrom int // drop every write after this many (0: never)
	writes   int
	loss     float64 // drop this fraction of writes (a path under attack)
	lossRNG  *rand.Rand
}

// setLoss drops fraction p of the writes from now on (0: none, 1: a path
// that went dark), deterministically.
func (t *tap) setLoss(p float64) {
	t.mu.Lock()
	t.loss = p
	if t.lossRNG == nil {
		t.lossRNG = rand.New(rand.NewPCG(12, 34))
	}
	t.mu.Unlock()
}

func (t *tap) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	t.mu.Lock()
	t.writes++
	drop := (t.dropFrom > 0 && t.writes > t.dropFrom) || (t.loss > 0 && t.lossRNG.Float64() < t.loss)
	if t.record {
		t.written = append(t.written, append([]byte(nil), b...))
	}
	t.mu.Unlock()
	if drop {
		return len(b), nil
	}
	return t.PacketConn.WriteToUDPAddrPort(b, to)
}

func (t *tap) captured() [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([][]byte(nil), t.written...)
}

type fakePair struct {
	net      *fakenet.Network
	srv, cli *Endpoint
	cliTap   *tap
	srvAddr  netip.AddrPort
}

// newFakePair makes a server and a client endpoint on an in-memory network.
// The client's socket goes through a tap (outermost) and, if cliCfg.Link is
// set, the link conditioner.
func newFakePair(t *testing.T, srvCfg, cliCfg *Config) *fakePair {
	t.Helper()
	return newFakePairAt(t, srvAddr, cliAddr, srvCfg, cliCfg)
}

// newFakePairAt is newFakePair at given addresses, on its own network.
func newFakePairAt(t *testing.T, srvAddr, cliAddr netip.AddrPort, srvCfg, cliCfg *Config) *fakePair {
	t.Helper()
	n := fakenet.New()
	spc, err := n.Listen(srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ListenPacket(spc, srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	cpc, err := n.Listen(cliAddr)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{PacketConn: cpc}
	cli, err := NewEndpoint(tp, cliCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return &fakePair{net: n, srv: srv, cli: cli, cliTap: tp, srvAddr: srvAddr}
}

// connect dials the server from the client and accepts it.
func (p *fakePair) connect(t *testing.T) (server, client *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := p.srv.Accept(ctx)
		ch <- res{c, err}
	}()
	to := srvAddr
	if p.srvAddr.IsValid() {
		to = p.srvAddr
	}
	cc, err := p.cli.Dial(ctx, to, DialOptions{Fingerprint: p.srv.Fingerprint()})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatalf("accept: %v", r.err)
	}
	return r.c, cc
}

// conditioner returns the client's link conditioner (cliCfg.Link was set).
func (p *fakePair) conditioner(t *testing.T) *linkcond.Conn {
	t.Helper()
	lc, ok := p.cli.pc.(*linkcond.Conn)
	if !ok {
		t.Fatal("client endpoint has no link conditioner")
	}
	return lc
}

// seqMsg is a test message: an 8-byte sequence number padded to size.
func seqMsg(seq uint64, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, seq)
	for i := 8; i < len(b); i++ {
		b[i] = byte(seq) + byte(i)
	}
	return b
}

func msgSeq(t *testing.T, b []byte) uint64 {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("message of %d bytes", len(b))
	}
	s := binary.BigEndian.Uint64(b)
	for i := 8; i < len(b); i++ {
		if b[i] != byte(s)+byte(i) {
			t.Fatalf("message %d corrupted at byte %d", s, i)
		}
	}
	return s
}

// receiveUntil drains c until done returns true or the (virtual) deadline.
func receiveUntil(t *testing.T, c *Conn, d time.Duration, each func(Message), done func() bool) {
	t.Helper()
	deadline := time.After(d)
	for !done() {
		select {
		case <-c.Wake():
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v", d)
		}
		for m, ok := c.Receive(); ok; m, ok = c.Receive() {
			each(m)
		}
	}
}

// sendAll sends n messages and flushes. It may run on its own goroutine,
// so it reports with Errorf.
func sendAll(t *testing.T, c *Conn, ch uint8, n, size int) {
	for i := 0; i < n; {
		err := c.Send(ch, seqMsg(uint64(i), size))
		if err != nil {
			t.Errorf("send %d: %v", i, err)
			return
		}
		i++
		if i%64 == 0 {
			c.Flush()
			time.Sleep(time.Millisecond)
		}
	}
	c.Flush()
}

var lossy = linkcond.Direction{
	Latency:   10 * time.Millisecond,
	Jitter:    3 * time.Millisecond,
	Loss:      0.20,
	Duplicate: 0.02,
	Reorder:   0.05,
}
