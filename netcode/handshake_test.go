package netcode

import (
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// holdDTLS delays every DTLS datagram a socket writes, so that protected
// packets written after them overtake them.
type holdDTLS struct {
	PacketConn
	delay time.Duration
	wg    sync.WaitGroup
}

func (h *holdDTLS) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if len(b) > 0 && wire.IsDTLS(b[0]) {
		c := append([]byte(nil), b...)
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			time.Sleep(h.delay)
			h.PacketConn.WriteToUDPAddrPort(c, to)
		}()
		return len(b), nil
	}
	return h.PacketConn.WriteToUDPAddrPort(b, to)
}

func (h *holdDTLS) Close() error { err := h.PacketConn.Close(); h.wg.Wait(); return err }

// The server finishes its handshake first and sends KEYS_READY while its
// last DTLS flight is still on the way: the client must keep the early
// packet, not lose it.
func TestEarlyPacketsQueuedUntilKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		spc, _ := n.Listen(srvAddr)
		srv, err := ListenPacket(&holdDTLS{PacketConn: spc, delay: 20 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cpc, _ := n.Listen(cliAddr)
		cli, err := NewEndpoint(cpc, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		p := &fakePair{net: n, srv: srv, cli: cli}
		sc, cc := p.connect(t)
		if q := cli.Stats().EarlyQueued; q == 0 {
			t.Fatal("no early packet was queued: the test did not reorder anything")
		}
		exchange(t, sc, cc, "after early packets")
		exchange(t, cc, sc, "and back")
	})
}

// countingConn counts bytes per direction for one peer address.
type countingConn struct {
	PacketConn
	peer      netip.AddrPort
	mu        sync.Mutex
	in, out   int
	maxRatio  float64
	stopCount bool
}

func (c *countingConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, err := c.PacketConn.ReadFromUDPAddrPort(b)
	if err == nil && from == c.peer {
		c.mu.Lock()
		c.in += n
		c.mu.Unlock()
	}
	return n, from, err
}

func (c *countingConn) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	c.mu.Lock()
	if to == c.peer && !c.stopCount && len(b) > 0 && !wire.IsPumpnet(b[0]) {
		c.out += len(b)
		if c.in > 0 {
			c.maxRatio = max(c.maxRatio, float64(c.out)/float64(c.in))
		} else {
			c.maxRatio = float64(c.out) * 1e9 // sent before receiving anything
		}
	}
	c.mu.Unlock()
	return c.PacketConn.WriteToUDPAddrPort(b, to)
}

// Before a handshake completes, the server never sends an address more than
// three times what it received from it, even when the client's later
// flights are lost (so pion retransmits its certificate flight).
func TestAmplificationLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := fakenet.New()
		spc, _ := n.Listen(srvAddr)
		cnt := &countingConn{PacketConn: spc, peer: cliAddr}
		srv, err := ListenPacket(cnt, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cpc, _ := n.Listen(cliAddr)
		// The client gets its cookie and first flight out, then goes deaf
		// and mute: the server keeps retransmitting into the void.
		tp := &tap{PacketConn: cpc, dropFrom: 2}
		cli, err := NewEndpoint(tp, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		cli.Dial(t.Context(), srvAddr, DialOptions{Fingerprint: srv.Fingerprint()})
		cnt.mu.Lock()
		defer cnt.mu.Unlock()
		if cnt.out == 0 {
			t.Fatal("server sent nothing")
		}
		if cnt.maxRatio > 3 {
			t.Fatalf("server sent %.2fx what it received before the handshake completed (in %d, out %d)",
				cnt.maxRatio, cnt.in, cnt.out)
		}
		if srv.Stats().AmplificationDrops == 0 {
			t.Fatal("no write was held back: the limit was never exercised")
		}
		t.Logf("in %d, out %d, max ratio %.2f, held back %d", cnt.in, cnt.out, cnt.maxRatio, srv.Stats().AmplificationDrops)
	})
}

// An authenticated peer that sends fragments of messages it never completes
// cannot make the receiver hold more than RecvBufferBytes; a second client of
// the same server is unaffected.
func TestFragmentBombBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		modes := []DeliveryMode{ReliableOrdered, Unreliable}
		cfg := &Config{Channels: modes, RecvBufferBytes: 256 << 10, MaxMessageSize: 64 << 10}
		p := newFakePair(t, cfg, cfg)
		srv, cli := p.connect(t)
		frag := make([]byte, 1000)
		sendRaw := func(payload []byte) {
			cli.mu.Lock()
			defer cli.mu.Unlock()
			buf := make([]byte, wire.HeaderLen+len(payload)+wire.TagLen)
			copy(buf[wire.HeaderLen:], payload)
			pkt, pn, err := cli.sealer.Seal(buf, cli.remoteCID, buf[wire.HeaderLen:wire.HeaderLen+len(payload)])
			if err != nil {
				t.Fatal(err)
			}
			cli.sent.Sent(pn, time.Now(), len(pkt), true, nil) // so the server's acks are legitimate
			cli.ep.writeTo(pkt, cli.raddr)
		}
		for seq := range uint64(2000) {
			// Declared 64 fragments of 1000 bytes (just under the 64 KiB
			// MaxMessageSize), only the first ever sent; both channels.
			sendRaw(wire.AppendFragment(nil, 0, seq%1000, 0, 64, frag))
			sendRaw(wire.AppendFragment(nil, 1, seq, 0, 64, frag))
			if seq%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		time.Sleep(10 * time.Millisecond)
		srv.mu.Lock()
		held := srv.receiver.BufferedBytes()
		srv.mu.Unlock()
		if held > 256<<10 {
			t.Fatalf("receiver holds %d bytes, bound %d", held, 256<<10)
		}
		if held == 0 {
			t.Fatal("nothing buffered: the bomb never reached the receiver")
		}
		// Unreliable sets expire; the bomber's reliable sets stay (bounded).
		time.Sleep(5 * time.Second)
		srv.mu.Lock()
		after := srv.receiver.BufferedBytes()
		srv.mu.Unlock()
		if after >= held {
			t.Fatalf("expired unreliable sets not freed: %d then %d bytes", held, after)
		}
		// Another client is unaffected.
		opc, _ := p.net.Listen(netip.MustParseAddrPort("10.1.0.7:7000"))
		other, _ := NewEndpoint(opc, cfg)
		defer other.Close()
		q := &fakePair{net: p.net, srv: p.srv, cli: other}
		s2, c2 := q.connect(t)
		exchange(t, c2, s2, "unaffected")
	})
}
