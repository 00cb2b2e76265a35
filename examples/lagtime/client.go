package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// echoer is the client side, a PodSixNet-style listener: Register finds its
// Network_<action> methods, which run inside the client's Pump, on the
// goroutine that pumps it (the only one that writes to out).
type echoer struct {
	cl       *engine.Client
	out      io.Writer
	params   params
	received [nSeries]int // pings received, per series
	tally    [nSeries]*tally
	reachedN time.Time // when the last reliable ping arrived
	done     bool      // the server said all its pings are accounted for
	finished bool      // summary printed, leaving
	ended    bool      // "disconnected" arrived
	connects bool      // the connection came up
	endErr   error
}

func newEchoer(cl *engine.Client, out io.Writer, p params) (*echoer, error) {
	e := &echoer{cl: cl, out: out, params: p}
	for i := range e.tally {
		e.tally[i] = newTally()
	}
	if err := cl.Register(e); err != nil {
		return nil, err
	}
	// Queued until the connection is up, then sent first.
	if err := cl.Send(p.hello()); err != nil {
		return nil, err
	}
	return e, nil
}

// Network_connected is the server's greeting.
func (e *echoer) Network_connected(engine.Msg) {
	e.connects = true
	fmt.Fprintln(e.out, "client: connected")
}

// Network_ping echoes a ping back in the same delivery mode, and starts
// the client's own round trip (echo -> pong).
func (e *echoer) Network_ping(m pingMsg) {
	sr, ok := parseSeries(m.Series)
	if !ok || m.Count < 0 || e.finished || (e.params.pings > 0 && m.Count >= e.params.pings) {
		return
	}
	e.received[sr]++
	now := time.Now()
	if err := e.cl.Send(m, seriesMode[sr]); err != nil {
		fmt.Fprintf(e.out, "client: echo: %v\n", err)
		return
	}
	e.tally[sr].send(m.Count, now)
	if sr == reliable && e.received[reliable] == e.params.pings {
		e.reachedN = now
	}
}

// Network_pong completes one of the client's round trips.
func (e *echoer) Network_pong(m pingMsg) {
	sr, ok := parseSeries(m.Series)
	if !ok {
		return
	}
	if rtt, ok := e.tally[sr].answer(m.Count, time.Now()); ok {
		fmt.Fprintf(e.out, "client: %s ping %d rtt %s\n", seriesName[sr], m.Count, dur(rtt))
	}
}

// Network_done: the server has nothing more to send.
func (e *echoer) Network_done(engine.Msg) { e.done = true }

// Network_error reports a failed dial or a bad message.
func (e *echoer) Network_error(err error) { fmt.Fprintf(e.out, "client: error: %v\n", err) }

// Network_disconnected is the end of the connection.
func (e *echoer) Network_disconnected(d engine.Disconnected) {
	e.ended = true
	if !e.finished {
		e.endErr = d.Err
		fmt.Fprintf(e.out, "client: disconnected before the end: %s\n", d.Reason)
		e.summarize()
	}
}

// step counts unanswered unreliable echoes as lost and, once every ping
// was received and every echo answered or lost, and the server said it is
// done (or, from a server that does not say, the loss timeout passed since
// the last reliable ping), prints the summary and leaves. It returns how
// long the loop may sleep before the next step.
func (e *echoer) step(now time.Time) time.Duration {
	if e.finished || e.ended {
		return time.Second
	}
	for _, c := range e.tally[unreliable].expire(now, e.params.timeout) {
		fmt.Fprintf(e.out, "client: unreliable ping %d lost (no pong within %v)\n", c, e.params.timeout)
	}
	if e.received[reliable] < e.params.pings || len(e.tally[reliable].pending) > 0 {
		return e.wait()
	}
	if !e.done && now.Sub(e.reachedN) < e.params.timeout {
		return e.wait()
	}
	if len(e.tally[unreliable].pending) > 0 {
		return e.wait()
	}
	e.finish()
	return time.Second
}

func (e *echoer) wait() time.Duration {
	if len(e.tally[unreliable].pending) > 0 || e.received[reliable] >= e.params.pings {
		return 10 * time.Millisecond
	}
	return time.Second
}

// finish prints the summary, says bye, and closes once the server has
// acknowledged everything (the next Pump delivers "disconnected").
func (e *echoer) finish() {
	e.finished = true
	e.summarize()
	_ = e.cl.Send(engine.Msg{"action": "bye"})
	e.leave()
}

// leave closes gracefully: what was sent is acknowledged first (2 s at
// most).
func (e *echoer) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e.cl.Pump()
	e.cl.Shutdown(ctx, "left")
}

// interrupt ends the session early (Ctrl-C), with a summary of what was
// measured.
func (e *echoer) interrupt() {
	if e.finished || e.ended {
		return
	}
	fmt.Fprintln(e.out, "client: interrupted")
	e.finished = true
	e.summarize()
	e.leave()
}

func (e *echoer) summarize() {
	fmt.Fprintf(e.out, "client pings received: reliable %d/%d, unreliable %d/%d\n",
		e.received[reliable], e.params.pings, e.received[unreliable], e.params.pings)
	for sr := range nSeries {
		fmt.Fprintln(e.out, e.tally[sr].summarize().format("client", seriesName[sr]))
	}
	fmt.Fprintf(e.out, "client netcode stats: %s\n", netStats(e.cl.Stats()))
}

// netStats is the transport's own view, for comparison with the pings'.
func netStats(s netcode.Stats) string {
	return fmt.Sprintf("smoothed rtt %s, min rtt %s, jitter %s, packet loss %.1f%%, packets lost %d, resends %d",
		dur(s.RTT), dur(s.MinRTT), dur(s.Jitter), 100*s.Loss, s.LostPackets, s.Resends)
}
