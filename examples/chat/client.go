package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/internal/termtext"
	"github.com/pumpnet/pumpnet/netcode"
)

// clientOptions are the client's flags.
type clientOptions struct {
	target   string
	nick     string
	insecure bool
	linger   time.Duration
}

// view is the client's listener, PodSixNet style: engine.Client.Register
// finds its Network_<action> methods. They run inside Pump, on the
// goroutine of connect, which is the only one that writes to out, so what
// arrives never interleaves with anything else this program prints.
type view struct {
	out     io.Writer
	target  string
	done    bool     // "disconnected" arrived
	reason  error    // why the connection ended
	leaving bool     // we chose to leave
	up      bool     // the connection came up once
	nick    string   // our nickname as the server will spell it
	unsure  []string // lines sent that the server has not relayed back yet
}

// slowConnect is how long a connect may go unanswered before the client
// asks whether the server is running (it keeps trying until the handshake
// timeout).
const slowConnect = 2 * time.Second

// maxUnsure bounds the lines remembered until the server relays them.
const maxUnsure = 100

// sent remembers a line until the server relays it back, which tells that
// it was delivered.
func (v *view) sent(text string) {
	if len(v.unsure) == maxUnsure {
		v.unsure = v.unsure[1:]
	}
	v.unsure = append(v.unsure, text)
}

// Network_connected is the server's greeting.
func (v *view) Network_connected(engine.Msg) {
	v.up = true
	fmt.Fprintf(v.out, "*** connected to %s\n", v.target)
}

// Network_message prints a line of chat.
func (v *view) Network_message(m chatMsg) {
	if len(v.unsure) > 0 && m.Who == v.nick && m.Message == v.unsure[0] {
		v.unsure = v.unsure[1:] // ours, relayed: delivered
	}
	fmt.Fprintf(v.out, "%s: %s\n", termtext.Clean(m.Who, maxNickRunes), termtext.Clean(m.Message, maxMessageRunes))
}

// Network_players prints who is here.
func (v *view) Network_players(m playersMsg) {
	names := make([]string, len(m.Players))
	for i, n := range m.Players {
		names[i] = termtext.Clean(n, maxNickRunes)
	}
	fmt.Fprintf(v.out, "*** players: %s\n", strings.Join(names, ", "))
}

// Network_error prints an error of the connection (a bad message). A
// failed connect is told once, by Network_disconnected, which follows.
func (v *view) Network_error(err error) {
	if !v.up && isConnectFailure(err) {
		return
	}
	fmt.Fprintf(v.out, "*** error: %v\n", err)
}

// isConnectFailure reports whether err ends a connect attempt.
func isConnectFailure(err error) bool {
	return errors.Is(err, netcode.ErrHandshake) || errors.Is(err, netcode.ErrTimeout) || errors.Is(err, netcode.ErrRefused)
}

// connectProblem says why a connect failed, and what to try.
func connectProblem(addr string, err error) string {
	switch {
	case errors.Is(err, netcode.ErrFingerprintMismatch):
		return fmt.Sprintf("the server at %s has another key than the connect string names: it was restarted without -key (ask for its new connect string), or it is not the server you meant (%v)", addr, err)
	case errors.Is(err, netcode.ErrTimeout):
		return fmt.Sprintf("no answer from %s: is the server running there, and is the port right? (%v)", addr, err)
	}
	return fmt.Sprintf("could not connect to %s: %v", addr, err)
}

// Network_disconnected ends the session: the connection is gone, whatever
// ended it.
func (v *view) Network_disconnected(d engine.Disconnected) {
	v.done, v.reason = true, d.Err
	if v.leaving {
		fmt.Fprintln(v.out, "*** left the chat")
		return
	}
	if !v.up {
		fmt.Fprintf(v.out, "*** %s\n", connectProblem(v.target, d.Err))
	} else {
		fmt.Fprintf(v.out, "*** disconnected: %s\n", d.Reason)
	}
	for _, text := range v.unsure {
		fmt.Fprintf(v.out, "*** not delivered: %s\n", text)
	}
}

// connect runs a chat client until the connection ends: it sends the
// nickname at once (the engine queues it until the connection is up), then
// each line of stdin as a message. At the end of stdin it waits linger
// (and at least until the connection is up, so nothing typed is lost),
// leaves, and returns nil. It returns an error if the server went away or
// could not be reached. It blocks.
func connect(ctx context.Context, o clientOptions, stdin io.Reader, out io.Writer) error {
	t, err := engine.ParseTarget(o.target)
	if err != nil {
		return err
	}
	if t.Fingerprint.IsZero() && !o.insecure {
		return fmt.Errorf("%q has no key fingerprint, so the server cannot be verified: use the connect string the server prints (dtls://host:port#fingerprint), or add -insecure to accept any server", o.target)
	}
	cl, err := engine.Connect(o.target, &engine.ClientConfig{InsecureAcceptAnyServer: o.insecure})
	if err != nil {
		return err
	}
	defer cl.Close()
	stop := make(chan struct{})
	defer close(stop)
	con := openConsole(stdin, out, stop)
	defer con.restore()
	out = con.out
	lines := con.lines
	v := &view{out: out, target: t.Addr}
	if err := cl.Register(v); err != nil {
		return err
	}
	if o.insecure && t.Fingerprint.IsZero() {
		fmt.Fprintf(out, "*** warning: -insecure: the server's identity is not verified\n")
	}
	fmt.Fprintf(out, "*** connecting to %s (type a line to chat, /nick NAME to rename, /quit or end of input to leave)\n", t.Addr)
	v.nick = defaultNick
	if nick := termtext.Clean(o.nick, maxNickRunes); nick != "" {
		if err := cl.Send(nicknameMsg{Action: "nickname", Nickname: nick}); err != nil {
			return err
		}
		v.nick = nick
	}

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var leaveAt time.Time // set once we decided to leave
	started, warned := time.Now(), false
	for !v.done {
		select {
		case line, ok := <-lines:
			switch {
			case !ok:
				lines = nil // end of input: leave once the rest is delivered
				leaveAt = time.Now().Add(o.linger)
			case strings.TrimSpace(line) == "/quit":
				lines, leaveAt = nil, time.Now()
			case strings.HasPrefix(line, "/nick "):
				if nick := termtext.Clean(strings.TrimPrefix(line, "/nick "), maxNickRunes); nick != "" {
					if v.report(cl.Send(nicknameMsg{Action: "nickname", Nickname: nick})) {
						v.nick = nick
					}
				}
			default:
				if text := termtext.Clean(line, maxMessageRunes); text != "" {
					if v.report(cl.Send(chatMsg{Action: "message", Message: text})) {
						v.sent(text)
					}
				}
			}
		case <-cl.Wake():
		case <-tick.C:
		case <-ctx.Done():
			leaveAt = time.Now()
		}
		cl.Pump()
		if !v.up && !v.done && !warned && time.Since(started) >= slowConnect {
			warned = true // said while still trying, not only at the handshake timeout
			fmt.Fprintf(out, "*** no answer yet from %s: is the server running there? (still trying)\n", t.Addr)
		}
		if !leaveAt.IsZero() && !v.leaving && !v.done && !time.Now().Before(leaveAt) {
			if cl.Connected() {
				v.leaving = true
				leave(cl)
			} else if ctx.Err() != nil {
				v.leaving = true
				cl.Close() // interrupted before the connection came up
			}
			cl.Pump() // delivers "disconnected" if we just left
		}
	}
	if v.leaving {
		return nil
	}
	return reported{fmt.Errorf("disconnected: %w", v.reason)}
}

// reported is an error the client has already printed: main exits with
// status 1 without printing it again.
type reported struct{ error }

func (r reported) Unwrap() error { return r.error }

// leave flushes what was sent, waits (briefly) until the server has
// acknowledged it, and closes the connection; the next Pump delivers
// "disconnected".
func leave(cl *engine.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cl.Pump()
	cl.Shutdown(ctx, "left")
}

// report prints err, if any, and tells whether there was none.
func (v *view) report(err error) bool {
	if err != nil {
		fmt.Fprintf(v.out, "*** error: %v\n", err)
	}
	return err == nil
}
