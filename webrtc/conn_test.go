//go:build !js

package webrtc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestReliableOrdered(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	if sc.PeerFingerprint().IsZero() || c.PeerFingerprint() != s.Fingerprint() {
		t.Fatalf("fingerprints: server sees %v, client sees %v, server is %v", sc.PeerFingerprint(), c.PeerFingerprint(), s.Fingerprint())
	}
	if !c.RemoteAddr().Addr().IsLoopback() || c.RemoteAddr().Port() != uint16(s.LocalAddr().(*net.UDPAddr).Port) {
		t.Fatalf("client's RemoteAddr %v, server at %v", c.RemoteAddr(), s.LocalAddr())
	}
	const n = 2000
	for i := range n {
		for {
			err := c.Send(0, binary.BigEndian.AppendUint32(nil, uint32(i)))
			if err == nil {
				break
			}
			if !errors.Is(err, ErrQueueFull) {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i := range n {
		m, ok := recv(t, sc, 10*time.Second)
		if !ok {
			t.Fatalf("message %d not received", i)
		}
		if m.Channel != 0 || binary.BigEndian.Uint32(m.Data) != uint32(i) {
			t.Fatalf("message %d: channel %d, data %x", i, m.Channel, m.Data)
		}
	}
}

func TestReliableUnorderedAllArrive(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	const n = 1000
	for i := range n {
		if err := sc.Send(1, binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[uint32]bool)
	for range n {
		m, ok := recv(t, c, 10*time.Second)
		if !ok {
			t.Fatalf("%d of %d received", len(seen), n)
		}
		v := binary.BigEndian.Uint32(m.Data)
		if m.Channel != 1 || seen[v] {
			t.Fatalf("channel %d, value %d (seen before: %v)", m.Channel, v, seen[v])
		}
		seen[v] = true
	}
}

// TestUnreliableModes sends bursts on channels 2 and 3: unreliable ones may
// drop (on loopback they rarely do) but never duplicate, and sequenced ones
// never go backwards.
func TestUnreliableModes(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	const n = 3000
	sent := 0
	for i := range n {
		for ch := uint8(2); ch <= 3; ch++ {
			if err := c.Send(ch, binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil && !errors.Is(err, ErrQueueFull) {
				t.Fatal(err)
			}
		}
		sent++
	}
	got := map[uint8]int{}
	seen2 := make(map[uint32]bool)
	var last3 int64 = -1
	for {
		m, ok := recv(t, sc, 2*time.Second)
		if !ok {
			break
		}
		v := binary.BigEndian.Uint32(m.Data)
		switch m.Channel {
		case 2:
			if seen2[v] {
				t.Fatalf("unreliable: %d delivered twice", v)
			}
			seen2[v] = true
		case 3:
			if int64(v) <= last3 {
				t.Fatalf("sequenced went backwards: %d after %d", v, last3)
			}
			last3 = int64(v)
		default:
			t.Fatalf("message on channel %d", m.Channel)
		}
		got[m.Channel]++
	}
	if got[2] == 0 || got[3] == 0 {
		t.Fatalf("received %v of %d per channel", got, sent)
	}
	t.Logf("received %v of %d per channel; server stats %+v", got, sent, sc.ChannelStats())
}

func TestSequencedDropsOlder(t *testing.T) {
	s := listen(t, nil)
	_, sc := pair(t, s, nil)
	// Deliver by hand what a reordering network would: 5, 3, 6.
	for _, seq := range []uint32{5, 3, 6} {
		sc.onData(3, binary.BigEndian.AppendUint32(nil, seq))
	}
	var got []uint32
	for m, ok := sc.Receive(); ok; m, ok = sc.Receive() {
		got = append(got, uint32(len(m.Data)))
	}
	if st := sc.ChannelStats(); len(got) != 2 || st.DropSequenced != 1 {
		t.Fatalf("delivered %d, dropped %d; want 2 delivered, 1 dropped", len(got), st.DropSequenced)
	}
}

func TestLargeMessages(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), DefaultMaxMessageSize/16)
	big = append(big, make([]byte, DefaultMaxMessageSize-len(big))...)
	for _, ch := range []uint8{0, 1} {
		if err := c.Send(ch, big); err != nil {
			t.Fatal(err)
		}
		m, ok := recv(t, sc, 10*time.Second)
		if !ok || m.Channel != ch || !bytes.Equal(m.Data, big) {
			t.Fatalf("channel %d: got %d bytes (ok %v), want %d", ch, len(m.Data), ok, len(big))
		}
	}
	if err := c.Send(0, make([]byte, DefaultMaxMessageSize+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("Send above the limit: %v, want ErrMessageTooLarge", err)
	}
	if err := c.Send(9, nil); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("Send on channel 9: %v, want ErrNoChannel", err)
	}
}

func TestSendQueueFull(t *testing.T) {
	s := listen(t, nil)
	cfg := testConfig()
	cfg.SendQueueBytes = 64 << 10
	c, _ := pair(t, s, &cfg)
	msg := make([]byte, 16<<10)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = c.Send(0, msg)
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("1000 sends of 16 KiB into a 64 KiB queue: %v, want ErrQueueFull", err)
	}
}

func TestCloseReasonReachesPeer(t *testing.T) {
	s := listen(t, nil)
	for _, fromClient := range []bool{true, false} {
		c, sc := pair(t, s, nil)
		closer, peer := sc, c
		if fromClient {
			closer, peer = c, sc
		}
		closer.CloseWithReason(CodeApplication+7, "game over: red wins")
		select {
		case <-peer.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("peer did not see the close")
		}
		var ce *CloseError
		if !errors.As(peer.Err(), &ce) || ce.Code != CodeApplication+7 || ce.Reason != "game over: red wins" || !ce.Remote {
			t.Fatalf("peer's Err = %v, want the code and reason, remote", peer.Err())
		}
		if !errors.Is(peer.Err(), net.ErrClosed) {
			t.Fatal("CloseError does not match net.ErrClosed")
		}
		if err := closer.Send(0, []byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
	}
}

func TestShutdownDeliversSent(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	const n = 300
	msg := make([]byte, 1000)
	for i := range n {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if err := c.Send(0, msg); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, ok := recv(t, sc, 5*time.Second)
		if !ok || binary.BigEndian.Uint32(m.Data) != uint32(i) {
			t.Fatalf("message %d missing after Shutdown (ok %v)", i, ok)
		}
	}
	<-sc.Done()
	var ce *CloseError
	if !errors.As(sc.Err(), &ce) || ce.Code != CodeNormal || !ce.Remote {
		t.Fatalf("server's Err %v, want a normal remote close", sc.Err())
	}
}

func TestStatsAndIdentity(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	for i := range 50 {
		if err := c.Send(0, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if !waitFor(10*time.Second, func() bool { st := c.Stats(); return st.RTT > 0 && st.BytesOut > 0 && st.PacketsIn > 0 }) {
		t.Fatalf("client stats %+v: no RTT or wire counters", c.Stats())
	}
	for range 50 {
		if _, ok := recv(t, sc, 5*time.Second); !ok {
			t.Fatal("lost a reliable message")
		}
	}
	st := sc.ChannelStats()
	if st.MessagesIn != 50 || st.PayloadIn == 0 {
		t.Fatalf("server stats %+v, want 50 messages in", st)
	}
}

// TestPeerVanishes: a client whose peer connection closes without a
// close message ends the server's connection.
func TestPeerVanishes(t *testing.T) {
	s := listen(t, nil)
	c, sc := pair(t, s, nil)
	c.mu.Lock()
	c.closeErr = &CloseError{Code: CodeInternal, Reason: "test: vanished"}
	c.timer.Stop()
	c.mu.Unlock()
	c.teardown()
	select {
	case <-sc.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("server did not notice the vanished client")
	}
}

// TestIdleTimeout: a client that stops sending (no pings, no pongs, no
// data) is closed by the server with CodeTimeout after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.IdleTimeout = time.Second
	cfg.KeepAlive = 100 * time.Millisecond
	s := listen(t, &ServerConfig{Config: cfg})
	c, sc := pair(t, s, &cfg)
	c.mu.Lock()
	c.timer.Stop()
	c.mu.Unlock()
	c.ctrl.OnMessage(func(webrtc.DataChannelMessage) {})
	start := time.Now()
	select {
	case <-sc.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("server did not time the silent client out")
	}
	if !errors.Is(sc.Err(), ErrTimeout) {
		t.Fatalf("server's Err %v, want a timeout", sc.Err())
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("timed out after %v, IdleTimeout is 1s", d)
	}
	// The client (deaf to control messages here) sees its channels close.
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("client did not see the server close")
	}
}
