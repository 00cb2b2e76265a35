// Command chat is PodSixNet's Chat example on pumpnet: a server relays
// lines of chat to everyone and keeps the list of players; a terminal
// client sends its nickname, then one message per line typed.
//
// In one terminal:
//
//	go run ./examples/chat -serve :31425
//
// It prints its connect string (dtls://host:port#fingerprint): the address
// and the server's key fingerprint, which clients pin. Each run makes a new
// key unless -key names a file to keep it in (created on the first run):
//
//	go run ./examples/chat -serve :31425 -key chat-server.key
//
// In other terminals:
//
//	go run ./examples/chat -connect 'dtls://192.168.1.5:31425#9f86...' -nick ann
//	go run ./examples/chat -connect 127.0.0.1:31425 -insecure -nick bob
//
// A bare host:port carries no key fingerprint, so the client cannot tell
// the real server from an impostor on the path: it refuses, and says so,
// unless -insecure is given (traffic is still encrypted).
//
// The client prints "who: message" for every line (its own included, as the
// server echoes it to everyone), "*** players: a, b" whenever someone
// joins, renames or leaves, and connection errors; it exits when the
// connection ends. Typed lines starting with "/nick " rename; "/quit" or the
// end of input leaves. Non-interactive use (scripts, the tests): pipe lines
// into stdin; at the end of input the client waits for the connection, for
// what it sent to be acknowledged, and -linger more, then leaves:
//
//	printf 'hello\nbye\n' | go run ./examples/chat -connect "$ADDR" -nick bot -linger 1s
//
// One goroutine (the pump loop) writes everything the client prints;
// another reads stdin and hands lines to it over a channel, so output lines
// never mix with each other. On a terminal, input goes through a line
// editor (golang.org/x/term: arrow keys, history, Ctrl-D or Ctrl-C to
// leave): what arrives is printed above the line being typed, which is
// redrawn, and a line sent leaves the input line, to come back as
// "you: text" once the server has relayed it. Lines the server never
// relayed are listed ("*** not delivered: ...") when the connection ends.
// Piped input is read as plain lines. A connect that goes unanswered
// asks, after 2 s, whether the server is running (still trying); a connect
// that fails says why once, with what to check.
//
// The server announces a newcomer when its nickname arrives (the client
// sends it first, even before the connection is up), so the players list
// shows its real name at once; a client that sends none is announced as
// "anonymous" after a second.
//
// With -lan, the server also advertises itself on the LAN (mDNS/DNS-SD,
// service "chat", through the lobby package), and a client given -lan
// instead of -connect browses for chat servers and joins the first one it
// finds, verified by the key fingerprint the server advertised:
//
//	go run ./examples/chat -serve :31425 -lan
//	go run ./examples/chat -lan -nick ann
//
// -iface picks the interface to advertise and browse on (default: every
// multicast-capable one).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		if errors.As(err, new(reported)) {
			os.Exit(1) // the client said it already
		}
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// errUsage reports a bad command line; the usage was already printed.
var errUsage = errors.New("bad usage (see -h)")

// run is the whole program: flags in args, lines from stdin, what it prints
// to stdout (flag errors and usage to stderr). It blocks until the server
// is stopped by ctx or the client's connection ends.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serveAddr := fs.String("serve", "", "run a server on `addr` (host:port; \":31425\" listens on every interface, port 0 picks one) until interrupted")
	keyFile := fs.String("key", "", "with -serve: keep the server's identity (private key) in `file`, created on the first run, so its connect string stays the same across restarts (e.g. server.key)")
	var o clientOptions
	fs.StringVar(&o.target, "connect", "", "join the server at `target`: the connect string it prints (dtls://host:port#fingerprint), or host:port with -insecure")
	fs.StringVar(&o.nick, "nick", "", "your `nickname`, sent once when joining (up to 32 characters; empty: the server calls you \"anonymous\")")
	fs.BoolVar(&o.insecure, "insecure", false, "allow -connect host:port without a key fingerprint: still encrypted, but the server is not verified (anyone on the path could pose as it)")
	fs.DurationVar(&o.linger, "linger", 0, "at the end of input, keep printing what arrives for this long before leaving (e.g. 1s; for piped input)")
	lan := fs.Bool("lan", false, "server: advertise on the LAN (service \"chat\"); client (instead of -connect): join the first server found on the LAN")
	iface := fs.String("iface", "", "with -lan: the network `interface` to advertise or browse on (e.g. eth0; default: every multicast-capable one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: chat -serve addr [-key file] [-lan [-iface name]]")
		fmt.Fprintln(stderr, "       chat -connect target [-nick name] [-insecure] [-linger d]")
		fmt.Fprintln(stderr, "       chat -lan [-iface name] [-nick name] [-linger d]")
		fmt.Fprintln(stderr, "The client sends each line of input as a chat message; /nick NAME renames, /quit or end of input leaves.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var l lanOptions
	if *lan && *iface != "" {
		ifc, err := net.InterfaceByName(*iface)
		if err != nil {
			return fmt.Errorf("-iface %s: %w", *iface, err)
		}
		l.iface = ifc
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "chat: unexpected argument %q\n", fs.Arg(0))
	case *keyFile != "" && *serveAddr == "":
		fmt.Fprintln(stderr, "chat: -key goes with -serve")
	case *iface != "" && !*lan:
		fmt.Fprintln(stderr, "chat: -iface goes with -lan")
	case *serveAddr != "" && o.target != "":
		fmt.Fprintln(stderr, "chat: -serve and -connect are exclusive: run a server and clients as separate processes")
	case *lan && o.target != "":
		fmt.Fprintln(stderr, "chat: -lan finds the server, -connect names it: use one of them")
	case *serveAddr != "":
		l.advertise = *lan
		return serve(ctx, *serveAddr, *keyFile, l, stdout)
	case o.target != "":
		return connect(ctx, o, stdin, stdout)
	case *lan:
		return connectLAN(ctx, o, l, stdin, stdout)
	default:
		fmt.Fprintln(stderr, "chat: need -serve, -connect or -lan")
	}
	fs.Usage()
	return errUsage
}
