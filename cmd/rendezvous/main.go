// Command rendezvous runs a pumpnet rendezvous server: rooms with short
// codes, a public room list per service, proven identities and connection
// signaling over HTTP(S)+JSON, and a STUN responder on the same port
// number (UDP).
//
//	go run ./cmd/rendezvous -addr :7777
//	go run ./cmd/rendezvous -addr :443 -tls-cert cert.pem -tls-key key.pem
//
// Without -tls-cert it speaks plain HTTP: fine on a LAN or behind a
// reverse proxy that terminates TLS, but membership tokens then cross the
// network in clear. See the rendezvous package documentation for the API
// and the bounds, and SECURITY.md for what the server trusts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pumpnet/pumpnet/rendezvous"
	"golang.org/x/net/netutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rendezvous:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down (polls are ended at once).
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rendezvous", flag.ContinueOnError)
	addr := fs.String("addr", ":7777", "TCP address for HTTP(S); STUN answers on the same port number over UDP")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM); with -tls-key, serve HTTPS")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	noSTUN := fs.Bool("no-stun", false, "do not answer STUN on UDP")
	maxConns := fs.Int("max-conns", 10000, "TCP connections held at once")
	var cfg rendezvous.Config
	fs.IntVar(&cfg.MaxRooms, "max-rooms", 0, "rooms held at once (0: 10,000)")
	fs.IntVar(&cfg.MaxMembers, "max-members", 0, "members per room (0: 8)")
	fs.IntVar(&cfg.MaxMembersPerIP, "max-members-per-ip", 0, "memberships per source address (0: 16)")
	fs.Float64Var(&cfg.RequestRate, "rate", 0, "requests/s per source address (0: 20)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	srv, err := rendezvous.NewServer(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	tcp := ln.Addr().(*net.TCPAddr)
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      40 * time.Second, // > the 25 s poll timeout
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	scheme := "http"
	serveErr := make(chan error, 2)
	go func() {
		l := netutil.LimitListener(ln, *maxConns)
		if *certFile != "" {
			serveErr <- hs.ServeTLS(l, *certFile, *keyFile)
		} else {
			serveErr <- hs.Serve(l)
		}
	}()
	if *certFile != "" {
		scheme = "https"
	}
	var pc net.PacketConn
	stunDone := make(chan error, 1)
	if !*noSTUN {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(tcp.IP.String(), fmt.Sprint(tcp.Port)))
		if err != nil {
			hs.Close()
			return fmt.Errorf("STUN: %w (use -no-stun to run without)", err)
		}
		go func() { stunDone <- srv.ServeSTUN(pc) }()
		fmt.Fprintf(out, "rendezvous: %s://%s, STUN udp %s\n", scheme, tcp, pc.LocalAddr())
	} else {
		stunDone <- nil
		fmt.Fprintf(out, "rendezvous: %s://%s\n", scheme, tcp)
	}
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil {
		err = serr
	}
	if pc != nil {
		pc.Close()
	}
	if serr := <-stunDone; err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
