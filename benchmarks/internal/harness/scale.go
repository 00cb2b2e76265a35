package harness

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
)

// Scale scenario: every client sends a 100-byte input 60 times a second,
// and the server broadcasts a 300-byte state to every client 60 times a
// second.
const (
	ScaleTPS       = 60
	ScaleInputSize = 100 // engine frame / UDP payload
	ScaleStateSize = 300
	// ScaleGrace is how long the clients wait after "stop" for the last
	// states, and the server for the last inputs, before counting losses.
	ScaleGrace = 300 * time.Millisecond
)

// ScaleResult is one round of the scale benchmark.
type ScaleResult struct {
	Ticks, Clients int
	CPU            time.Duration // server process CPU over the ticks; < 0: unknown
	Allocs         uint64        // server heap allocations over the ticks
	StatesGot      int64         // at the clients
	InputsSent     int64         // by the clients
	InputsGot      int64         // at the server
	P50, P99       time.Duration // state delivery
	ScaleCounters                // the server's datagrams and socket calls over the ticks
}

// ScaleCounters are a scale server's datagrams and socket calls.
type ScaleCounters struct {
	DgramsIn, DgramsOut uint64 // datagrams received and sent
	CallsIn, CallsOut   uint64 // socket read and write calls; 0, 0: not known
}

// CPUPerTick returns the server's CPU µs per tick (0: unknown).
func (r ScaleResult) CPUPerTick() float64 {
	if r.CPU < 0 || r.Ticks == 0 {
		return 0
	}
	return Micros(r.CPU) / float64(r.Ticks)
}

// Report reports the round's metrics against base, the paired raw UDP
// round: cpu-µs/tick, p50-µs, p99-µs, lost-msgs, lost-%, allocs/msg,
// dgrams-in/tick, dgrams-out/tick, cpu-ns/dgram (the server's CPU per
// datagram in and out), reads/tick and writes/tick (when known), cpu/udp
// and p99/udp.
func (r ScaleResult) Report(b *testing.B, base ScaleResult) {
	b.ReportMetric(r.CPUPerTick(), "cpu-µs/tick")
	b.ReportMetric(Micros(r.P50), "p50-µs")
	b.ReportMetric(Micros(r.P99), "p99-µs")
	states := int64(r.Ticks * r.Clients)
	lost := states - r.StatesGot + r.InputsSent - r.InputsGot
	b.ReportMetric(float64(lost), "lost-msgs")
	if total := states + r.InputsSent; total > 0 {
		b.ReportMetric(100*float64(lost)/float64(total), "lost-%")
	}
	if msgs := states + r.InputsGot; msgs > 0 {
		b.ReportMetric(float64(r.Allocs)/float64(msgs), "allocs/msg")
	}
	if r.Ticks > 0 {
		b.ReportMetric(float64(r.DgramsIn)/float64(r.Ticks), "dgrams-in/tick")
		b.ReportMetric(float64(r.DgramsOut)/float64(r.Ticks), "dgrams-out/tick")
		if r.CallsIn+r.CallsOut > 0 {
			b.ReportMetric(float64(r.CallsIn)/float64(r.Ticks), "reads/tick")
			b.ReportMetric(float64(r.CallsOut)/float64(r.Ticks), "writes/tick")
		}
	}
	if d := r.DgramsIn + r.DgramsOut; r.CPU > 0 && d > 0 {
		b.ReportMetric(float64(r.CPU.Nanoseconds())/float64(d), "cpu-ns/dgram")
	}
	ReportRatio(b, Ratio(r.CPUPerTick(), base.CPUPerTick()), "cpu/udp")
	ReportRatio(b, Ratio(float64(r.P99), float64(base.P99)), "p99/udp")
}

// ScaleServer is the server side of a ScaleSession for one transport.
type ScaleServer interface {
	// Run runs ticks server ticks at ScaleTPS, each broadcasting a
	// ScaleStateSize-byte state stamped with StampState to every client,
	// and returns the server's counters over them; it blocks.
	Run(ticks int) ScaleCounters
	// Inputs returns the inputs received so far; it is goroutine-safe.
	Inputs() int64
	// Close closes the server.
	Close()
}

// ScaleListen makes the server of a transport that ScaleSession does not
// know, or returns nil when it knows none either: it listens, fills
// spec's address, starts the clients with start, and returns once every
// one of the spec.Clients clients is connected.
type ScaleListen func(tb testing.TB, spec *Spec, start func(Spec) *Helper) ScaleServer

// StampState writes the tick and the send time (Unix ns) into the first
// 16 bytes of a state.
func StampState(state []byte, tick uint64, now int64) {
	binary.LittleEndian.PutUint64(state[0:], tick)
	binary.LittleEndian.PutUint64(state[8:], uint64(now))
}

// RunTicks calls tick ticks times at ScaleTPS with the tick number and the
// time; it blocks.
func RunTicks(ticks int, tick func(n uint64, now int64)) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := 0
	engine.RunTicks(ctx, ScaleTPS, func(n uint64) {
		tick(n, time.Now().UnixNano())
		if done++; done == ticks {
			cancel()
		}
	})
}

// ScaleSession is a server (in this process) and a helper process full of
// connected clients, for every round of one sub-benchmark.
type ScaleSession struct {
	tb      testing.TB
	clients int
	h       *Helper
	srv     ScaleServer
}

// NewScaleSession starts a server of transport ("raw-udp", "engine", or
// one that extra makes; extra may be nil) and n clients; it blocks until
// every client is connected.
func NewScaleSession(tb testing.TB, transport string, n int, extra ScaleListen) *ScaleSession {
	tb.Helper()
	s := &ScaleSession{tb: tb, clients: n}
	spec := Spec{Role: "scale", Transport: transport, Clients: n, Size: ScaleInputSize}
	start := func(spec Spec) *Helper {
		s.h = StartHelper(tb, spec)
		return s.h
	}
	switch transport {
	case "raw-udp":
		s.srv = listenScaleUDP(tb, &spec, start)
	case "engine":
		s.srv = listenScaleEngine(tb, &spec, start)
	default:
		if extra != nil {
			s.srv = extra(tb, &spec, start)
		}
		if s.srv == nil {
			tb.Fatalf("unknown transport %q", transport)
		}
	}
	return s
}

// Round runs ticks server ticks with every client sending inputs, then
// collects what the clients received; it blocks. b's timer runs over the
// ticks alone.
func (s *ScaleSession) Round(b Timer, ticks int) ScaleResult {
	in0 := s.srv.Inputs()
	s.h.Send("go")
	s.h.Reply(time.Minute) // every client's input clock is running
	b.ResetTimer()
	m := StartMeter()
	d := s.srv.Run(ticks)
	cpu, _, allocs := m.Stop()
	b.StopTimer()
	s.h.Send("stop")
	var rep Reply
	if w, ok := s.srv.(interface{ awaitReport(*Helper) Reply }); ok {
		rep = w.awaitReport(s.h)
	} else {
		rep = s.h.Reply(time.Minute)
	}
	return ScaleResult{Ticks: ticks, Clients: s.clients, CPU: cpu, Allocs: allocs,
		StatesGot: rep.Received, InputsSent: rep.Sent, InputsGot: s.srv.Inputs() - in0,
		P50: time.Duration(rep.P50), P99: time.Duration(rep.P99), ScaleCounters: d}
}

// Close ends the clients and closes the server.
func (s *ScaleSession) Close() {
	if s.h != nil {
		s.h.Close()
	}
	if s.srv != nil {
		s.srv.Close()
	}
}

// scaleUDP is the raw UDP server: one socket; a reader goroutine counts
// inputs (and registers clients); each tick writes the state to every
// client.
type scaleUDP struct {
	pc      *net.UDPConn
	mu      sync.Mutex
	addrs   []netip.AddrPort
	known   map[netip.AddrPort]bool
	inputs  atomic.Int64
	state   []byte
	readers sync.WaitGroup
}

func listenScaleUDP(tb testing.TB, spec *Spec, start func(Spec) *Helper) ScaleServer {
	pc, err := ListenLoopbackUDP()
	if err != nil {
		tb.Fatal(err)
	}
	u := &scaleUDP{pc: pc, known: map[netip.AddrPort]bool{}, state: make([]byte, ScaleStateSize)}
	u.readers.Add(1)
	go u.read()
	spec.Addr = pc.LocalAddr().String()
	start(*spec).Reply(2 * time.Minute)
	u.mu.Lock()
	got := len(u.addrs)
	u.mu.Unlock()
	if got != spec.Clients {
		u.Close()
		tb.Fatalf("%d clients registered, want %d", got, spec.Clients)
	}
	return u
}

// read registers clients (a 1-byte 'h', answered with 'w') and counts
// inputs.
func (u *scaleUDP) read() {
	defer u.readers.Done()
	buf := make([]byte, 2048)
	welcome := []byte{'w'}
	for {
		n, from, err := u.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		switch {
		case n == ScaleInputSize:
			u.inputs.Add(1)
		case n == 1 && buf[0] == 'h':
			u.mu.Lock()
			if !u.known[from] {
				u.known[from] = true
				u.addrs = append(u.addrs, from)
			}
			u.mu.Unlock()
			u.pc.WriteToUDPAddrPort(welcome, from)
		}
	}
}

func (u *scaleUDP) Run(ticks int) ScaleCounters {
	u.mu.Lock()
	addrs := slices.Clone(u.addrs)
	u.mu.Unlock()
	in0 := u.inputs.Load()
	var written uint64
	RunTicks(ticks, func(tick uint64, now int64) {
		StampState(u.state, tick, now)
		for _, a := range addrs {
			u.pc.WriteToUDPAddrPort(u.state, a)
		}
		written += uint64(len(addrs))
	})
	// One socket call per datagram.
	in := uint64(u.inputs.Load() - in0)
	return ScaleCounters{DgramsIn: in, DgramsOut: written, CallsIn: in, CallsOut: written}
}

func (u *scaleUDP) Inputs() int64 { return u.inputs.Load() }

func (u *scaleUDP) Close() {
	u.pc.Close()
	u.readers.Wait()
}

// scaleEngine is the engine server: a typed "input" handler; each tick
// Send(state, UnreliableSequenced) to all then Pump (which dispatches the
// inputs that arrived and flushes).
type scaleEngine struct {
	tb     testing.TB
	srv    *engine.Server
	state  *Blob
	inputs atomic.Int64 // added to by Pump's goroutine
}

func listenScaleEngine(tb testing.TB, spec *Spec, start func(Spec) *Helper) ScaleServer {
	srv, err := engine.Listen(LoopbackAddr(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	e := &scaleEngine{tb: tb, srv: srv, state: NewBlob("state", ScaleStateSize)}
	engine.HandleFunc(srv, "input", func(_ *engine.Peer, m Blob) { e.inputs.Add(1) })
	spec.Target = srv.ConnectString()
	h := start(*spec)
	// Pump (accept, greet) until every client says it was greeted.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
setup:
	for {
		srv.PumpWait(ctx, 10*time.Millisecond)
		select {
		case l, ok := <-h.Replies():
			h.Check(l, ok)
			break setup
		case <-ctx.Done():
			srv.Close()
			tb.Fatal("clients did not connect in time")
		default:
		}
	}
	if got := len(srv.Peers()); got != spec.Clients {
		srv.Close()
		tb.Fatalf("%d peers, want %d", got, spec.Clients)
	}
	return e
}

// counters reads the server's endpoint counters: datagrams in and out of
// the socket, whatever the connection (a peer that closes takes its own
// counters with it), and netcode's socket calls (a recvmmsg or sendmmsg
// call counting once).
func (e *scaleEngine) counters() ScaleCounters {
	st := e.srv.Endpoint().Stats()
	return ScaleCounters{DgramsIn: st.DatagramsIn, DgramsOut: st.DatagramsOut, CallsIn: st.ReadCalls, CallsOut: st.WriteCalls}
}

func (e *scaleEngine) Run(ticks int) ScaleCounters {
	c0 := e.counters()
	RunTicks(ticks, func(tick uint64, now int64) {
		StampState(e.state.Data, tick, now)
		if err := e.srv.Send(e.state, engine.UnreliableSequenced); err != nil {
			e.tb.Error(err)
		}
		e.srv.Pump()
	})
	c1 := e.counters()
	return ScaleCounters{DgramsIn: c1.DgramsIn - c0.DgramsIn, DgramsOut: c1.DgramsOut - c0.DgramsOut,
		CallsIn: c1.CallsIn - c0.CallsIn, CallsOut: c1.CallsOut - c0.CallsOut}
}

func (e *scaleEngine) Inputs() int64 { return e.inputs.Load() }

// awaitReport keeps dispatching the last inputs until the clients report.
func (e *scaleEngine) awaitReport(h *Helper) Reply {
	for {
		e.srv.PumpWait(context.Background(), 10*time.Millisecond)
		select {
		case l, ok := <-h.Replies():
			return h.Check(l, ok)
		default:
		}
	}
}

func (e *scaleEngine) Close() { e.srv.Close() }

// ScaleClient is one game client in the helper process. Its counters are
// reset by Reset and read by ScaleClients under its lock.
type ScaleClient struct {
	ctl  chan bool // true: reset counters, start sending inputs; false: stop
	quit chan struct{}
	sent atomic.Int64

	mu       sync.Mutex
	received int64
	samples  []int64 // state delivery times, ns
}

// Ctl returns the client's control channel: true to reset its counters
// and start sending inputs, false to stop.
func (c *ScaleClient) Ctl() <-chan bool { return c.ctl }

// Quit returns a channel closed when the client must end.
func (c *ScaleClient) Quit() <-chan struct{} { return c.quit }

// Reset zeroes the client's counters (on a true from Ctl); it is
// goroutine-safe.
func (c *ScaleClient) Reset() {
	c.mu.Lock()
	c.received, c.samples = 0, c.samples[:0]
	c.mu.Unlock()
	c.sent.Store(0)
}

// SentInput counts one input sent; it is goroutine-safe.
func (c *ScaleClient) SentInput() { c.sent.Add(1) }

// GotState records a state received (its delivery time from its stamp);
// it is goroutine-safe.
func (c *ScaleClient) GotState(data []byte) {
	lat := time.Now().UnixNano() - int64(binary.LittleEndian.Uint64(data[8:]))
	c.mu.Lock()
	c.received++
	c.samples = append(c.samples, lat)
	c.mu.Unlock()
}

// InputClock runs the client's 60 Hz input clock, started (at a random
// offset in the first period) and stopped by Ctl, until Quit; it blocks.
// send sends one input; wake and onWake, when set, are served too.
func (c *ScaleClient) InputClock(send func(), wake func() <-chan struct{}, onWake func()) {
	period := time.Second / ScaleTPS
	var (
		start  *time.Timer
		ticker *time.Ticker
		startC <-chan time.Time
		tickC  <-chan time.Time
	)
	stop := func() {
		if start != nil {
			start.Stop()
		}
		if ticker != nil {
			ticker.Stop()
		}
		startC, tickC = nil, nil
	}
	defer stop()
	for {
		var wc <-chan struct{}
		if wake != nil {
			wc = wake()
		}
		select {
		case <-c.quit:
			return
		case <-wc:
			onWake()
		case on := <-c.ctl:
			stop()
			if on {
				c.Reset()
				start = time.NewTimer(rand.N(period))
				startC = start.C
			}
		case <-startC:
			ticker = time.NewTicker(period)
			startC, tickC = nil, ticker.C
			send()
			c.sent.Add(1)
		case <-tickC:
			send()
			c.sent.Add(1)
		}
	}
}

// ScaleConnect connects one client of a transport that ScaleClients does
// not know, returning its loop (which ends on c.Quit) and its closer;
// nil, nil, nil when it knows none either. It blocks.
type ScaleConnect func(spec Spec, c *ScaleClient) (run, closer func(), err error)

// ScaleClients is the helper process of a scale session ("scale"): it
// connects spec.Clients clients (connect for transports it does not know;
// may be nil), says it is ready, then runs "go" / "stop" rounds, replying
// to "stop" with the states received, the inputs sent and the state
// delivery percentiles. It returns nil when stdin closes.
func ScaleClients(spec Spec, hio *HelperIO, connect ScaleConnect) error {
	clients := make([]*ScaleClient, spec.Clients)
	var wg sync.WaitGroup
	defer wg.Wait()
	quit := make(chan struct{})
	defer close(quit)
	var closers []func()
	defer func() {
		for _, f := range closers {
			f()
		}
	}()
	errs := make(chan error, spec.Clients)
	sem := make(chan struct{}, 32) // handshakes in flight
	var mu sync.Mutex
	var connecting sync.WaitGroup
	for i := range clients {
		c := &ScaleClient{ctl: make(chan bool, 1), quit: quit, samples: make([]int64, 0, 1024)}
		clients[i] = c
		connecting.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			defer connecting.Done()
			run, closer, err := connectScaleClient(spec, c, connect)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			closers = append(closers, closer)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				run()
			}()
		}()
	}
	connecting.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	hio.Reply(Reply{Ready: true})
	for {
		cmd, err := hio.Next()
		if err != nil {
			return nil
		}
		switch cmd {
		case "go":
			for _, c := range clients {
				c.ctl <- true
			}
			hio.Reply(Reply{Ready: true})
		case "stop":
			for _, c := range clients {
				c.ctl <- false
			}
			time.Sleep(ScaleGrace)
			var r Reply
			var all []int64
			for _, c := range clients {
				c.mu.Lock()
				r.Received += c.received
				all = append(all, c.samples...)
				c.mu.Unlock()
				r.Sent += c.sent.Load()
			}
			r.P50, r.P99 = Percentile(all, 0.50), Percentile(all, 0.99)
			hio.Reply(r)
		default:
			return fmt.Errorf("bad command %q", cmd)
		}
	}
}

// connectScaleClient connects one client and returns its loop and its
// closer.
func connectScaleClient(spec Spec, c *ScaleClient, connect ScaleConnect) (run, closer func(), err error) {
	switch spec.Transport {
	case "engine":
		cl, err := engine.Connect(spec.Target, nil)
		if err != nil {
			return nil, nil, err
		}
		if err := WaitGreeting(cl, time.Minute); err != nil {
			cl.Close()
			return nil, nil, err
		}
		engine.HandleFunc(cl, "state", func(_ *engine.Client, m Blob) { c.GotState(m.Data) })
		input := NewBlob("input", spec.Size)
		send := func() {
			if err := cl.Send(input, engine.Unreliable); err == nil {
				cl.Pump()
			}
		}
		return func() { c.InputClock(send, cl.Wake, cl.Pump) }, func() { cl.Close() }, nil
	case "raw-udp":
		return connectScaleUDP(spec, c)
	}
	if connect != nil {
		run, closer, err = connect(spec, c)
		if run != nil || err != nil {
			return run, closer, err
		}
	}
	return nil, nil, fmt.Errorf("unknown transport %q", spec.Transport)
}

// connectScaleUDP is a raw UDP client: it says hello ('h') until welcomed
// ('w'), then sends inputs with WriteToUDPAddrPort; a reader goroutine
// records states.
func connectScaleUDP(spec Spec, c *ScaleClient) (run, closer func(), err error) {
	to, err := netip.ParseAddrPort(spec.Addr)
	if err != nil {
		return nil, nil, err
	}
	pc, err := ListenLoopbackUDP()
	if err != nil {
		return nil, nil, err
	}
	welcomed := make(chan struct{})
	var readerDone sync.WaitGroup
	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		buf := make([]byte, 2048)
		once := sync.OnceFunc(func() { close(welcomed) })
		for {
			n, _, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			switch {
			case n == ScaleStateSize:
				c.GotState(buf[:n])
			case n == 1 && buf[0] == 'w':
				once()
			}
		}
	}()
	closer = func() { pc.Close(); readerDone.Wait() }
	hello := time.NewTicker(100 * time.Millisecond)
	defer hello.Stop()
	deadline := time.After(time.Minute)
	for registered := false; !registered; {
		pc.WriteToUDPAddrPort([]byte{'h'}, to)
		select {
		case <-welcomed:
			registered = true
		case <-hello.C:
		case <-deadline:
			closer()
			return nil, nil, fmt.Errorf("no welcome from %s", to)
		}
	}
	input := make([]byte, spec.Size)
	send := func() { pc.WriteToUDPAddrPort(input, to) }
	return func() { c.InputClock(send, nil, nil) }, closer, nil
}
