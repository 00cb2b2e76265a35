package discovery

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Advertisement is a record being advertised, returned by
// Backend.Advertise. Its methods are safe for concurrent use.
type Advertisement interface {
	// Update replaces the advertised record (validated as by Advertise);
	// browsers see the new one at their next poll. After Stop it returns an
	// error matching ErrStopped and net.ErrClosed. It does not block on the
	// network.
	Update(Record) error
	// Stop stops advertising. Browsers notice at their next poll (Memory) or
	// after their missed polls (MDNS: it multicasts a goodbye, and browsers
	// that miss it forget the record once its answers stop). Stop is
	// idempotent; it returns the first error met shutting responders
	// down.
	Stop() error
}

// Backend advertises and browses records of one service. Both
// implementations (MDNS, Memory) are safe for concurrent use.
type Backend interface {
	// Advertise starts answering for r under service (a name returned by
	// ServiceName) until the Advertisement is stopped. It validates r (see
	// Record and TXT) and errors wrap ErrInvalidRecord or ErrInvalidService.
	// ctx bounds the setup only (its values reach it; once Advertise has
	// returned, ctx's end does not stop the advertisement): if ctx ends
	// first, Advertise undoes what it started and returns an error
	// matching ctx.Err().
	Advertise(ctx context.Context, service string, r Record) (Advertisement, error)
	// Browse polls for records of service every interval (0 means
	// DefaultInterval) on one goroutine and sends the full current set,
	// sorted by ID, instance and port (CompareRecords) and excluding
	// nothing (the caller filters itself out), on the returned channel
	// after the first poll and then whenever the set changes. The set holds
	// one record per sighting: an ID advertised under another instance
	// label or port is another record, so one ID may appear up to 4 times
	// (anyone on the LAN can advertise any ID; the handshake decides who
	// is who). The channel holds one snapshot: a newer snapshot replaces an
	// unread one, so the poller never blocks. The slices are the receiver's
	// to keep. The channel is closed once ctx is done and the poller has
	// stopped, including any query it had started; nothing of Browse runs
	// after that.
	Browse(ctx context.Context, service string, interval time.Duration) (<-chan []Record, error)
}

// Both backends implement Backend.
var (
	_ Backend = (*MDNS)(nil)
	_ Backend = (*Memory)(nil)
)

// Defaults of Browse and MDNS.
const (
	// DefaultInterval is the poll interval Browse uses when given 0.
	DefaultInterval = time.Second
	// DefaultMissedPolls is MDNS.MissedPolls when it is 0: a record missed
	// in that many consecutive polls is gone.
	DefaultMissedPolls = 3
)

// Stats counts what a backend's browsers saw, summed over every Browse call
// on it. Read it with the backend's Stats method.
type Stats struct {
	// Polls counts completed poll rounds.
	Polls uint64
	// QueryErrors counts mDNS queries that returned an error (one per
	// interface per poll at most); always 0 for Memory.
	QueryErrors uint64
	// Entries counts entries polled (one per instance and address; MDNS
	// reports only complete instances of its service).
	Entries uint64
	// OtherService counts entries for other services, which are ignored
	// (Memory; MDNS does not even cache other services' records).
	OtherService uint64
	// Invalid counts answers for the service that were dropped: bad
	// instance label, port or TXT (see ParseTXT), or no usable address.
	Invalid uint64
	// Overflow counts sightings or addresses not tracked because a bound
	// was reached (512 sightings in all, 4 per ID, 16 addresses per
	// sighting), once per poll in which they were seen, and (MDNS) records
	// the browser's cache refused (2048 in all, 256 per source address).
	Overflow uint64
}

// counters backs Stats; safe for concurrent use.
type counters struct {
	polls, queryErrors, entries, other, invalid, overflow atomic.Uint64
}

func (c *counters) add(queryErrors uint64, p pollCounts) {
	c.polls.Add(1)
	c.queryErrors.Add(queryErrors)
	c.entries.Add(p.entries)
	c.other.Add(p.other)
	c.invalid.Add(p.invalid)
	c.overflow.Add(p.overflow)
}

func (c *counters) stats() Stats {
	return Stats{
		Polls:        c.polls.Load(),
		QueryErrors:  c.queryErrors.Load(),
		Entries:      c.entries.Load(),
		OtherService: c.other.Load(),
		Invalid:      c.invalid.Load(),
		Overflow:     c.overflow.Load(),
	}
}

// pollFunc runs one round of queries and returns the entries it found and
// the number of queries that failed. It returns once its wait is over (or
// ctx is done); the entries are the caller's.
type pollFunc func(ctx context.Context) (entries []*svcEntry, queryErrors uint64)

// browse starts the poll loop shared by both backends: poll, fold into t,
// publish on change, wait for the next tick. When the loop ends it calls
// done (if not nil), then closes the returned channel.
func browse(ctx context.Context, interval time.Duration, t *tracker, poll pollFunc, st *counters, done func()) <-chan []Record {
	out := make(chan []Record, 1)
	go func() {
		defer close(out)
		if done != nil {
			defer done()
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for n := uint64(1); ctx.Err() == nil; n++ {
			entries, qerr := poll(ctx)
			if ctx.Err() != nil {
				return
			}
			snap, changed, c := t.observe(n, entries)
			st.add(qerr, c)
			if changed {
				publish(out, snap)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// publish replaces any unread snapshot in out (capacity 1) with snap. It
// never blocks as long as the caller is out's only sender.
func publish(out chan []Record, snap []Record) {
	select {
	case <-out:
	default:
	}
	out <- snap
}

// browseInterval applies the default and checks the lower bound.
func browseInterval(interval, min time.Duration) (time.Duration, error) {
	if interval == 0 {
		interval = DefaultInterval
	}
	if interval < min || interval <= 0 {
		return 0, fmt.Errorf("%w: %v (minimum %v)", ErrInvalidInterval, interval, max(min, time.Nanosecond))
	}
	return interval, nil
}
