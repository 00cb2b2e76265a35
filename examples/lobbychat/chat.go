package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/examples/internal/termtext"
)

// member is what the chat shows of a peer (or of itself): identity (key
// fingerprint, hex), display name (already cleaned for a terminal) and
// smoothed round-trip time.
type member struct {
	id   string
	name string
	rtt  time.Duration
}

// short is the identity as the chat shows it: its first 8 hex digits.
func (m member) short() string { return shortID(m.id) }

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// room is what the chat needs of a lobby session; sessionRoom is the real
// one, the tests use a fake. Its methods are called from the chat's loop
// only; pump delivers the room's events to the chat's event methods on
// that same goroutine.
type room interface {
	self() member
	// members returns the other peers in the session, ordered by identity.
	members() []member
	// host returns the identity of the session's host.
	host() string
	// send sends a line to the peers with these identities (all if none).
	send(text string, private bool, to ...string) error
	locked() bool
	// lock and unlock stop and restart looking for peers, for the whole
	// session: the peers follow.
	lock() error
	unlock() error
	// wake is signalled when traffic arrived.
	wake() <-chan struct{}
	// pump delivers what happened (joins, leaves, messages). It never blocks.
	pump()
	// code is the rendezvous room's code; "" on the LAN.
	code() string
	// leave flushes what was sent, tells the peers and closes the session.
	// It blocks for up to a couple of seconds.
	leave()
}

// Limits of what the chat sends and shows.
const (
	maxNameRunes = 63
	maxTextRunes = 500
	defaultWait  = 30 * time.Second
	tickEvery    = 50 * time.Millisecond // pumps at least this often: discovery does not wake the loop
	minIDPrefix  = 4
)

// chat is lobbychat's logic: it turns typed lines into actions on a room
// and the room's events into lines for the printer. It belongs to the
// goroutine that runs loop, which is the only one that prints.
type chat struct {
	room room
	out  *printer

	quit      bool
	waitPeers int       // /wait: hold input until this many peers are here
	holdUntil time.Time // /wait's deadline or /sleep's end; zero: not holding
	refusals  map[string]bool
}

// newChat returns a chat that prints to out; set its room before loop.
func newChat(out *printer) *chat {
	return &chat{out: out, refusals: make(map[string]bool)}
}

// events is what a room reports, from inside its pump; a chat takes them.
type events interface {
	joined(m member)
	left(m member, reason error)
	refused(reason error)
	message(from member, text string, private bool)
	// lockChanged: a peer locked or unlocked the session for everyone.
	lockChanged(by member, locked bool)
	// problem: something the chat did not ask for went wrong.
	problem(err error)
}

var _ events = (*chat)(nil)

// Events, delivered by room.pump.

func (c *chat) joined(m member) {
	clear(c.refusals)
	c.out.event("joined", m, "")
}

func (c *chat) left(m member, reason error) {
	clear(c.refusals)
	c.out.event("left", m, reasonText(reason))
}

// refused reports a session that would not take us; each reason once
// until someone joins or leaves (a full session's peers all say so). The
// lobby words one reason two ways ("session full" from an advertisement,
// "lobby: refused: session full" from a peer that was asked): both are
// shown as the former.
func (c *chat) refused(reason error) {
	text := strings.TrimPrefix(reasonText(reason), "lobby: refused: ")
	if c.refusals[text] {
		return
	}
	c.refusals[text] = true
	c.out.event("refused", member{}, text)
}

func (c *chat) message(from member, text string, private bool) {
	if private {
		c.out.event("private", from, text)
	} else {
		c.out.event("chat", from, text)
	}
}

func (c *chat) lockChanged(by member, locked bool) {
	if locked {
		c.out.event("locked-by", by, fmt.Sprintf("not looking for peers; the %d in the session stay", len(c.room.members())+1))
	} else {
		c.out.event("unlocked-by", by, "looking for peers")
	}
}

func (c *chat) problem(err error) {
	c.out.event("error", member{}, termtext.Clean(err.Error(), maxTextRunes))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func reasonText(err error) string {
	if err == nil {
		return "left"
	}
	return termtext.Clean(err.Error(), maxTextRunes)
}

// command handles one typed line.
func (c *chat) command(line string, now time.Time) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		c.say(strings.TrimPrefix(line, "/"))
		return
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "/help":
		c.help()
	case "/peers":
		c.peers()
	case "/to":
		c.to(arg)
	case "/lock":
		if c.room.locked() {
			c.out.event("error", member{}, "already locked (/unlock to look for peers again)")
			return
		}
		if err := c.room.lock(); err != nil {
			c.problem(err)
		}
		c.out.event("locked", member{}, fmt.Sprintf("not looking for peers, nor are the others; the %d in the session stay", len(c.room.members())+1))
	case "/unlock":
		if !c.room.locked() {
			c.out.event("error", member{}, "not locked")
			return
		}
		if err := c.room.unlock(); err != nil {
			c.out.event("error", member{}, termtext.Clean(err.Error(), maxTextRunes))
			return
		}
		c.out.event("unlocked", member{}, "looking for peers, and so are the others")
	case "/wait":
		c.wait(arg, now)
	case "/sleep":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			c.out.event("error", member{}, "usage: /sleep DURATION (e.g. /sleep 2s)")
			return
		}
		c.holdUntil = now.Add(d)
	case "/quit":
		c.quit = true
	default:
		c.out.event("error", member{}, fmt.Sprintf("unknown command %s (/help lists them; // starts a line with /)", termtext.Clean(cmd, 32)))
	}
}

func (c *chat) help() {
	for _, l := range []string{
		"TEXT              say TEXT to everyone (//TEXT says /TEXT)",
		"/to WHO TEXT      say TEXT to one peer: WHO is a name (\"quoted\" if it has spaces) or an id prefix",
		"/peers            list the peers: name, id, round-trip time, host",
		"/lock, /unlock    stop / start looking for peers, for the whole session (those here stay)",
		"/wait N [DUR]     hold further input until N peers are here (at most DUR, default 30s)",
		"/sleep DUR        hold further input for DUR",
		"/quit             leave (so does the end of input, after -linger)",
	} {
		c.out.event("help", member{}, l)
	}
}

// say sends a line to everyone.
func (c *chat) say(text string) {
	text = termtext.Clean(text, maxTextRunes)
	if text == "" {
		return
	}
	if len(c.room.members()) == 0 {
		c.out.event("error", member{}, "nobody else is here yet: not sent")
		return
	}
	if err := c.room.send(text, false); err != nil {
		c.out.event("error", member{}, "send: "+termtext.Clean(err.Error(), maxTextRunes))
		return
	}
	c.out.event("said", c.room.self(), text)
}

// to handles "/to WHO TEXT".
func (c *chat) to(arg string) {
	who, text, ok := splitTarget(arg)
	text = termtext.Clean(text, maxTextRunes)
	if !ok || who == "" || text == "" {
		c.out.event("error", member{}, `usage: /to WHO TEXT (WHO: a name, "a quoted name", or an id prefix)`)
		return
	}
	m, err := resolve(c.room.members(), who)
	if err != nil {
		c.out.event("error", member{}, err.Error())
		return
	}
	if err := c.room.send(text, true, m.id); err != nil {
		c.out.event("error", member{}, "send: "+termtext.Clean(err.Error(), maxTextRunes))
		return
	}
	c.out.event("said-to", m, text)
}

// splitTarget splits `WHO TEXT` or `"W H O" TEXT`.
func splitTarget(arg string) (who, text string, ok bool) {
	if strings.HasPrefix(arg, `"`) {
		end := strings.IndexByte(arg[1:], '"')
		if end < 0 {
			return "", "", false
		}
		return arg[1 : 1+end], strings.TrimSpace(arg[2+end:]), true
	}
	who, text, ok = strings.Cut(arg, " ")
	return who, strings.TrimSpace(text), ok
}

// resolve finds the one peer that who names: by exact name, else by name
// ignoring case, else by identity prefix (at least 4 hex digits). Names
// need not be unique: two matches is an error that lists their ids.
func resolve(ms []member, who string) (member, error) {
	for _, match := range []func(member) bool{
		func(m member) bool { return m.name == who },
		func(m member) bool { return strings.EqualFold(m.name, who) },
		func(m member) bool {
			return len(who) >= minIDPrefix && strings.HasPrefix(m.id, strings.ToLower(who))
		},
	} {
		var found []member
		for _, m := range ms {
			if match(m) {
				found = append(found, m)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		ids := make([]string, len(found))
		for i, m := range found {
			ids[i] = m.short()
		}
		return member{}, fmt.Errorf("%q is ambiguous: %d peers match (ids %s); use more of the id", who, len(found), strings.Join(ids, ", "))
	}
	return member{}, fmt.Errorf("no peer %q here (/peers lists them)", termtext.Clean(who, maxNameRunes))
}

// peers lists the session.
func (c *chat) peers() {
	ms := c.room.members()
	state := "looking for more"
	if c.room.locked() {
		state = "locked"
	}
	c.out.event("peers", member{}, fmt.Sprintf("%s, %s", plural(len(ms), "peer"), state))
	host := c.room.host()
	self := c.room.self()
	if self.id == host {
		c.out.event("peer", self, "you, host")
	} else {
		c.out.event("peer", self, "you")
	}
	for _, m := range ms {
		note := "rtt " + m.rtt.Round(100*time.Microsecond).String()
		if m.id == host {
			note += ", host"
		}
		c.out.event("peer", m, note)
	}
}

// wait handles "/wait N [DUR]".
func (c *chat) wait(arg string, now time.Time) {
	fields := strings.Fields(arg)
	n, err := 0, errors.New("usage")
	if len(fields) >= 1 && len(fields) <= 2 {
		n, err = strconv.Atoi(fields[0])
	}
	d := defaultWait
	if err == nil && len(fields) == 2 {
		d, err = time.ParseDuration(fields[1])
	}
	if err != nil || n < 1 || d <= 0 {
		c.out.event("error", member{}, "usage: /wait N [DURATION] (N peers, at most DURATION, default 30s)")
		return
	}
	c.waitPeers, c.holdUntil = n, now.Add(d)
	c.checkHold(now)
}

// holding reports whether input is held back (/wait, /sleep).
func (c *chat) holding() bool { return !c.holdUntil.IsZero() }

// checkHold ends a /wait or /sleep that is over.
func (c *chat) checkHold(now time.Time) {
	if !c.holding() {
		return
	}
	n := len(c.room.members())
	switch {
	case c.waitPeers > 0 && n >= c.waitPeers:
		c.out.event("waited", member{}, plural(n, "peer")+" here")
	case now.Before(c.holdUntil):
		return
	case c.waitPeers > 0:
		c.out.event("error", member{}, fmt.Sprintf("/wait: %d of %s here; going on", n, plural(c.waitPeers, "peer")))
	}
	c.waitPeers, c.holdUntil = 0, time.Time{}
}

// loop runs the chat until /quit, the end of input plus linger, or ctx
// ends; then it leaves the room. It is the only goroutine that prints. It
// blocks.
func (c *chat) loop(ctx context.Context, lines <-chan string, linger time.Duration) {
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	var leaveAt time.Time // set at the end of input
	for !c.quit {
		in := lines
		if c.holding() {
			in = nil
		}
		select {
		case line, ok := <-in:
			if !ok {
				lines = nil
				leaveAt = time.Now().Add(linger)
				break
			}
			c.command(line, time.Now())
		case <-c.room.wake():
		case <-tick.C:
		case <-ctx.Done():
			c.quit = true
		}
		c.room.pump()
		now := time.Now()
		c.checkHold(now)
		if !leaveAt.IsZero() && !now.Before(leaveAt) && !c.holding() {
			c.quit = true
		}
	}
	c.room.leave()
	c.out.event("bye", c.room.self(), "")
}
