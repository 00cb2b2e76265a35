package main

import (
	"fmt"
	"io"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// session is the server's state for one client (engine.Peer.Value).
type session struct {
	label    string // "server 127.0.0.1:40123"
	params   params
	next     int       // count of the next ping, in both series
	due      time.Time // when it is due
	tally    [nSeries]*tally
	doneSent bool
	reported bool
}

// pinger is the server side: it pings every client in both series and
// prints what it measures. Its methods run on the goroutine that pumps the
// server (handlers inside Pump, step between Pumps), the only one that
// writes to out.
type pinger struct {
	srv      *engine.Server
	out      io.Writer
	defaults params // for clients that send no hello
	reports  int    // sessions summarized so far
}

func newPinger(srv *engine.Server, out io.Writer, defaults params) (*pinger, error) {
	p := &pinger{srv: srv, out: out, defaults: defaults}
	srv.OnConnect(p.connect)
	srv.OnDisconnect(func(ch *engine.Peer, reason error) {
		s := ch.Value.(*session)
		if !s.reported {
			fmt.Fprintf(out, "%s: disconnected before the end: %v\n", s.label, reason)
		}
		p.report(ch)
	})
	for action, fn := range map[string]any{
		"hello": p.hello,
		"ping":  p.echo,
		"bye":   func(ch *engine.Peer, _ engine.Msg) { p.report(ch) },
		"error": func(p *engine.Peer, err error) { fmt.Fprintf(out, "server %s: error: %v\n", p.Addr(), err) },
	} {
		if err := srv.Handle(action, fn); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// connect starts a session; the first pings go out at the next step, after
// this Pump has dispatched the client's hello.
func (p *pinger) connect(ch *engine.Peer) {
	s := &session{label: "server " + ch.Addr().String(), params: p.defaults, due: time.Now()}
	for i := range s.tally {
		s.tally[i] = newTally()
	}
	ch.Value = s
	fmt.Fprintf(p.out, "%s: connected\n", s.label)
}

func (p *pinger) hello(ch *engine.Peer, h helloMsg) {
	s := ch.Value.(*session)
	s.params = s.params.fromHello(h)
	fmt.Fprintf(p.out, "%s: %d pings per series every %v, unreliable pings lost after %v\n",
		s.label, s.params.pings, s.params.interval, s.params.timeout)
}

// echo measures a client's echo of a ping, and answers it with a pong so
// the client can measure too.
func (p *pinger) echo(ch *engine.Peer, m pingMsg) {
	now := time.Now()
	s := ch.Value.(*session)
	sr, ok := parseSeries(m.Series)
	if !ok || m.Count < 0 {
		return
	}
	if rtt, ok := s.tally[sr].answer(m.Count, now); ok {
		fmt.Fprintf(p.out, "%s: %s ping %d rtt %s\n", s.label, seriesName[sr], m.Count, dur(rtt))
	} else {
		fmt.Fprintf(p.out, "%s: %s ping %d echoed late or twice (ignored)\n", s.label, seriesName[sr], m.Count)
	}
	_ = ch.Send(pingMsg{Action: "pong", Count: m.Count, Series: m.Series}, seriesMode[sr])
}

// step sends the pings that are due, counts unanswered unreliable pings as
// lost, tells clients whose pings are all accounted for that it is done,
// and returns how long the loop may sleep before the next step.
func (p *pinger) step(now time.Time) time.Duration {
	wait := time.Second
	for _, ch := range p.srv.Peers() {
		s := ch.Value.(*session)
		for _, c := range s.tally[unreliable].expire(now, s.params.timeout) {
			fmt.Fprintf(p.out, "%s: unreliable ping %d lost (no echo within %v)\n", s.label, c, s.params.timeout)
		}
		sent := false
		for s.params.pings == 0 || s.next < s.params.pings {
			if now.Before(s.due) {
				wait = min(wait, s.due.Sub(now))
				break
			}
			if len(s.tally[reliable].pending)+len(s.tally[unreliable].pending) >= maxPending {
				s.due = now.Add(s.params.interval) // the client does not echo: wait
				break
			}
			for sr := range nSeries {
				t := time.Now()
				if err := ch.Send(pingMsg{Action: "ping", Count: s.next, Series: seriesName[sr]}, seriesMode[sr]); err != nil {
					fmt.Fprintf(p.out, "%s: send: %v\n", s.label, err)
					continue
				}
				s.tally[sr].send(s.next, t)
			}
			s.next++
			sent = true
			// A fixed schedule: a late step catches up on missed pings
			// one interval apart rather than all at once.
			s.due = s.due.Add(s.params.interval)
			if s.due.Before(now) {
				s.due = now
			}
		}
		if !s.doneSent && s.params.pings > 0 && s.next >= s.params.pings &&
			len(s.tally[reliable].pending) == 0 && len(s.tally[unreliable].pending) == 0 {
			s.doneSent = true
			_ = ch.Send(engine.Msg{"action": "done"})
			sent = true
		}
		if len(s.tally[unreliable].pending) > 0 {
			wait = min(wait, 10*time.Millisecond) // check for losses
		}
		if sent {
			ch.Conn().Flush() // now, not at the next Pump: the clock is running
		}
	}
	return max(wait, 100*time.Microsecond)
}

// report prints a session's summary, once.
func (p *pinger) report(ch *engine.Peer) {
	s := ch.Value.(*session)
	if s.reported {
		return
	}
	s.reported = true
	p.reports++
	for sr := range nSeries {
		fmt.Fprintln(p.out, s.tally[sr].summarize().format(s.label, seriesName[sr]))
	}
	fmt.Fprintf(p.out, "%s netcode stats: %s\n", s.label, netStats(ch.Stats()))
}
