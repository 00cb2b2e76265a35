package peers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtaci/kcp-go/v5"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/benchmarks/peers/enet"
)

// enetScaleServer is BenchmarkPeers_Scale's ENet server: one goroutine
// owns the host and services it for the session's life; run makes it
// tick.
type enetScaleServer struct {
	host      *enet.Host
	connected atomic.Int64
	inputs    atomic.Int64
	start     chan int       // ticks to run
	done      chan [2]uint64 // datagrams in and out over the ticks
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

func newENetScaleServer(tb testing.TB, n int) *enetScaleServer {
	tb.Helper()
	h, err := enet.NewHost(netip.MustParseAddrPort("127.0.0.1:0"), n, 1)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &enetScaleServer{host: h, start: make(chan int), done: make(chan [2]uint64, 1), stop: cancel}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.loop(ctx); err != nil {
			tb.Error(err)
		}
	}()
	return e
}

func (e *enetScaleServer) loop(ctx context.Context) error {
	w, err := newENetWaiter(e.host)
	if err != nil {
		return err
	}
	defer w.close()
	buf := make([]byte, 2048)
	state := make([]byte, harness.ScaleStateSize)
	period := time.Second / harness.ScaleTPS
	on := func(ev enet.Event) bool {
		switch ev.Type {
		case enet.EventConnect:
			e.connected.Add(1)
		case enet.EventDisconnect:
			e.connected.Add(-1)
		case enet.EventReceive:
			if ev.N == harness.ScaleInputSize {
				e.inputs.Add(1)
			}
		}
		return false
	}
	var (
		ticks, tick int
		begin       time.Time
		in0, out0   uint32
	)
	for ctx.Err() == nil {
		if ticks == 0 {
			select {
			case ticks = <-e.start:
				tick, begin = 0, time.Now()
				in0, out0 = e.host.DatagramsIn(), e.host.DatagramsOut()
			default:
				// Idle: service, and look for a start every 10 ms.
				if _, err := w.serviceUntil(time.Now().Add(10*time.Millisecond), buf, on); err != nil {
					return err
				}
				continue
			}
		}
		if due := begin.Add(time.Duration(tick) * period); time.Now().Before(due) {
			if _, err := w.serviceUntil(due, buf, on); err != nil {
				return err
			}
			continue
		}
		harness.StampState(state, uint64(tick), time.Now().UnixNano())
		if err := e.host.Broadcast(0, state, 0); err != nil {
			return err
		}
		e.host.Flush()
		if tick++; tick == ticks {
			e.done <- [2]uint64{uint64(e.host.DatagramsIn() - in0), uint64(e.host.DatagramsOut() - out0)}
			ticks = 0
		}
	}
	return nil
}

// Run has the server tick ticks times at 60 Hz and returns its datagrams
// in and out over them (its host's counters, read by its goroutine).
func (e *enetScaleServer) Run(ticks int) harness.ScaleCounters {
	e.start <- ticks
	d := <-e.done
	return harness.ScaleCounters{DgramsIn: d[0], DgramsOut: d[1]}
}

// Inputs returns the inputs received so far.
func (e *enetScaleServer) Inputs() int64 { return e.inputs.Load() }

func (e *enetScaleServer) Close() {
	e.stop()
	e.wg.Wait()
	e.host.Destroy()
}

// connectENetScaleClient connects one ENet game client: its own host,
// serviced by its own goroutine until closed.
func connectENetScaleClient(spec harness.Spec, c *harness.ScaleClient) (run, closer func(), err error) {
	h, peer, err := enetDial(spec.Addr, 1)
	if err != nil {
		return nil, nil, err
	}
	input := make([]byte, spec.Size)
	stop, stopped := make(chan struct{}), make(chan struct{})
	w, err := newENetWaiter(h)
	if err != nil {
		h.Destroy()
		return nil, nil, err
	}
	run = func() {
		defer close(stopped)
		buf := make([]byte, 2048)
		period := time.Second / harness.ScaleTPS
		on := func(ev enet.Event) bool {
			if ev.Type == enet.EventReceive && ev.N == harness.ScaleStateSize {
				c.GotState(buf[:ev.N])
			}
			return false
		}
		var next time.Time
		sending := false
		for {
			select {
			case <-c.Quit():
				return
			case <-stop:
				return
			case on := <-c.Ctl():
				sending = on
				if on {
					c.Reset()
					next = time.Now().Add(rand.N(period))
				}
			default:
			}
			if sending && !time.Now().Before(next) {
				if err := peer.Send(0, input, enet.Unsequenced); err != nil {
					panic(fmt.Sprintf("enet client: %v", err))
				}
				h.Flush()
				c.SentInput()
				next = next.Add(period)
				continue
			}
			until := time.Now().Add(period)
			if sending {
				until = next
			}
			if _, err := w.serviceUntil(until, buf, on); err != nil {
				panic(fmt.Sprintf("enet client: %v", err))
			}
		}
	}
	closer = func() {
		close(stop)
		<-stopped
		w.close()
		h.Destroy()
	}
	return run, closer, nil
}

// kcpScaleServer is BenchmarkPeers_Scale's kcp-go server: a listener, and
// one reader goroutine per accepted session counting inputs (and
// answering a client's 1-byte hello with a 1-byte welcome).
type kcpScaleServer struct {
	ln     *kcp.Listener
	state  []byte
	mu     sync.Mutex
	sess   []*kcp.UDPSession
	inputs atomic.Int64
	wg     sync.WaitGroup
}

func newKCPScaleServer(tb testing.TB) *kcpScaleServer {
	tb.Helper()
	ln, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	k := &kcpScaleServer{ln: ln, state: make([]byte, harness.ScaleStateSize)}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		for {
			s, err := ln.AcceptKCP()
			if err != nil {
				return
			}
			tuneKCP(s)
			k.mu.Lock()
			k.sess = append(k.sess, s)
			k.mu.Unlock()
			k.wg.Add(1)
			go func() {
				defer k.wg.Done()
				buf := make([]byte, 2048)
				for {
					n, err := s.Read(buf)
					if err != nil {
						return
					}
					switch {
					case n == harness.ScaleInputSize:
						k.inputs.Add(1)
					case n == 1 && buf[0] == 'h':
						s.Write([]byte{'w'})
					}
				}
			}()
		}
	}()
	return k
}

// count returns how many sessions were accepted.
func (k *kcpScaleServer) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.sess)
}

// Run ticks ticks times at 60 Hz, each writing the state to every
// session (each Write flushes), and returns the datagrams over them:
// kcp-go's process-wide SNMP counters, which only the server's sessions
// move in this process.
func (k *kcpScaleServer) Run(ticks int) harness.ScaleCounters {
	k.mu.Lock()
	sess := slices.Clone(k.sess)
	k.mu.Unlock()
	in0, out0 := kcpDatagrams()
	harness.RunTicks(ticks, func(tick uint64, now int64) {
		harness.StampState(k.state, tick, now)
		for _, s := range sess {
			s.Write(k.state)
		}
	})
	in1, out1 := kcpDatagrams()
	return harness.ScaleCounters{DgramsIn: in1 - in0, DgramsOut: out1 - out0}
}

// Inputs returns the inputs received so far.
func (k *kcpScaleServer) Inputs() int64 { return k.inputs.Load() }

func (k *kcpScaleServer) Close() {
	k.ln.Close()
	k.mu.Lock()
	for _, s := range k.sess {
		s.Close()
	}
	k.mu.Unlock()
	k.wg.Wait()
}

// connectKCPScaleClient dials one kcp-go game client in fast mode and
// waits for the server's welcome.
func connectKCPScaleClient(spec harness.Spec, c *harness.ScaleClient) (run, closer func(), err error) {
	s, err := kcp.DialWithOptions(spec.Addr, nil, 0, 0)
	if err != nil {
		return nil, nil, err
	}
	tuneKCP(s)
	welcomed := make(chan struct{})
	var readerDone sync.WaitGroup
	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		buf := make([]byte, 2048)
		once := sync.OnceFunc(func() { close(welcomed) })
		for {
			n, err := s.Read(buf)
			if err != nil {
				return
			}
			switch {
			case n == harness.ScaleStateSize:
				c.GotState(buf[:n])
			case n == 1 && buf[0] == 'w':
				once()
			}
		}
	}()
	closer = func() { s.Close(); readerDone.Wait() }
	if _, err := s.Write([]byte{'h'}); err != nil {
		closer()
		return nil, nil, err
	}
	select {
	case <-welcomed:
	case <-time.After(time.Minute):
		closer()
		return nil, nil, fmt.Errorf("kcp: no welcome from %s", spec.Addr)
	}
	input := make([]byte, spec.Size)
	send := func() { s.Write(input) }
	return func() { c.InputClock(send, nil, nil) }, closer, nil
}
