package benchmarks

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
	scaleTPS       = 60
	scaleInputSize = 100 // engine frame / UDP payload
	scaleStateSize = 300
	// scaleGrace is how long the clients wait after "stop" for the last
	// states, and the server for the last inputs, before counting losses.
	scaleGrace = 300 * time.Millisecond
)

// BenchmarkScale runs one server and N clients (N = 64, 256) for b.N
// server ticks at 60 Hz (b.N = 120 is two seconds of play). The clients
// run in a helper process (each with its own UDP socket on loopback and
// its own goroutine, starting its 60 Hz input clock at a random offset),
// so this process holds the server alone.
//
//   - raw-udp: the baseline. One socket; a reader goroutine counts inputs
//     (and registers clients); each tick writes the state to every client
//     with WriteToUDPAddrPort. No encryption, acks or dispatch.
//   - engine: engine.Server with a typed "input" handler; each tick of
//     engine.RunTicks calls Send(state, UnreliableSequenced) then Pump
//     (which dispatches the inputs that arrived and flushes). Clients send
//     inputs with Send(input, Unreliable) then Pump, and are woken by Wake
//     to Pump the states in.
//
// Metrics: cpu-µs/tick, the CPU time (user+system, all threads,
// getrusage(RUSAGE_SELF)) of this process — the server alone — per tick;
// p50-µs and p99-µs of state delivery (the time from the server's
// stamp, taken before the broadcast, to the client's handler; both
// processes read the same system clock); lost-msgs (states and inputs
// not received within 300 ms of the end) and lost-%; allocs/msg of the
// server (per state sent and input received); dgrams-in/tick and
// dgrams-out/tick, the server's datagrams (raw UDP: one input per client
// in, one state per client out; pumpnet adds ACK-only packets);
// reads/tick and writes/tick, the server's socket calls (raw UDP: one per
// datagram; netcode batches them with recvmmsg and sendmmsg); cpu/udp
// and p99/udp, the ratios to the paired baseline: right after each timed
// round, the same number of ticks runs over raw UDP with its own N clients
// (its own helper process), untimed (raw-udp is paired with another
// raw-udp set: a check of the method).
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{64, 256} {
		for _, tr := range []string{"raw-udp", "engine"} {
			// One set of clients, and one raw UDP baseline set, for every
			// run of the sub-benchmark.
			var s, bs *scaleSession
			b.Run(fmt.Sprintf("clients=%d/%s", n, tr), func(b *testing.B) {
				if s == nil {
					s = newScaleSession(b, tr, n)
					bs = newScaleSession(b, "raw-udp", n)
				}
				b.ReportAllocs()
				r := s.round(b, b.N)
				// The baseline: the same ticks over raw UDP, right after.
				base := bs.round(noTimer{}, b.N)
				r.report(b, base)
			})
			if s != nil {
				s.close()
				bs.close()
			}
		}
	}
}

// scaleResult is one round of the scale benchmark.
type scaleResult struct {
	ticks, clients int
	cpu            time.Duration // server process CPU over the ticks; < 0: unknown
	allocs         uint64        // server heap allocations over the ticks
	statesGot      int64         // at the clients
	inputsSent     int64         // by the clients
	inputsGot      int64         // at the server
	p50, p99       time.Duration // state delivery
	dgramsIn       uint64        // datagrams the server received over the ticks
	dgramsOut      uint64        // and sent
	callsIn        uint64        // socket read calls of the server over the ticks
	callsOut       uint64        // and write calls
}

func (r scaleResult) cpuPerTick() float64 {
	if r.cpu < 0 || r.ticks == 0 {
		return 0
	}
	return us(r.cpu) / float64(r.ticks)
}

func (r scaleResult) report(b *testing.B, base scaleResult) {
	b.ReportMetric(r.cpuPerTick(), "cpu-µs/tick")
	b.ReportMetric(us(r.p50), "p50-µs")
	b.ReportMetric(us(r.p99), "p99-µs")
	states := int64(r.ticks * r.clients)
	lost := states - r.statesGot + r.inputsSent - r.inputsGot
	b.ReportMetric(float64(lost), "lost-msgs")
	if total := states + r.inputsSent; total > 0 {
		b.ReportMetric(100*float64(lost)/float64(total), "lost-%")
	}
	if msgs := states + r.inputsGot; msgs > 0 {
		b.ReportMetric(float64(r.allocs)/float64(msgs), "allocs/msg")
	}
	if r.ticks > 0 {
		b.ReportMetric(float64(r.dgramsIn)/float64(r.ticks), "dgrams-in/tick")
		b.ReportMetric(float64(r.dgramsOut)/float64(r.ticks), "dgrams-out/tick")
		b.ReportMetric(float64(r.callsIn)/float64(r.ticks), "reads/tick")
		b.ReportMetric(float64(r.callsOut)/float64(r.ticks), "writes/tick")
	}
	reportRatio(b, ratio(r.cpuPerTick(), base.cpuPerTick()), "cpu/udp")
	reportRatio(b, ratio(float64(r.p99), float64(base.p99)), "p99/udp")
}

// scaleSession is a server and a helper process full of connected clients.
type scaleSession struct {
	tb        testing.TB
	transport string
	clients   int
	h         *helper
	state     *blob // engine: the broadcast state; its Data is stamped

	// raw-udp
	pc      *net.UDPConn
	mu      sync.Mutex
	addrs   []netip.AddrPort
	known   map[netip.AddrPort]bool
	inputs  atomic.Int64
	written uint64 // states written (the tick loop's goroutine)
	stateB  []byte
	readers sync.WaitGroup

	// engine
	srv       *engine.Server
	srvInputs int64 // Pump's goroutine only
}

func newScaleSession(tb testing.TB, transport string, n int) *scaleSession {
	tb.Helper()
	s := &scaleSession{tb: tb, transport: transport, clients: n}
	spec := helperSpec{Role: "scale", Transport: transport, Clients: n, Size: scaleInputSize}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	switch transport {
	case "raw-udp":
		pc, err := listenLoopbackUDP()
		if err != nil {
			tb.Fatal(err)
		}
		s.pc, s.known, s.stateB = pc, map[netip.AddrPort]bool{}, make([]byte, scaleStateSize)
		s.readers.Add(1)
		go s.readUDP()
		spec.Addr = pc.LocalAddr().String()
		s.h = startHelper(tb, spec)
		s.h.reply(2 * time.Minute)
		s.mu.Lock()
		got := len(s.addrs)
		s.mu.Unlock()
		if got != n {
			tb.Fatalf("%d clients registered, want %d", got, n)
		}
	case "engine":
		srv, err := engine.Listen(loopbackAddr(), nil)
		if err != nil {
			tb.Fatal(err)
		}
		s.srv = srv
		s.state = newBlob("state", scaleStateSize)
		engine.HandleFunc(srv, "input", func(_ *engine.Peer, m blob) { s.srvInputs++ })
		spec.Target = srv.ConnectString()
		s.h = startHelper(tb, spec)
		// Pump (accept, greet) until every client says it was greeted.
	setup:
		for {
			srv.PumpWait(ctx, 10*time.Millisecond)
			select {
			case l, ok := <-s.h.replies():
				s.h.check(l, ok)
				break setup
			case <-ctx.Done():
				tb.Fatal("clients did not connect in time")
			default:
			}
		}
		if got := len(srv.Peers()); got != n {
			tb.Fatalf("%d channels, want %d", got, n)
		}
	default:
		tb.Fatalf("unknown transport %q", transport)
	}
	return s
}

// readUDP is the raw server's reader: it registers clients (a 1-byte
// 'h', answered with 'w') and counts inputs.
func (s *scaleSession) readUDP() {
	defer s.readers.Done()
	buf := make([]byte, 2048)
	welcome := []byte{'w'}
	for {
		n, from, err := s.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		switch {
		case n == scaleInputSize:
			s.inputs.Add(1)
		case n == 1 && buf[0] == 'h':
			s.mu.Lock()
			if !s.known[from] {
				s.known[from] = true
				s.addrs = append(s.addrs, from)
			}
			s.mu.Unlock()
			s.pc.WriteToUDPAddrPort(welcome, from)
		}
	}
}

func (s *scaleSession) inputCount() int64 {
	if s.srv != nil {
		return s.srvInputs
	}
	return s.inputs.Load()
}

// round runs ticks server ticks with every client sending inputs, then
// collects what the clients received.
func (s *scaleSession) round(b benchTimer, ticks int) scaleResult {
	in0 := s.inputCount()
	s.h.send("go")
	s.h.reply(time.Minute) // every client's input clock is running
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var addrs []netip.AddrPort
	if s.pc != nil {
		s.mu.Lock()
		addrs = slices.Clone(s.addrs)
		s.mu.Unlock()
	}
	b.ResetTimer()
	dIn0, dOut0 := s.datagrams()
	cIn0, cOut0 := s.calls()
	m := startMeter()
	done := 0
	engine.RunTicks(ctx, scaleTPS, func(tick uint64) {
		now := time.Now().UnixNano()
		if s.srv != nil {
			binary.LittleEndian.PutUint64(s.state.Data[0:], tick)
			binary.LittleEndian.PutUint64(s.state.Data[8:], uint64(now))
			if err := s.srv.Send(s.state, engine.UnreliableSequenced); err != nil {
				s.tb.Error(err)
			}
			s.srv.Pump()
		} else {
			binary.LittleEndian.PutUint64(s.stateB[0:], tick)
			binary.LittleEndian.PutUint64(s.stateB[8:], uint64(now))
			for _, a := range addrs {
				s.pc.WriteToUDPAddrPort(s.stateB, a)
			}
			s.written += uint64(len(addrs))
		}
		if done++; done == ticks {
			cancel()
		}
	})
	cpu, _, allocs := m.stop()
	b.StopTimer()
	dIn1, dOut1 := s.datagrams()
	cIn1, cOut1 := s.calls()
	s.h.send("stop")
	var rep helperReply
	if s.srv != nil {
		// Keep dispatching the last inputs until the clients report.
		wait := context.Background()
	collect:
		for {
			s.srv.PumpWait(wait, 10*time.Millisecond)
			select {
			case l, ok := <-s.h.replies():
				rep = s.h.check(l, ok)
				break collect
			default:
			}
		}
	} else {
		rep = s.h.reply(time.Minute)
	}
	return scaleResult{ticks: ticks, clients: s.clients, cpu: cpu, allocs: allocs,
		statesGot: rep.Received, inputsSent: rep.Sent, inputsGot: s.inputCount() - in0,
		p50: time.Duration(rep.P50), p99: time.Duration(rep.P99), dgramsIn: dIn1 - dIn0, dgramsOut: dOut1 - dOut0,
		callsIn: cIn1 - cIn0, callsOut: cOut1 - cOut0}
}

// datagrams returns how many datagrams the server received and sent so
// far (raw UDP: inputs counted by the reader, states written).
func (s *scaleSession) datagrams() (in, out uint64) {
	if s.srv == nil {
		return uint64(s.inputs.Load()), s.written
	}
	for _, p := range s.srv.Peers() {
		out += p.Stats().PacketsOut
	}
	return s.srv.Endpoint().Stats().DatagramsIn, out
}

// calls returns how many socket read and write calls the server made so
// far (raw UDP: one per datagram; the engine: netcode's EndpointStats, a
// recvmmsg or sendmmsg call counting once).
func (s *scaleSession) calls() (in, out uint64) {
	if s.srv == nil {
		return s.datagrams()
	}
	st := s.srv.Endpoint().Stats()
	return st.ReadCalls, st.WriteCalls
}

func (s *scaleSession) close() {
	if s.h != nil {
		s.h.close()
	}
	if s.pc != nil {
		s.pc.Close()
		s.readers.Wait()
	}
	if s.srv != nil {
		s.srv.Close()
	}
}

// scaleClient is one game client in the helper process.
type scaleClient struct {
	ctl  chan bool // true: reset counters, start sending inputs; false: stop
	quit chan struct{}
	sent atomic.Int64

	mu       sync.Mutex
	received int64
	samples  []int64 // state delivery times, ns
}

func (c *scaleClient) gotState(data []byte) {
	lat := time.Now().UnixNano() - int64(binary.LittleEndian.Uint64(data[8:]))
	c.mu.Lock()
	c.received++
	c.samples = append(c.samples, lat)
	c.mu.Unlock()
}

// inputClock runs the client's 60 Hz input clock, started (at a random
// offset in the first period) and stopped by ctl, until quit. send sends
// one input; wake and onWake, when set, are served too.
func (c *scaleClient) inputClock(send func(), wake func() <-chan struct{}, onWake func()) {
	period := time.Second / scaleTPS
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
				c.mu.Lock()
				c.received, c.samples = 0, c.samples[:0]
				c.mu.Unlock()
				c.sent.Store(0)
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

// scaleClients is the helper process of BenchmarkScale: it connects
// spec.Clients clients, says it is ready, then runs "go" / "stop" rounds,
// replying to "stop" with the states received, the inputs sent and the
// state delivery percentiles.
func scaleClients(spec helperSpec, hio *helperIO) error {
	clients := make([]*scaleClient, spec.Clients)
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
		c := &scaleClient{ctl: make(chan bool, 1), quit: quit, samples: make([]int64, 0, 1024)}
		clients[i] = c
		connecting.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			defer connecting.Done()
			run, closer, err := connectScaleClient(spec, c)
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
	hio.reply(helperReply{Ready: true})
	for {
		cmd, err := hio.next()
		if err != nil {
			return nil
		}
		switch cmd {
		case "go":
			for _, c := range clients {
				c.ctl <- true
			}
			hio.reply(helperReply{Ready: true})
		case "stop":
			for _, c := range clients {
				c.ctl <- false
			}
			time.Sleep(scaleGrace)
			var r helperReply
			var all []int64
			for _, c := range clients {
				c.mu.Lock()
				r.Received += c.received
				all = append(all, c.samples...)
				c.mu.Unlock()
				r.Sent += c.sent.Load()
			}
			r.P50, r.P99 = percentile(all, 0.50), percentile(all, 0.99)
			hio.reply(r)
		default:
			return fmt.Errorf("bad command %q", cmd)
		}
	}
}

// connectScaleClient connects one client and returns its loop and its
// closer.
func connectScaleClient(spec helperSpec, c *scaleClient) (run, closer func(), err error) {
	switch spec.Transport {
	case "engine":
		cl, err := engine.Connect(spec.Target, nil)
		if err != nil {
			return nil, nil, err
		}
		if err := waitGreeting(cl, time.Minute); err != nil {
			cl.Close()
			return nil, nil, err
		}
		engine.HandleFunc(cl, "state", func(_ *engine.Client, m blob) { c.gotState(m.Data) })
		input := newBlob("input", spec.Size)
		send := func() {
			if err := cl.Send(input, engine.Unreliable); err == nil {
				cl.Pump()
			}
		}
		return func() { c.inputClock(send, cl.Wake, cl.Pump) }, func() { cl.Close() }, nil
	case "raw-udp":
		to, err := netip.ParseAddrPort(spec.Addr)
		if err != nil {
			return nil, nil, err
		}
		pc, err := listenLoopbackUDP()
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
				case n == scaleStateSize:
					c.gotState(buf[:n])
				case n == 1 && buf[0] == 'w':
					once()
				}
			}
		}()
		closer := func() { pc.Close(); readerDone.Wait() }
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
		return func() { c.inputClock(send, nil, nil) }, closer, nil
	}
	return nil, nil, fmt.Errorf("unknown transport %q", spec.Transport)
}
