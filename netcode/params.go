package netcode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// KEYS_READY parameters versions (PROTOCOL.md §5): version 0 carries the
// channel layout, window and message limit; version 1 adds the
// application protocol (Config.Application) after them. An endpoint
// without an application protocol sends version 0, as before version 1
// existed, so it still meets older peers.
const (
	paramsVersion0 = 0
	paramsVersion1 = 1
)

// MaxApplicationLen bounds Config.Application, in bytes.
const MaxApplicationLen = 64

// channelParams encodes what both peers must agree on (PROTOCOL.md §6):
// the channels and their modes, the reliable window, the largest message
// and, in version 1, the application protocol. A peer that differs would
// otherwise see protocol violations (or undecodable messages) later.
func (c *config) channelParams() []byte {
	v := byte(paramsVersion0)
	if c.Application != "" {
		v = paramsVersion1
	}
	b := []byte{v}
	b = binary.AppendUvarint(b, uint64(len(c.modes)))
	for _, m := range c.modes {
		b = append(b, byte(m))
	}
	b = binary.AppendUvarint(b, uint64(c.ReliableWindow))
	b = binary.AppendUvarint(b, uint64(c.MaxMessageSize))
	if v == paramsVersion1 {
		b = binary.AppendUvarint(b, uint64(len(c.Application)))
		b = append(b, c.Application...)
	}
	return b
}

// parsedParams is KEYS_READY parameters split into what the transport
// needs (core: the version 0 fields, encoded) and the application
// protocol. Hostile input: parseParams never reads past b and bounds
// every length.
type parsedParams struct {
	version byte
	core    []byte // the channel fields, as encoded (aliases the input)
	app     string
	hasApp  bool
}

func parseParams(b []byte) (parsedParams, bool) {
	if len(b) == 0 || (b[0] != paramsVersion0 && b[0] != paramsVersion1) {
		return parsedParams{}, false
	}
	p := parsedParams{version: b[0]}
	rest := b[1:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return parsedParams{}, false
	}
	rest = rest[k+int(n):]
	for range 2 { // window, max message
		_, k := binary.Uvarint(rest)
		if k <= 0 {
			return parsedParams{}, false
		}
		rest = rest[k:]
	}
	p.core = b[1 : len(b)-len(rest)]
	if p.version == paramsVersion0 {
		return p, len(rest) == 0
	}
	n, k = binary.Uvarint(rest)
	if k <= 0 || n > MaxApplicationLen || n != uint64(len(rest)-k) {
		return parsedParams{}, false
	}
	p.app, p.hasApp = string(rest[k:]), true
	return p, true
}

// describeParams renders encoded parameters for an error message.
func describeParams(b []byte) string {
	p, ok := parseParams(b)
	if !ok {
		return fmt.Sprintf("unknown parameters %x", b[:min(len(b), 32)])
	}
	core := p.core
	n, k := binary.Uvarint(core)
	core = core[k:]
	names := make([]string, n)
	for i := range names {
		names[i] = DeliveryMode(core[i]).String()
	}
	core = core[n:]
	w, k1 := binary.Uvarint(core)
	mm, _ := binary.Uvarint(core[k1:])
	s := fmt.Sprintf("channels [%s], window %d, max message %d", strings.Join(names, " "), w, mm)
	if p.hasApp {
		s += ", application " + quoteApp(p.app)
	}
	return s
}

// quoteApp renders an application protocol (from the network: untrusted)
// for an error message: quoted, at most maxQuotedApp bytes, so that the
// reason naming two of them fits a CLOSE frame's 256 bytes.
func quoteApp(s string) string {
	q := fmt.Sprintf("%q", strings.ToValidUTF8(s, "\uFFFD"))
	if len(q) > maxQuotedApp {
		cut := maxQuotedApp - len("...")
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
		q = q[:cut] + "..."
	}
	return q
}

const maxQuotedApp = 100

// mismatchReason is the close reason when the peer's KEYS_READY
// parameters differ from ours. When only the application protocols
// differ it names both, by role (client, server), so the text reads the
// same on both sides.
func mismatchReason(ours, theirs []byte, server bool) string {
	o, ok1 := parseParams(ours)
	t, ok2 := parseParams(theirs)
	if ok1 && ok2 && bytes.Equal(o.core, t.core) {
		client, srv := t, o
		if !server {
			client, srv = o, t
		}
		return fmt.Sprintf("application protocols differ: client %s, server %s", describeApp(client), describeApp(srv))
	}
	// Longer, but only ever local: a CLOSE frame carries its first 256
	// bytes.
	return fmt.Sprintf("peers configured differently: here %s, peer %s", describeParams(ours), describeParams(theirs))
}

func describeApp(p parsedParams) string {
	if !p.hasApp {
		return "none (not configured, or an older pumpnet)"
	}
	return quoteApp(p.app)
}

// Application returns the application protocol the endpoint names in
// KEYS_READY (Config.Application; "" for none). Safe from any goroutine.
func (e *Endpoint) Application() string { return e.cfg.Application }
