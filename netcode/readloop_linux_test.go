//go:build linux

package netcode

import (
	"net"
	"testing"
	"time"
)

// TestQuietSocketOneReadPerDatagram: on a quiet socket (datagrams one at a
// time, as in a ping-pong) the reader makes one read system call per
// datagram. It used to make two: the read that got the datagram and one
// that found the socket empty (EAGAIN) before waiting, on the round trip's
// critical path when the reader and the application share a thread.
func TestQuietSocketOneReadPerDatagram(t *testing.T) {
	uc := listenLoopback(t)
	ep, err := ListenPacket(uc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	m, ok := ep.io.(*mmsgIO)
	if !ok {
		t.Fatalf("a *net.UDPConn got %T, want batched I/O", ep.io)
	}
	tx, err := net.DialUDP("udp4", nil, uc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	// Let the reader start and wait on the empty socket.
	time.Sleep(20 * time.Millisecond)
	calls0 := m.readCalls.Load()
	const n = 50
	garbage := make([]byte, 100)
	for i := range n {
		if _, err := tx.Write(garbage); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for ep.Stats().DatagramsIn < uint64(i+1) {
			if time.Now().After(deadline) {
				t.Fatalf("datagram %d not read", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	calls := m.readCalls.Load() - calls0
	t.Logf("%d datagrams, one at a time: %d read calls", n, calls)
	// A few spare: a wake-up may find the datagram already taken.
	if calls > n+n/10 {
		t.Fatalf("%d read calls for %d datagrams arriving one at a time, want about one each", calls, n)
	}
}
