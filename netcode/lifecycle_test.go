package netcode

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestCloseReasonReachesPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		srv, cli := p.connect(t)
		if err := cli.CloseWithReason(CodeApplication+3, "bye now"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-srv.Done():
		case <-time.After(time.Second):
			t.Fatal("server never saw the close")
		}
		var ce *CloseError
		if !errors.As(srv.Err(), &ce) || !ce.Remote || ce.Code != CodeApplication+3 || ce.Reason != "bye now" {
			t.Fatalf("server Err = %v", srv.Err())
		}
		if !errors.Is(srv.Err(), net.ErrClosed) {
			t.Fatal("CloseError does not match net.ErrClosed")
		}
		if err := cli.Send(0, []byte("late")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Send after Close = %v, want net.ErrClosed", err)
		}
		// Idempotent.
		if err := cli.Close(); err != nil {
			t.Fatal(err)
		}
		if err := cli.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIdleTimeoutAndKeepAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{IdleTimeout: 3 * time.Second, KeepAlive: 500 * time.Millisecond}
		p := newFakePair(t, cfg, cfg)
		srv, cli := p.connect(t)
		// Quiet for far longer than the idle timeout: keepalives hold it
		// up even though nobody calls Receive or Send.
		time.Sleep(30 * time.Second)
		if srv.Err() != nil || cli.Err() != nil {
			t.Fatalf("idle connection died: %v / %v", srv.Err(), cli.Err())
		}
		// Cut the client off: the server times out.
		p.cliTap.mu.Lock()
		p.cliTap.dropFrom = 1
		p.cliTap.mu.Unlock()
		start := time.Now()
		<-srv.Done()
		if el := time.Since(start); el < 2*time.Second || el > 4*time.Second {
			t.Fatalf("idle timeout after %v, want about 3s", el)
		}
		if !errors.Is(srv.Err(), ErrTimeout) {
			t.Fatalf("Err = %v, want ErrTimeout", srv.Err())
		}
	})
}

func TestShutdownFlushesReliableData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{Link: &LinkConditions{Seed: 3}}
		p := newFakePair(t, nil, cfg)
		srv, cli := p.connect(t)
		d := lossy
		d.Loss = 0.3
		p.conditioner(t).SetConfig(LinkConditions{Send: d, Receive: d})
		const n = 500
		for i := range n {
			if err := cli.Send(0, seqMsg(uint64(i), 200)); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cli.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		next := uint64(0)
		receiveUntil(t, srv, time.Minute, func(m Message) {
			if msgSeq(t, m.Data) != next {
				t.Fatalf("out of order")
			}
			next++
		}, func() bool { return next == n })
	})
}

func TestEndpointCloseUnblocksAccept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		errc := make(chan error, 1)
		go func() {
			_, err := p.srv.Accept(context.Background())
			errc <- err
		}()
		time.Sleep(time.Millisecond)
		p.srv.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close = %v", err)
		}
	})
}

func TestEndpointCloseEndsConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		srv, cli := p.connect(t)
		p.srv.Close()
		<-srv.Done()
		select {
		case <-cli.Done():
		case <-time.After(time.Second):
			t.Fatal("client not told that the server endpoint closed")
		}
		var ce *CloseError
		if !errors.As(cli.Err(), &ce) || ce.Code != CodeEndpointClosed {
			t.Fatalf("client Err = %v", cli.Err())
		}
	})
}

func TestFlushDelayTimerSendsUnflushed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, &Config{FlushDelay: 20 * time.Millisecond})
		srv, cli := p.connect(t)
		time.Sleep(100 * time.Millisecond) // let the handshake's acks settle
		start := time.Now()
		cli.Send(0, []byte("no flush"))
		var got string
		receiveUntil(t, srv, time.Second, func(m Message) { got = string(m.Data) }, func() bool { return got != "" })
		if el := time.Since(start); el < 20*time.Millisecond || el > 100*time.Millisecond {
			t.Fatalf("unflushed message arrived after %v, want about FlushDelay", el)
		}
	})
}

func TestQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{SendQueueBytes: 64 << 10, MaxMessageSize: 16 << 10}
		p := newFakePair(t, cfg, cfg)
		_, cli := p.connect(t)
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = cli.Send(0, make([]byte, 1000))
		}
		if !errors.Is(err, ErrQueueFull) {
			t.Fatalf("Send never reported a full queue: %v", err)
		}
		if err := cli.Send(0, make([]byte, 20<<10)); !errors.Is(err, ErrMessageTooLarge) {
			t.Fatalf("oversized Send = %v", err)
		}
	})
}

func TestConfigErrorsAtListen(t *testing.T) {
	for name, cfg := range map[string]*Config{
		"recv buffer below one message": {RecvBufferBytes: 1000},
		"keepalive above idle":          {KeepAlive: time.Minute},
		"datagram too small":            {MaxDatagramSize: 100},
		"unknown mode":                  {Channels: []DeliveryMode{9}},
		"psk without identity":          {PSK: func([]byte) ([]byte, error) { return nil, nil }},
	} {
		if _, err := Listen("127.0.0.1:0", cfg); err == nil {
			t.Errorf("%s: Listen accepted the config", name)
		}
	}
}

func TestChannelConfigMismatchIsClear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, &Config{Channels: []DeliveryMode{ReliableOrdered, Unreliable}}, nil)
		go p.srv.Accept(t.Context())
		_, err := p.cli.Dial(t.Context(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()})
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != CodeConfigMismatch ||
			!strings.Contains(err.Error(), "channels [reliable-ordered unreliable]") {
			t.Fatalf("Dial with different channels = %v", err)
		}
	})
}
