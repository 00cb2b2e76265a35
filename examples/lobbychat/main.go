// Command lobbychat is Multipeer Connectivity's chat on pumpnet's lobby:
// every instance runs the same code, finds the others of its service type
// on the LAN, connects to each (one connection per pair), and chats. There
// is no server.
//
//	go run ./examples/lobbychat -name ann
//	go run ./examples/lobbychat -name bob      (on another machine of the LAN)
//
// Over the internet, through a rendezvous server (go run ./cmd/rendezvous):
//
//	go run ./examples/lobbychat -name ann -rendezvous rdv.example.org:7777 -create-room
//	go run ./examples/lobbychat -name bob -rendezvous rdv.example.org:7777 -room K7MW2Q
//
// Peers are announced as they join and leave. A typed line goes to
// everyone; commands:
//
//	/to WHO TEXT     say TEXT to one peer (WHO: a name, "a quoted name", or an id prefix)
//	/peers           list the peers: name, short id, round-trip time, host
//	/lock, /unlock   stop and restart looking for peers, for the whole session
//	/wait N [DUR]    hold further input until N peers are here (for scripts)
//	/sleep DUR       hold further input for DUR (for scripts)
//	/quit            leave
//
// The lobby's lock (StopLookingForPeers) is each peer's own: a newcomer
// refused by one peer could still join the others, splitting the session.
// So /lock also tells every peer to lock (a "lock" message), and /unlock to
// unlock; a peer admitted just as the lock was sent is told on arrival.
//
// -iface names the interface to advertise and browse on. The default,
// every multicast-capable interface, also announces you (name, key
// fingerprint, port) on virtual bridges and any other network the machine
// is on: prefer naming the LAN's interface. -service picks the service
// type (peers of other types never meet), -max the session size.
//
// Non-interactive use (scripts, the tests): pipe lines into stdin; at the
// end of input lobbychat waits -linger, then leaves. With -events it
// prints one event per line for programs, "<ms since start> <kind> <short
// id or -> <name> <text>" with name and text Go-quoted (see printer for the
// kinds):
//
//	printf '/wait 2\nhello\n' | lobbychat -name bot -iface eth1 -linger 2s -events
//
// One goroutine (the chat loop) writes everything lobbychat prints and
// pumps the session; another reads stdin and hands lines to it over a
// channel, so output lines never mix. (A line you are typing is echoed by
// the terminal itself: text arriving meanwhile is printed after what you
// have typed so far, on its own line, and your line is still sent whole.)
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pumpnet/pumpnet/examples/internal/termtext"
	"github.com/pumpnet/pumpnet/lobby"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "lobbychat:", err)
		os.Exit(1)
	}
}

// errUsage reports a bad command line; the usage was already printed.
var errUsage = errors.New("bad usage (see -h)")

// joinFunc starts a session whose events go to ev and returns its room;
// joinLobby is the real one (lobby.Join: the LAN), the tests pass a fake.
type joinFunc func(ctx context.Context, cfg lobby.Config, ev events) (room, error)

func joinLobby(ctx context.Context, cfg lobby.Config, ev events) (room, error) {
	s, err := lobby.Join(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r, err := newSessionRoom(s, ev)
	if err != nil {
		s.Close()
		return nil, err
	}
	return r, nil
}

// run is the whole program: flags in args, lines from stdin, what it prints
// to stdout (flag errors and usage to stderr). It blocks until /quit, the
// end of input plus -linger, or ctx ends.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runWith(ctx, args, stdin, stdout, stderr, joinLobby)
}

func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, join joinFunc) error {
	start := time.Now()
	fs := flag.NewFlagSet("lobbychat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host, _ := os.Hostname()
	name := fs.String("name", termtext.Clean(host, lobby.MaxDisplayName), "your display `name`, shown to the others: 1-63 bytes of UTF-8")
	service := fs.String("service", "lobbychat", "the service `type`: 1-15 of a-z, 0-9, '-'; only peers of the same type meet")
	iface := fs.String("iface", "", "the network `interface` to advertise and browse on (e.g. eth0; default: every multicast-capable one)")
	maxPeers := fs.Int("max", lobby.DefaultMaxPeers, "the session size `n`, counting yourself: 2-8")
	linger := fs.Duration("linger", 0, "at the end of input, keep running for this `duration` before leaving (for piped input)")
	rdv := fs.String("rendezvous", "", "chat over the internet: the rendezvous server's `address` (host:port for HTTPS, or an http:// or https:// URL); with -room or -create-room")
	roomCode := fs.String("room", "", "with -rendezvous: the `code` of the room to join")
	createRoom := fs.Bool("create-room", false, "with -rendezvous: create a room and print its code for the others")
	public := fs.Bool("public", false, "with -create-room: list the room in the rendezvous's public list of the service's rooms")
	events := fs.Bool("events", false, "print one event per line for programs: <ms> <kind> <id> <\"name\"> <\"text\">")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lobbychat [-name NAME] [-service TYPE] [-iface IFACE | -rendezvous ADDR (-room CODE | -create-room [-public])] [-max N] [-linger D] [-events]")
		fmt.Fprintln(stderr, "Finds the other lobbychat peers on the LAN, or in a rendezvous room over the internet, and chats with them. Type a line to say it to everyone;")
		fmt.Fprintln(stderr, "/to WHO TEXT, /peers, /lock, /unlock, /wait N [DUR], /sleep DUR, /quit (see /help).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lobbychat: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	cfg := lobby.Config{DisplayName: *name, ServiceType: *service, MaxPeers: *maxPeers}
	switch {
	case (*roomCode != "" || *createRoom) && *rdv == "":
		return errors.New("-room and -create-room need -rendezvous ADDRESS")
	case *rdv != "" && (*roomCode == "") == !*createRoom:
		return errors.New("-rendezvous needs one of -room CODE (join a room) or -create-room (make one)")
	case *public && !*createRoom:
		return errors.New("-public goes with -create-room")
	case *rdv != "" && *iface != "":
		return errors.New("-rendezvous chats over the internet: not with -iface")
	case *rdv != "":
		cfg.Rendezvous, cfg.Room, cfg.CreateRoom, cfg.PublicRoom = *rdv, *roomCode, *createRoom, *public
	}
	where := "every multicast-capable interface"
	if *iface != "" {
		ifc, err := net.InterfaceByName(*iface)
		if err != nil {
			return fmt.Errorf("-iface %s: %w", *iface, err)
		}
		cfg.Interface, where = ifc, ifc.Name
	}
	if err := lobby.ValidateDisplayName(cfg.DisplayName); err != nil {
		return fmt.Errorf("-name: %w", err)
	}
	out := &printer{w: stdout, events: *events, start: start}
	c := newChat(out)
	r, err := join(ctx, cfg, c)
	if err != nil {
		return err
	}
	c.room = r
	size := cfg.MaxPeers
	if size == 0 {
		size = lobby.DefaultMaxPeers
	}
	if code := r.code(); code != "" {
		where = fmt.Sprintf("room %s at %s (the others join with -rendezvous %s -room %s)", code, *rdv, *rdv, code)
	}
	out.event("start", r.self(), fmt.Sprintf("looking for %q peers on %s (sessions of up to %d)", *service, where, size))

	lines := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go readLines(stdin, lines, stop)
	c.loop(ctx, lines, *linger)
	return nil
}

// readLines hands stdin's lines to the chat loop until stdin ends or stop
// is closed. Its owner cannot interrupt a Read in progress: the goroutine
// ends at the next line or at the end of stdin (or with the process).
func readLines(r io.Reader, lines chan<- string, stop <-chan struct{}) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		case <-stop:
			return
		}
	}
}
