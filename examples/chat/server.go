package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/chat/chatroom"
	"github.com/pumpnet/pumpnet/netcode"
)

// serve runs a chat server on addr (with the identity kept in keyFile, if
// set) until ctx ends, then tells every client
// it is shutting down. With lan.advertise, it is advertised on the LAN
// meanwhile. It blocks.
func serve(ctx context.Context, addr, keyFile string, lan lanOptions, out io.Writer) error {
	var cfg engine.ServerConfig
	if keyFile != "" {
		cert, created, err := netcode.LoadKeyFile(keyFile)
		if err != nil {
			return err
		}
		cfg.Net.Certificate = &cert
		if created {
			fmt.Fprintf(out, "chat: new identity saved in %s (restarts keep this connect string)\n", keyFile)
		} else {
			fmt.Fprintf(out, "chat: identity loaded from %s\n", keyFile)
		}
	}
	srv, err := engine.Listen(addr, &cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	room, err := chatroom.New(srv, out)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "chat: serving on %s\n", srv.Addr())
	fmt.Fprintf(out, "chat: connect string %s\n", srv.ConnectString())
	fmt.Fprintf(out, "chat: join with: go run ./examples/chat -connect '%s' -nick NAME\n", srv.ConnectString())
	if lan.advertise {
		ad, name, err := advertise(srv, lan)
		if err != nil {
			return err
		}
		defer ad.Close() // before srv.Close
		room.OnPlayers = func() { advertisePlayers(srv, ad, out) }
		fmt.Fprintf(out, "chat: advertised on the LAN as %q; or join with: go run ./examples/chat -lan -nick NAME\n", name)
	}
	for ctx.Err() == nil {
		// Sleep until traffic arrives, or a newcomer's grace for its
		// nickname ends.
		srv.PumpWait(ctx, chatroom.NickGrace/4)
		room.Tick(time.Now())
	}
	// Gracefully: what the players were sent is acknowledged first, so
	// they see a normal close with the reason (Close would tell them that
	// data was dropped).
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(sctx, "chat server shutting down")
	cancel()
	fmt.Fprintln(out, "chat: server stopped")
	return nil
}
