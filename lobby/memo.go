package lobby

import (
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// maxRemembered bounds each of the session's per-identity memories
// (peers to retry later, peers it was in a session with, full sessions
// reported): identities are free to make up, so a LAN neighbour rotating
// them must not grow the session's memory.
const maxRemembered = 64

// memo remembers up to maxRemembered identities, each with a time; when
// full, the identity with the earliest time is forgotten first. It is not
// safe for concurrent use (the Pump goroutine owns it).
type memo struct {
	m map[netcode.Fingerprint]time.Time
}

func newMemo() memo { return memo{m: make(map[netcode.Fingerprint]time.Time)} }

// get returns id's time, zero if not remembered.
func (m memo) get(id netcode.Fingerprint) time.Time { return m.m[id] }

func (m memo) has(id netcode.Fingerprint) bool { _, ok := m.m[id]; return ok }

// set remembers id with time t, forgetting the earliest entry if the memo
// is full.
func (m memo) set(id netcode.Fingerprint, t time.Time) {
	if _, ok := m.m[id]; !ok && len(m.m) >= maxRemembered {
		var oldest netcode.Fingerprint
		var ot time.Time
		first := true
		for k, v := range m.m {
			if first || v.Before(ot) {
				oldest, ot, first = k, v, false
			}
		}
		delete(m.m, oldest)
	}
	m.m[id] = t
}

func (m memo) del(id netcode.Fingerprint) { delete(m.m, id) }

func (m memo) len() int { return len(m.m) }

// forgetBefore forgets the entries whose time is before t.
func (m memo) forgetBefore(t time.Time) {
	for k, v := range m.m {
		if v.Before(t) {
			delete(m.m, k)
		}
	}
}

// Refusal events that come from LAN records alone (PeerRefused with a nil
// peer: a full session seen advertising 0 seats) are unauthenticated, and
// identities are free to make up: at most refusalBurst of them are
// delivered at once, then one per refusalEvery; the rest are dropped.
const (
	refusalBurst = 8
	refusalEvery = time.Second
)

// tokenBucket limits events to refusalBurst at once and one per
// refusalEvery after that. Its zero value is full from its first use.
type tokenBucket struct {
	tokens  int
	last    time.Time
	started bool
	dropped uint64 // events refused so far
}

// take reports whether an event may be delivered at now, using a token.
func (b *tokenBucket) take(now time.Time) bool {
	if !b.started {
		b.started, b.tokens, b.last = true, refusalBurst, now
	}
	if n := int(now.Sub(b.last) / refusalEvery); n > 0 {
		b.tokens = min(refusalBurst, b.tokens+n)
		b.last = b.last.Add(time.Duration(n) * refusalEvery)
	}
	if b.tokens == 0 {
		b.dropped++
		return false
	}
	b.tokens--
	return true
}
