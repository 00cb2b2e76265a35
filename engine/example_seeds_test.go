package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// The accept hook turns clients away with a reason, inside Pump: the game
// never sees them, and the client's "disconnected" error matches
// netcode.ErrRefused and carries the reason.
func ExampleServer_OnAccept() {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	banned := map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true}
	const maxPlayers = 8
	srv.OnAccept(func(a engine.Arrival) error {
		switch {
		case banned[a.Addr.Addr()]:
			return errors.New("banned from this server")
		case a.Peers >= maxPlayers:
			return fmt.Errorf("server full (%d players)", maxPlayers)
		}
		return nil
	})
	srv.OnConnect(func(*engine.Peer) { fmt.Println("never called") })

	cl, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	done := false
	if err := cl.Handle("disconnected", func(d engine.Disconnected) {
		var ce *netcode.CloseError
		if errors.As(d.Err, &ce) {
			fmt.Println("refused:", errors.Is(d.Err, netcode.ErrRefused), ce.Reason)
		}
		done = true
	}); err != nil {
		fmt.Println(err)
		return
	}
	for deadline := time.Now().Add(5 * time.Second); !done && time.Now().Before(deadline); {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output: refused: true banned from this server
}

// A client and a server of different codecs are closed when they connect,
// with a reason naming both, before either sees the other.
func ExampleApplicationProtocol() {
	srv, err := engine.Listen("127.0.0.1:0", &engine.ServerConfig{Codec: codec.JSON(codec.Limits{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	cl, err := engine.Connect(srv.ConnectString(), nil) // msgpack, the default
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	done := false
	if err := cl.Handle("disconnected", func(d engine.Disconnected) {
		var ce *netcode.CloseError
		if errors.As(d.Err, &ce) {
			fmt.Println(ce.Code)
			fmt.Println(ce.Reason)
		}
		done = true
	}); err != nil {
		fmt.Println(err)
		return
	}
	for deadline := time.Now().Add(5 * time.Second); !done && time.Now().Before(deadline); {
		srv.Pump()
		cl.Pump()
		time.Sleep(time.Millisecond)
	}
	// Output:
	// configuration mismatch
	// application protocols differ: client "pumpnet engine 0, codec msgpack", server "pumpnet engine 0, codec json"
}

// SendOnce delivers one message over a temporary connection and returns
// once the server has acknowledged it.
func ExampleSendOnce() {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	got := make(chan string, 1)
	if err := engine.HandleFunc(srv, "chat", func(_ *engine.Peer, m Chat) { got <- m.Text }); err != nil {
		fmt.Println(err)
		return
	}
	// The server's game loop, on its own goroutine.
	ctx, stop := context.WithCancel(context.Background())
	loop := make(chan struct{})
	go func() {
		defer close(loop)
		for ctx.Err() == nil {
			srv.PumpWait(ctx, 50*time.Millisecond)
		}
		srv.Close()
	}()
	defer func() { stop(); <-loop }()

	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := engine.SendOnce(sctx, srv.ConnectString(), Chat{Action: "chat", Text: "postcard"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("delivered")
	select {
	case text := <-got:
		fmt.Println("server got:", text)
	case <-time.After(5 * time.Second):
		fmt.Println("not dispatched")
	}
	// Output:
	// delivered
	// server got: postcard
}
