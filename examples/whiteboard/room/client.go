package room

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/netcode"
)

// State is where a client's connection stands.
type State int

// The states of a client's connection, in the order they happen.
const (
	Connecting   State = iota
	Connected          // the server's greeting arrived
	Disconnected       // the connection ended (or never came up)
)

// ClientConfig configures a Client. The zero value works for connect
// strings that carry the server's fingerprint.
type ClientConfig struct {
	// Engine configures the connection. Its Codec is replaced by Codec().
	Engine engine.ClientConfig
	// Log receives errors reported after the connection is up (a message
	// that could not be decoded, say). Nil: they are dropped; the status
	// line shows only what ends the connection.
	Log io.Writer
}

// Client is one whiteboard player without a window: it keeps a copy of
// the board from what the server sends, and turns pen strokes into
// messages. Its methods belong to the goroutine that calls Pump (the
// game's Update), except Close.
type Client struct {
	cl    *engine.Client
	board *board.Board
	log   io.Writer

	state   State
	failed  error  // the dial error, when the connection never came up
	reason  string // why the connection ended
	players int    // players listed in the last "players" message

	penDown bool
	penLast board.Point
}

// Connect starts connecting to target (a connect string, or host:port
// with cfg.Engine.InsecureAcceptAnyServer) and returns at once; Pump
// brings the outcome.
func Connect(target string, cfg *ClientConfig) (*Client, error) {
	var c ClientConfig
	if cfg != nil {
		c = *cfg
	}
	ec := c.Engine
	ec.Codec = Codec()
	cl, err := engine.Connect(target, &ec)
	if err != nil {
		return nil, err
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	wc := &Client{cl: cl, board: board.New(), log: c.Log}
	if err := cl.Register((*listener)(wc)); err != nil {
		cl.Close()
		return nil, err
	}
	return wc, nil
}

// Engine returns the engine client underneath.
func (c *Client) Engine() *engine.Client { return c.cl }

// Board returns the client's copy of the board. Read it from the Pump
// goroutine only.
func (c *Client) Board() *board.Board { return c.board }

// State returns where the connection stands.
func (c *Client) State() State { return c.state }

// Err returns why the connection never came up (nil if it did, or has not
// failed).
func (c *Client) Err() error { return c.failed }

// Players returns the number of players in the last "players" message.
func (c *Client) Players() int { return c.players }

// Stats returns the connection's statistics (zero before it is up).
func (c *Client) Stats() netcode.Stats { return c.cl.Stats() }

// Pump runs the handlers for what arrived and sends what was drawn. Call
// it once per frame. It never blocks.
func (c *Client) Pump() { c.cl.Pump() }

// Status returns the status line for the frame numbered tick (60 per
// second): "connecting" with 0-3 dots that advance four times a second
// (after 2 s without an answer, with "no answer yet: is the server
// running?"), "connected", "disconnected" (with the reason when there is one), or the
// error that stopped the connection from coming up.
func (c *Client) Status(tick int) string {
	switch {
	case c.state == Connecting && tick >= slowConnectTicks:
		// Said while still trying, not only after the handshake timeout.
		return "connecting" + strings.Repeat(".", (tick/15)%4) + " no answer yet: is the server running?"
	case c.state == Connecting:
		return "connecting" + strings.Repeat(".", (tick/15)%4)
	case c.state == Connected:
		return "connected"
	case c.failed != nil:
		return c.failed.Error()
	case c.reason != "":
		return "disconnected: " + c.reason
	default:
		return "disconnected"
	}
}

// slowConnectTicks is how long (in ticks at 60 per second: 2 s) a connect
// may go unanswered before the status asks whether the server is running.
const slowConnectTicks = 120

// PlayersLabel returns "1 player", "N players".
func (c *Client) PlayersLabel() string {
	if c.players == 1 {
		return "1 player"
	}
	return fmt.Sprintf("%d players", c.players)
}

// PenDown starts a line at pt: it sends "startline". Before the
// connection is up, what is drawn waits in order.
func (c *Client) PenDown(pt board.Point) error {
	pt = board.Clamp(pt)
	c.penDown, c.penLast = true, pt
	return c.cl.Send(board.PointMsg{Action: board.ActionStartLine, Point: pt})
}

// PenMove extends the line to pt while the pen is down and pt differs from
// the last point sent: it sends "drawpoint". Otherwise it sends nothing.
func (c *Client) PenMove(pt board.Point) error {
	pt = board.Clamp(pt)
	if !c.penDown || pt == c.penLast {
		return nil
	}
	c.penLast = pt
	return c.cl.Send(board.PointMsg{Action: board.ActionDrawPoint, Point: pt})
}

// PenUp ends the line at pt: it sends a last "drawpoint" (as PodSixNet's
// client does on mouse up, so a click draws a dot). Without PenDown first
// it sends nothing.
func (c *Client) PenUp(pt board.Point) error {
	if !c.penDown {
		return nil
	}
	c.penDown = false
	c.penLast = board.Clamp(pt)
	return c.cl.Send(board.PointMsg{Action: board.ActionDrawPoint, Point: c.penLast})
}

// Leave waits (at most until ctx ends) until the server has what was
// drawn, then closes the connection. Call it from the Pump goroutine.
func (c *Client) Leave(ctx context.Context) error { return c.cl.Shutdown(ctx, "left") }

// Close ends the connection at once. Safe from any goroutine; idempotent.
func (c *Client) Close() error { return c.cl.Close() }

// listener holds the client's handlers, PodSixNet style (found by
// engine.Client.Register), so they stay out of Client's API.
type listener Client

// Network_connected is the server's greeting.
func (l *listener) Network_connected(engine.Msg) { l.state = Connected }

// Network_initial replaces the board with the server's.
func (l *listener) Network_initial(m board.InitialMsg) { l.board.Restore(m.Lines) }

// Network_players keeps the board's players to those listed: the drawings
// of those who left disappear.
func (l *listener) Network_players(m board.PlayersMsg) {
	l.players = len(m.Players)
	l.board.SetPlayers(m.Players)
}

// Network_startline begins a line for the player the server names.
func (l *listener) Network_startline(m board.PointMsg) { l.board.StartLine(m.ID, m.Point) }

// Network_drawpoint extends that player's line; without a line first it is
// ignored.
func (l *listener) Network_drawpoint(m board.PointMsg) { l.board.DrawPoint(m.ID, m.Point) }

// Network_error keeps a dial error for the status line and logs others.
func (l *listener) Network_error(err error) {
	if l.state == Connecting {
		l.failed = err
		return
	}
	fmt.Fprintf(l.log, "whiteboard: %v\n", err)
}

// Network_disconnected ends the session.
func (l *listener) Network_disconnected(d engine.Disconnected) {
	l.state = Disconnected
	l.reason = d.Reason
}
