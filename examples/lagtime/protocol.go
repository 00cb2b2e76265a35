package main

import (
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// The lagtime protocol. PodSixNet's LagTime: the server pings, the client
// echoes the ping back, the server prints the round trip. Made useful: two
// series run side by side, one reliable and one unreliable, and the server
// answers each echo with a pong so that the client measures a round trip
// of its own too.
//
//	client -> server  {action: hello, pings, interval_us, timeout_us}  first (queued before the connection is up)
//	server -> client  {action: ping, count, series}   every interval, once per series; count 0, 1, ...
//	client -> server  {action: ping, count, series}   the echo (server measures ping -> echo)
//	server -> client  {action: pong, count, series}   answers the echo (client measures echo -> pong)
//	server -> client  {action: done}                  all pings sent and answered or lost
//	client -> server  {action: bye}                   the client prints its summary and closes
//
// Each message of a series travels in that series' delivery mode:
// "reliable" in ReliableOrdered, "unreliable" in Unreliable.

// pingMsg is a ping, its echo (same action, like PodSixNet's) and the pong.
type pingMsg struct {
	Action string `msgpack:"action"`
	Count  int    `msgpack:"count"`
	Series string `msgpack:"series"`
}

// helloMsg is the client's request for a session.
type helloMsg struct {
	Action     string `msgpack:"action"`
	Pings      int    `msgpack:"pings"`
	IntervalUS int64  `msgpack:"interval_us"`
	TimeoutUS  int64  `msgpack:"timeout_us"`
}

// series numbers the two ping series.
type series int

const (
	reliable series = iota
	unreliable
	nSeries
)

var (
	seriesName = [nSeries]string{"reliable", "unreliable"}
	seriesMode = [nSeries]engine.Mode{engine.ReliableOrdered, engine.Unreliable}
)

func parseSeries(s string) (series, bool) {
	for i, n := range seriesName {
		if s == n {
			return series(i), true
		}
	}
	return 0, false
}

// params are a session's settings: the client's flags, sent in hello.
type params struct {
	pings    int           // pings per series; 0: until the client leaves
	interval time.Duration // between pings
	timeout  time.Duration // an unreliable ping unanswered this long is lost
}

// Bounds the server applies to a client's hello.
const (
	maxPings    = 1_000_000
	minInterval = time.Millisecond
	maxInterval = time.Minute
	minTimeout  = 10 * time.Millisecond
	maxTimeout  = time.Minute
	// maxPending stops a server from pinging a client that does not echo.
	maxPending = 1000
)

func (p params) hello() helloMsg {
	return helloMsg{Action: "hello", Pings: p.pings,
		IntervalUS: p.interval.Microseconds(), TimeoutUS: p.timeout.Microseconds()}
}

// fromHello applies a client's hello to p, within bounds.
func (p params) fromHello(h helloMsg) params {
	if h.Pings > 0 {
		p.pings = min(h.Pings, maxPings)
	}
	if h.IntervalUS > 0 {
		p.interval = min(max(time.Duration(h.IntervalUS)*time.Microsecond, minInterval), maxInterval)
	}
	if h.TimeoutUS > 0 {
		p.timeout = min(max(time.Duration(h.TimeoutUS)*time.Microsecond, minTimeout), maxTimeout)
	}
	return p
}
