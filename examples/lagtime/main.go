// Command lagtime is PodSixNet's LagTime example on pumpnet, made useful:
// it measures round-trip times over a pumpnet connection and prints their
// distribution.
//
//	go run ./examples/lagtime                     # server and client in one process, on 127.0.0.1
//	go run ./examples/lagtime -lag 50ms -jitter 10ms -loss 5%
//	go run ./examples/lagtime -serve :31426       # two terminals: the server ...
//	go run ./examples/lagtime -connect 'dtls://host:31426#<fingerprint>' -n 100   # ... and a client
//
// The server pings each new client in two series side by side, every
// -interval: one reliable (ReliableOrdered) and one unreliable
// (Unreliable). The client echoes each ping in the same delivery mode; the
// server measures ping -> echo and answers the echo with a pong; the client
// measures echo -> pong. Both sides print each round-trip time, measured
// with Go's monotonic clock, and, at the end, a summary per series: pings
// sent, answered and lost, min / median / p99 / max RTT and jitter (see
// stats.go), with the transport's own statistics for comparison. After -n
// pings per series are accounted for, the client says bye and closes, as
// in PodSixNet. A reliable ping is never lost, only late (its RTT includes
// the resends); an unreliable one unanswered after -timeout counts as
// lost.
//
// The session's -n, -interval and -timeout are the client's: it sends them
// in its first message, which the engine queues until the connection is up.
// The server's flags are defaults for clients that send none.
//
// -lag, -jitter and -loss run the traffic through netcode's link
// conditioner (netcode.Config.Link). They apply to the client's endpoint in
// both directions (what it sends and what it receives), so -lag 50ms adds
// about 100 ms to every round trip and -loss 5% drops 5% of datagrams each
// way; with -serve (no client in the process) they apply to the server's
// endpoint instead, for every client. The handshake goes through the
// conditioner too.
//
// With -connect host:port the client cannot verify the server's key; it
// refuses unless -insecure is given (the traffic is still encrypted).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/flagval"
	"github.com/pumpnet/pumpnet/netcode"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "lagtime:", err)
		os.Exit(1)
	}
}

// errUsage reports a bad command line; the usage was already printed.
var errUsage = errors.New("bad usage (see -h)")

// options are the command line.
type options struct {
	serve, connect string
	insecure       bool
	params         params
	lag, jitter    flagval.Duration
	loss           flagval.Percent
	seed           uint64
}

// run is the whole program: flags in args, what it prints to stdout (flag
// errors and usage to stderr). Without -serve or -connect it runs a server
// on 127.0.0.1 and a client to it, and returns when the session is over;
// -serve runs until ctx ends; -connect runs one session.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lagtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.serve, "serve", "", "only run a server, on `addr` (host:port; \":31426\" listens on every interface), until interrupted")
	fs.StringVar(&o.connect, "connect", "", "only run a client, to `target`: the connect string the server prints (dtls://host:port#fingerprint), or host:port with -insecure")
	fs.BoolVar(&o.insecure, "insecure", false, "allow -connect host:port without a key fingerprint: still encrypted, but the server is not verified")
	fs.IntVar(&o.params.pings, "n", 10, "pings per series; the client closes when all are answered or lost")
	fs.DurationVar(&o.params.interval, "interval", 100*time.Millisecond, "time between pings")
	fs.DurationVar(&o.params.timeout, "timeout", time.Second, "an unreliable ping not answered within this time counts as lost")
	fs.Var(&o.lag, "lag", "link conditioner: one-way `delay` added in each direction (RTT grows by twice this)")
	fs.Var(&o.jitter, "jitter", "link conditioner: each datagram's delay varies uniformly by ± this much")
	fs.Var(&o.loss, "loss", "link conditioner: `percentage` of datagrams dropped in each direction, e.g. 5% (default 0%)")
	fs.Uint64Var(&o.seed, "seed", 0, "link conditioner: random seed, to repeat a run's loss and jitter pattern (0: random)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lagtime [-n pings] [-interval d] [-lag d -jitter d -loss p%]   (server and client in one process)")
		fmt.Fprintln(stderr, "       lagtime -serve addr")
		fmt.Fprintln(stderr, "       lagtime -connect target [-insecure] [-n pings] ...")
		fmt.Fprintln(stderr, "Prints the round-trip time of each ping, reliable and unreliable, then min/median/p99/max, loss and jitter.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var bad string
	switch {
	case fs.NArg() > 0:
		bad = fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case o.serve != "" && o.connect != "":
		bad = "-serve and -connect are exclusive (neither: both ends in this process)"
	case o.params.pings < 1 || o.params.pings > maxPings:
		bad = fmt.Sprintf("-n %d: want 1 to %d", o.params.pings, maxPings)
	case o.params.interval < minInterval || o.params.interval > maxInterval:
		bad = fmt.Sprintf("-interval %v: want %v to %v", o.params.interval, minInterval, maxInterval)
	case o.params.timeout < minTimeout || o.params.timeout > maxTimeout:
		bad = fmt.Sprintf("-timeout %v: want %v to %v", o.params.timeout, minTimeout, maxTimeout)
	case o.lag < 0 || o.jitter < 0:
		bad = "-lag and -jitter must not be negative"
	}
	if bad != "" {
		fmt.Fprintln(stderr, "lagtime:", bad)
		fs.Usage()
		return errUsage
	}
	switch {
	case o.serve != "":
		return runServer(ctx, o, stdout)
	case o.connect != "":
		return runClient(ctx, o, stdout)
	}
	return runBoth(ctx, o, stdout)
}

// link returns the link conditioner's settings (nil: none).
func (o options) link() *netcode.LinkConditions {
	if o.lag == 0 && o.jitter == 0 && o.loss == 0 {
		return nil
	}
	d := netcode.LinkDirection{Latency: time.Duration(o.lag), Jitter: time.Duration(o.jitter), Loss: o.loss.Fraction()}
	return &netcode.LinkConditions{Send: d, Receive: d, Seed: o.seed}
}

func (o options) describeLink(where string) string {
	if o.link() == nil {
		return "no link conditioner"
	}
	return fmt.Sprintf("link conditioner on the %s, each direction: lag %v ± %v, loss %v", where, o.lag, o.jitter, o.loss.String())
}

// runServer serves until ctx ends.
func runServer(ctx context.Context, o options, out io.Writer) error {
	srv, err := engine.Listen(o.serve, &engine.ServerConfig{Net: netcode.Config{Link: o.link()}})
	if err != nil {
		return err
	}
	defer srv.Close()
	p, err := newPinger(srv, out, o.params)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "lagtime: serving on %s (%s)\n", srv.Addr(), o.describeLink("server"))
	fmt.Fprintf(out, "lagtime: connect string %s\n", srv.ConnectString())
	for ctx.Err() == nil {
		srv.PumpWait(ctx, p.step(time.Now()))
	}
	fmt.Fprintln(out, "lagtime: server stopped")
	return nil
}

// dial starts a client with the link conditioner, refusing a target
// without a fingerprint unless -insecure.
func dial(o options, target string, out io.Writer) (*engine.Client, *echoer, error) {
	t, err := engine.ParseTarget(target)
	if err != nil {
		return nil, nil, err
	}
	if t.Fingerprint.IsZero() && !o.insecure {
		return nil, nil, fmt.Errorf("%q has no key fingerprint, so the server cannot be verified: use the connect string the server prints (dtls://host:port#fingerprint), or add -insecure to accept any server", target)
	}
	cl, err := engine.Connect(target, &engine.ClientConfig{
		Net:                     netcode.Config{Link: o.link()},
		InsecureAcceptAnyServer: o.insecure,
	})
	if err != nil {
		return nil, nil, err
	}
	e, err := newEchoer(cl, out, o.params)
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	fmt.Fprintf(out, "lagtime: client to %s: %d pings per series every %v (%s)\n", t.Addr, o.params.pings, o.params.interval, o.describeLink("client"))
	return cl, e, nil
}

// runClient runs one session against a server elsewhere.
func runClient(ctx context.Context, o options, out io.Writer) error {
	cl, e, err := dial(o, o.connect, out)
	if err != nil {
		return err
	}
	defer cl.Close()
	for !e.ended {
		wait := e.step(time.Now())
		if ctx.Err() != nil {
			e.interrupt()
		}
		cl.PumpWait(ctx, wait)
	}
	return e.result()
}

// runBoth runs a server on 127.0.0.1 and a client to it, both pumped by
// this goroutine, until the client's session is over and the server has
// printed its side.
func runBoth(ctx context.Context, o options, out io.Writer) error {
	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	p, err := newPinger(srv, out, o.params)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "lagtime: server on %s\n", srv.Addr())
	cl, e, err := dial(o, srv.ConnectString(), out)
	if err != nil {
		return err
	}
	defer cl.Close()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for !e.ended || (e.connects && p.reports == 0) {
		now := time.Now()
		wait := min(p.step(now), e.step(now))
		if ctx.Err() != nil {
			e.interrupt()
			if p.reports == 0 {
				for _, ch := range srv.Peers() {
					p.report(ch)
				}
			}
			break
		}
		timer.Reset(wait)
		select {
		case <-srv.Wake():
		case <-cl.Wake():
		case <-timer.C:
		case <-ctx.Done():
		}
		srv.Pump()
		cl.Pump()
	}
	return e.result()
}

// result is the client's outcome: nil after a complete session.
func (e *echoer) result() error {
	if e.finished {
		return nil
	}
	if e.endErr != nil {
		return fmt.Errorf("session ended early: %w", e.endErr)
	}
	return errors.New("session ended early")
}
