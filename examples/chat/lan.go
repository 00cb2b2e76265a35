package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
	"unicode/utf8"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/termtext"
	"github.com/pumpnet/pumpnet/lobby"
)

// lanService is the DNS-SD service type of chat servers: they advertise
// _chat._udp.
const lanService = "chat"

// lanFindTimeout bounds how long a -lan client looks for a server.
const lanFindTimeout = 10 * time.Second

// lanSeats is what a server advertises as seats: the chat has no limit,
// and a record says at most 255.
const lanSeats = 255

// lanOptions are the -lan flags.
type lanOptions struct {
	advertise bool           // server: advertise on the LAN
	iface     *net.Interface // nil: every multicast-capable interface
}

// lanName is the name a server advertises: "chat on <host name>", at most
// lobby.MaxDisplayName bytes.
func lanName(host string) string {
	name := "chat"
	if host = termtext.Clean(host, lobby.MaxDisplayName); host != "" {
		name += " on " + host
	}
	for len(name) > lobby.MaxDisplayName {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	return name
}

// advertise makes srv visible to -lan clients until the Advertiser is
// closed.
func advertise(srv *engine.Server, l lanOptions) (*lobby.Advertiser, string, error) {
	host, _ := os.Hostname()
	name := lanName(host)
	ad, err := lobby.AdvertiseServer(srv, lobby.HostedConfig{Name: name, ServiceType: lanService, Seats: lanSeats, Interface: l.iface})
	if err != nil {
		return nil, "", err
	}
	return ad, name, nil
}

// advertisePlayers updates the players count that -lan clients see.
func advertisePlayers(srv *engine.Server, ad *lobby.Advertiser, out io.Writer) {
	n := min(len(srv.Peers()), lanSeats)
	if err := ad.Update(n, lanSeats-n); err != nil {
		fmt.Fprintf(out, "! advertise: %v\n", err)
	}
}

// connectLAN browses the LAN for chat servers, then runs a client of the
// first one found (see firstServer), verified by the key fingerprint it
// advertised. It blocks like connect.
func connectLAN(ctx context.Context, o clientOptions, l lanOptions, stdin io.Reader, out io.Writer) error {
	fmt.Fprintln(out, "*** looking for a chat server on the LAN...")
	bctx, cancel := context.WithTimeout(ctx, lanFindTimeout)
	list, err := lobby.Browse(bctx, lanService, lobby.BrowseOptions{Interface: l.iface})
	if err != nil {
		cancel()
		return err
	}
	info, err := firstServer(bctx, list)
	cancel() // stops browsing
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "*** found %q (%s) at %s\n", termtext.Clean(info.Name, lobby.MaxDisplayName), plural(info.Players, "player"), info.ConnectString())
	o.target = info.ConnectString()
	return connect(ctx, o, stdin, out)
}

// errNoServer is what a -lan client reports when it found no server.
var errNoServer = errors.New("no chat server found on the LAN: start one with -serve ADDR -lan (on the same LAN, and -iface if it has several), or use -connect")

// firstServer waits for the first list of servers that is not empty, and
// returns its first server (lists are sorted by name, then address). It
// returns errNoServer, wrapping ctx's error, when ctx ends first.
func firstServer(ctx context.Context, list <-chan []lobby.ServerInfo) (lobby.ServerInfo, error) {
	for {
		select {
		case servers, ok := <-list:
			if ok && len(servers) > 0 {
				return servers[0], nil
			}
			if !ok {
				list = nil // Browse ended with ctx
			}
		case <-ctx.Done():
			return lobby.ServerInfo{}, fmt.Errorf("%w (%w)", errNoServer, context.Cause(ctx))
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
