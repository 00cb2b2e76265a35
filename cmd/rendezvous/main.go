// Command rendezvous runs a pumpnet rendezvous server: rooms with short
// codes, a public room list per service, proven identities and connection
// signaling over HTTP(S)+JSON, a STUN responder on the same port number
// (UDP), and optionally a TURN relay; members get the STUN and TURN
// servers, with time-limited TURN credentials, in their join answers.
//
//	go run ./cmd/rendezvous -addr :7777
//	go run ./cmd/rendezvous -addr :443 -tls-cert cert.pem -tls-key key.pem
//	go run ./cmd/rendezvous -addr :7777 -turn :3478 -turn-relay-ip 198.51.100.7
//	go run ./cmd/rendezvous -addr :7777 -stun-public rdv.example.org:7777 \
//		-external-turn 'turn:turn.example.org:3478?transport=udp' -external-turn-secret @/etc/turn-secret
//
// With -turn, open UDP 3478 and the relay ports (-turn-ports, default
// 49152-65535). -external-turn hands out credentials for a TURN server run
// elsewhere, in the TURN REST API scheme that coturn accepts with
// use-auth-secret and static-auth-secret=<the same secret>.
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
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pumpnet/pumpnet/rendezvous"
	"golang.org/x/net/netutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage was printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "rendezvous:", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down (polls are ended at once).
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rendezvous", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: rendezvous [flags]

Runs a pumpnet rendezvous server: rooms with short codes where players on
different networks meet (lobby.Config.Rendezvous; lightcycle and lobbychat
-rendezvous), a STUN responder, and with -turn a TURN relay for players
behind symmetric NATs.

  rendezvous -addr :7777                                              # plain HTTP (a LAN, or behind a TLS proxy)
  rendezvous -addr :7777 -turn :3478 -turn-relay-ip 198.51.100.7      # with a TURN relay, on a public host
  rendezvous -addr :443 -tls-cert cert.pem -tls-key key.pem           # HTTPS

flags:
`)
		fs.PrintDefaults()
	}
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
	stunPublic := fs.String("stun-public", "", "host:port at which members reach the STUN responder, offered to them (default with -turn-relay-ip: that IP and -addr's port; otherwise none)")
	turnAddr := fs.String("turn", "", "UDP address of the embedded TURN relay, e.g. :3478 (default: none)")
	turnRelayIP := fs.String("turn-relay-ip", "", "public IP address the TURN relay is reached at (required with -turn)")
	turnPublic := fs.String("turn-public", "", "host:port members are told for the TURN relay (default: -turn-relay-ip and -turn's port)")
	turnPorts := fs.String("turn-ports", "49152-65535", "UDP ports of relay sockets, MIN-MAX")
	turnSecret := fs.String("turn-secret", "", "secret TURN credentials are made with, or @file to read it (default: random; credentials then end with the process)")
	fs.StringVar(&cfg.TURN.Realm, "turn-realm", "", "TURN realm (default pumpnet)")
	fs.IntVar(&cfg.TURN.MaxAllocations, "turn-max-allocations", 0, "TURN allocations held at once (0: 1,024)")
	extTURN := fs.String("external-turn", "", "a TURN server run elsewhere (coturn with use-auth-secret): its URLs, comma-separated (turn:host:3478?transport=udp,turns:host:5349?transport=tcp)")
	extSecret := fs.String("external-turn-secret", "", "its static-auth-secret, or @file to read it")
	fs.DurationVar(&cfg.CredentialTTL, "credential-ttl", 0, "how long TURN credentials stay valid for new allocations (0: 10m)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if (*extTURN == "") != (*extSecret == "") {
		return errors.New("-external-turn and -external-turn-secret go together")
	}
	if *extTURN != "" {
		secret, err := readSecret(*extSecret)
		if err != nil {
			return fmt.Errorf("-external-turn-secret: %w", err)
		}
		cfg.ExternalTURN = []rendezvous.ExternalTURN{{URLs: strings.Split(*extTURN, ","), Secret: secret}}
	}
	if *turnAddr == "" && (*turnRelayIP != "" || *turnPublic != "" || *turnSecret != "") {
		return errors.New("-turn-relay-ip, -turn-public and -turn-secret need -turn")
	}
	var relayIP netip.Addr
	if *turnRelayIP != "" {
		var err error
		if relayIP, err = netip.ParseAddr(*turnRelayIP); err != nil {
			return fmt.Errorf("-turn-relay-ip: %w", err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	tcp := ln.Addr().(*net.TCPAddr)
	var turnPC net.PacketConn
	if *turnAddr != "" {
		if !relayIP.IsValid() {
			ln.Close()
			return errors.New("-turn needs -turn-relay-ip: the public address peers reach the relay at")
		}
		if cfg.TURN, err = turnConfig(cfg.TURN, relayIP, *turnPublic, *turnPorts, *turnSecret); err == nil {
			turnPC, err = net.ListenPacket("udp", *turnAddr)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("TURN: %w", err)
		}
		if cfg.TURN.Public == "" {
			port := turnPC.LocalAddr().(*net.UDPAddr).Port
			cfg.TURN.Public = net.JoinHostPort(relayIP.String(), strconv.Itoa(port))
		}
	}
	if *stunPublic != "" {
		cfg.PublicSTUN = *stunPublic
	} else if relayIP.IsValid() && !*noSTUN {
		cfg.PublicSTUN = net.JoinHostPort(relayIP.String(), strconv.Itoa(tcp.Port))
	}
	srv, err := rendezvous.NewServer(cfg)
	if err != nil {
		ln.Close()
		if turnPC != nil {
			turnPC.Close()
		}
		return err
	}
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
	turnDone := make(chan error, 1)
	if !*noSTUN {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(tcp.IP.String(), fmt.Sprint(tcp.Port)))
		if err != nil {
			hs.Close()
			if turnPC != nil {
				turnPC.Close()
			}
			return fmt.Errorf("STUN: %w (use -no-stun to run without)", err)
		}
		go func() { stunDone <- srv.ServeSTUN(pc) }()
		fmt.Fprintf(out, "rendezvous: %s://%s, STUN udp %s\n", scheme, tcp, pc.LocalAddr())
	} else {
		stunDone <- nil
		fmt.Fprintf(out, "rendezvous: %s://%s\n", scheme, tcp)
	}
	if turnPC != nil {
		go func() { turnDone <- srv.ServeTURN(turnPC) }()
		fmt.Fprintf(out, "rendezvous: TURN udp %s, offered as turn:%s, relaying from %s ports %d-%d\n",
			turnPC.LocalAddr(), cfg.TURN.Public, relayIP, cfg.TURN.MinPort, cfg.TURN.MaxPort)
	} else {
		turnDone <- nil
	}
	if cfg.PublicSTUN != "" {
		fmt.Fprintf(out, "rendezvous: members are offered stun:%s\n", cfg.PublicSTUN)
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
	if turnPC != nil {
		turnPC.Close()
	}
	if serr := <-stunDone; err == nil {
		err = serr
	}
	if terr := <-turnDone; err == nil {
		err = terr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// turnConfig fills in t from the TURN flags; t.Public stays empty when
// -turn-public is not given (the caller knows the port once it listens).
func turnConfig(t rendezvous.TURNConfig, relayIP netip.Addr, public, ports, secret string) (rendezvous.TURNConfig, error) {
	t.RelayIP = relayIP
	t.Public = public
	lo, hi, ok := strings.Cut(ports, "-")
	minPort, err1 := strconv.Atoi(lo)
	maxPort, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || minPort < 1 || maxPort > 65535 || minPort > maxPort {
		return t, fmt.Errorf("-turn-ports %q: want MIN-MAX within 1-65535", ports)
	}
	t.MinPort, t.MaxPort = minPort, maxPort
	if secret != "" {
		s, err := readSecret(secret)
		if err != nil {
			return t, fmt.Errorf("-turn-secret: %w", err)
		}
		t.Secret = s
	}
	return t, nil
}

// readSecret returns s, or the contents of file f (trimmed) for s "@f", so
// a secret need not appear in the process list.
func readSecret(s string) (string, error) {
	f, ok := strings.CutPrefix(s, "@")
	if !ok {
		return s, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s is empty", f)
	}
	return secret, nil
}
