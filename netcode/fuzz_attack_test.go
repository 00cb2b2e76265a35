package netcode

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
)

// parkingConn passes reads through until park is called; then the reader
// that calls it next stops for good (until Close), so that a test can drive
// Endpoint.handleDatagram itself, synchronously and deterministically.
type parkingConn struct {
	PacketConn
	park   chan struct{} // closed: the next read parks
	parked chan struct{} // closed once the reader parked
	closed chan struct{}
	once   sync.Once
}

func newParkingConn(pc PacketConn) *parkingConn {
	return &parkingConn{PacketConn: pc, park: make(chan struct{}), parked: make(chan struct{}), closed: make(chan struct{})}
}

func (p *parkingConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, err := p.PacketConn.ReadFromUDPAddrPort(b)
	select {
	case <-p.park:
		close(p.parked)
		<-p.closed
		return 0, netip.AddrPort{}, net.ErrClosed
	default:
	}
	return n, from, err
}

func (p *parkingConn) Close() error {
	p.once.Do(func() { close(p.closed) })
	return p.PacketConn.Close()
}

// FuzzEndpointDatagram hands arbitrary datagrams to a server endpoint that
// has an established connection, as its reader would, from the connected
// client's address or from a stranger's: the whole demultiplexer
// (PROTOCOL.md §1), the cookie checks, the handshake inbox and the
// connection's packet protection see them. Nothing may panic or block, and
// the connection must survive everything that cannot authenticate. The
// endpoints are made once per fuzzing process, in real time on the
// in-memory network; then the server's reader is parked and the fuzz
// function calls handleDatagram itself.
func FuzzEndpointDatagram(f *testing.F) {
	n := fakenet.New()
	srvA := netip.MustParseAddrPort("10.8.0.1:1")
	cliA := netip.MustParseAddrPort("10.8.0.2:1")
	strangerA := netip.MustParseAddrPort("10.8.0.3:1")
	spc, _ := n.Listen(srvA)
	cpc, _ := n.Listen(cliA)
	// Quiet connections (no keepalives, no idle timeout during a run), so
	// that coverage comes from the datagrams, not from timers.
	cfg := &Config{MaxAuthFailures: 1 << 36, IdleTimeout: 2 * time.Hour, KeepAlive: time.Hour}
	park := newParkingConn(spc)
	srvEP, err := ListenPacket(park, cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srvEP.Close() })
	tp := &tap{PacketConn: cpc, record: true}
	cliEP, err := NewEndpoint(tp, cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cliEP.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acc := make(chan *Conn, 1)
	go func() { c, _ := srvEP.Accept(ctx); acc <- c }()
	cli, err := cliEP.Dial(ctx, srvA, DialOptions{Fingerprint: srvEP.Fingerprint()})
	if err != nil {
		f.Fatal(err)
	}
	srv := <-acc
	if srv == nil {
		f.Fatal("accept failed")
	}
	if err := cli.Send(0, []byte("seed")); err != nil {
		f.Fatal(err)
	}
	cli.Flush()
	time.Sleep(50 * time.Millisecond)
	for _, b := range tp.captured() {
		f.Add(true, b)
	}
	tp.mu.Lock()
	tp.record = false
	tp.mu.Unlock()
	// Park the server's reader: a last datagram wakes it into the trap.
	close(park.park)
	n.Inject(strangerA, srvA, []byte{0})
	<-park.parked

	hdr := make([]byte, 40)
	hdr[0] = 0x80
	copy(hdr[1:], srv.localCID[:])
	f.Add(true, hdr)
	f.Add(false, hdr[:20])
	f.Add(false, appendCookieRequest(nil))
	f.Add(false, []byte{typeCookie})
	f.Add(false, []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(false, []byte{})

	f.Fuzz(func(t *testing.T, fromClient bool, b []byte) {
		from := strangerA
		if fromClient {
			from = cliA
		}
		srvEP.handleDatagram(time.Now(), b, from)
		if err := srv.Err(); err != nil {
			t.Fatalf("the server's connection ended: %v", err)
		}
		if err := cli.Err(); err != nil {
			t.Fatalf("the client's connection ended: %v", err)
		}
	})
}

// FuzzDescribeParams renders arbitrary KEYS_READY parameters (the peer's,
// in a configuration-mismatch reason) without panicking.
func FuzzDescribeParams(f *testing.F) {
	f.Add((&config{modes: nil, Config: Config{ReliableWindow: 1024, MaxMessageSize: 1 << 20}}).channelParams())
	f.Add([]byte{0, 4, 0, 1, 2, 3, 0x80, 8, 0x80, 0x80, 0x40})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if s := describeParams(b); s == "" {
			t.Fatal("empty description")
		}
	})
}
