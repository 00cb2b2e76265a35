package main

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// printer writes what the chat shows: lines for people, or with -events one
// event per line for programs:
//
//	<ms since start> <kind> <short id or -> <name, Go-quoted> <text, Go-quoted>
//
// Kinds: start, joined, left, refused, chat, private (to this peer only),
// said (this peer's line to everyone), said-to (this peer's /to; the id and
// name are the recipient's), peers (text "N peers, ...") followed by one
// peer per member (this peer first; text "you", "rtt 1.2ms", ", host"),
// locked, unlocked (this peer's /lock, /unlock), locked-by, unlocked-by (a
// peer's; the id and name are that peer's), waited, help, error, bye. Only the chat's loop calls it.
type printer struct {
	w      io.Writer
	events bool
	start  time.Time
}

func (p *printer) event(kind string, m member, text string) {
	if p.events {
		id := m.short()
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(p.w, "%d %s %s %s %s\n", time.Since(p.start).Milliseconds(), kind, id, strconv.Quote(m.name), strconv.Quote(text))
		return
	}
	var line string
	switch kind {
	case "start":
		line = fmt.Sprintf("*** you are %s (id %s), %s; /help lists the commands", m.name, m.short(), text)
	case "joined":
		line = fmt.Sprintf("*** %s joined (id %s)", m.name, m.short())
	case "left":
		line = fmt.Sprintf("*** %s left (id %s): %s", m.name, m.short(), text)
	case "refused":
		line = "*** refused: " + text
	case "chat", "said":
		line = m.name + ": " + text
	case "private":
		line = m.name + " (to you): " + text
	case "said-to":
		line = "you (to " + m.name + "): " + text
	case "peer":
		line = fmt.Sprintf("***   %-20s %s  %s", m.name, m.short(), text)
	case "locked", "unlocked":
		line = "*** " + kind + ": " + text
	case "locked-by":
		line = fmt.Sprintf("*** %s locked the session: %s", m.name, text)
	case "unlocked-by":
		line = fmt.Sprintf("*** %s unlocked the session: %s", m.name, text)
	case "help":
		line = "    " + text
	case "bye":
		line = "*** you left the session"
	default: // peers, waited, error
		line = "*** " + text
	}
	fmt.Fprintln(p.w, line)
}
