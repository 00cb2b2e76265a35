package benchmarks

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// idleConns is how many idle connections BenchmarkIdleMemory holds.
const idleConns = 1000

// BenchmarkIdleMemory measures what an idle connection costs a server:
// this process listens, a helper process opens 1,000 connections to it
// over loopback (from 1,000 sockets, 32 handshakes at a time), everything
// stays idle for 1.5 s (netcode's keepalives run), then the server's live
// heap (runtime.GC, then MemStats.HeapAlloc), goroutine stacks
// (StackInuse) and goroutines are compared with what they were before the
// helper started. Only the server's side is in this process.
//
//   - raw-pion: a pion/dtls v3 listener with netcode's certificate
//     options; accepted connections are handshaken and kept, with no
//     application reader goroutine (a real pion server would add one, and
//     a read buffer, per connection).
//   - netcode: a netcode endpoint; accepted connections are kept.
//   - engine-server: an engine.Server (Listen, a goroutine running
//     PumpWait); its peers are kept. The helper's clients are engine
//     clients.
//   - engine-client: the other side (issue 13 item 7): this process holds
//     the 1,000 engine clients (engine.Connect, each with its own socket,
//     netcode endpoint and connection, greeted by the server), and the
//     helper process runs the engine server they connect to.
//
// One op is one GC with the 1,000 connections live (ns/op is that GC's
// time). Metrics: heap-B/conn, stack-B/conn, goroutines/conn, B/conn (heap
// + stacks) and B/conn/pion, the ratio to raw-pion in the same run.
func BenchmarkIdleMemory(b *testing.B) {
	for _, tr := range []string{"raw-pion", "netcode", "engine-server", "engine-client"} {
		var s *idleSession // set up once for every run of the sub-benchmark
		b.Run(fmt.Sprintf("conns=%d/%s", idleConns, tr), func(b *testing.B) {
			if s == nil {
				s = newIdleSession(b, tr, idleConns)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var r idleResult
			for range b.N {
				r = s.measure()
			}
			b.StopTimer()
			base := r
			if tr == "raw-pion" {
				setBaseline("idle-pion", r)
			} else {
				base = baseline("idle-pion", func() idleResult {
					p := newIdleSession(b, "raw-pion", idleConns)
					defer p.close()
					return p.measure()
				})
			}
			b.ReportMetric(r.heap, "heap-B/conn")
			b.ReportMetric(r.stack, "stack-B/conn")
			b.ReportMetric(r.goroutines, "goroutines/conn")
			b.ReportMetric(r.heap+r.stack, "B/conn")
			harness.ReportRatio(b, harness.Ratio(r.heap+r.stack, base.heap+base.stack), "B/conn/pion")
		})
		if s != nil {
			s.close()
		}
	}
}

type idleResult struct{ heap, stack, goroutines float64 }

// engineIdleBound is what an idle engine connection may cost each side,
// heap and goroutine stacks (engine/doc.go, "Memory").
const engineIdleBound = 32 << 10

// TestEngineIdleMemory checks engine/doc.go's bound with
// BenchmarkIdleMemory's method, 200 connections on 127.0.0.1 and on ::1:
// the server's cost per peer, and a client's whole cost (its socket's
// endpoint, connection and engine.Client), each idle connection at most
// engineIdleBound bytes.
func TestEngineIdleMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's runtime changes heap and stack sizes (and sync.Pool drops items): CI runs this without -race")
	}
	const n = 200
	onLoopbacks(t, func(t *testing.T) {
		for _, side := range []string{"engine-server", "engine-client"} {
			t.Run(side, func(t *testing.T) {
				s := newIdleSession(t, side, n)
				defer s.close()
				var r idleResult
				for range 3 { // idle goroutines' stacks shrink at each GC
					r = s.measure()
				}
				total := r.heap + r.stack
				t.Logf("%s: %.0f B per idle connection (heap %.0f, stacks %.0f, %.2f goroutines)", side, total, r.heap, r.stack, r.goroutines)
				if total > engineIdleBound {
					t.Fatalf("%s: an idle engine connection costs %.0f bytes, more than the documented %d", side, total, engineIdleBound)
				}
			})
		}
	})
}

// idleSession is a server holding n idle connections from a helper.
type idleSession struct {
	n    int
	h    *harness.Helper
	ep   *netcode.Endpoint
	pion *pionServer
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []*netcode.Conn

	srv     *engine.Server // engine-server
	stop    context.CancelFunc
	clients []*engine.Client // engine-client

	heap0, stack0 uint64
	goroutines0   int
}

func newIdleSession(tb testing.TB, transport string, n int) *idleSession {
	tb.Helper()
	s := &idleSession{n: n}
	spec := harness.Spec{Role: "idle", Transport: transport, Clients: n}
	established := func() int { return 0 }
	switch transport {
	case "raw-pion":
		srv, fp := newPionServer(tb, "cert", true)
		s.pion = srv
		spec.Addr, spec.FP = srv.ln.Addr().String(), fp.String()
		established = srv.established
	case "netcode":
		ep, err := netcode.Listen(harness.LoopbackAddr(), netcodeConfig(tb, "cert", true))
		if err != nil {
			tb.Fatal(err)
		}
		s.ep = ep
		spec.Addr, spec.FP = ep.AddrPort().String(), ep.Fingerprint().String()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				c, err := ep.Accept(context.Background())
				if err != nil {
					return
				}
				s.mu.Lock()
				s.conns = append(s.conns, c)
				s.mu.Unlock()
			}
		}()
		established = func() int {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.conns)
		}
	case "engine-server":
		srv, err := engine.Listen(harness.LoopbackAddr(), nil)
		if err != nil {
			tb.Fatal(err)
		}
		s.srv = srv
		spec.Transport, spec.Target, spec.Addr = "engine", srv.ConnectString(), srv.Addr().String()
		ctx, stop := context.WithCancel(context.Background())
		s.stop = stop
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for ctx.Err() == nil {
				srv.PumpWait(ctx, 100*time.Millisecond)
			}
		}()
		established = func() int { return len(srv.Peers()) }
	case "engine-client":
		return newIdleClients(tb, n)
	default:
		tb.Fatalf("unknown transport %q", transport)
	}
	harness.Settle()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.heap0, s.stack0, s.goroutines0 = ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine()
	s.h = harness.StartHelper(tb, spec)
	s.h.Reply(5 * time.Minute)
	for deadline := time.Now().Add(time.Minute); established() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d connections established", established(), n)
		}
	}
	time.Sleep(1500 * time.Millisecond) // idle
	return s
}

// newIdleClients is the engine-client session: a helper process runs an
// engine server, and this process connects n engine clients to it (idleDial
// at a time, each greeted by the server), then leaves them idle.
func newIdleClients(tb testing.TB, n int) *idleSession {
	tb.Helper()
	s := &idleSession{n: n}
	s.h = harness.StartHelper(tb, harness.Spec{Role: "idle-server", Transport: "engine"})
	target := s.h.Reply(time.Minute).Target
	harness.Settle()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.heap0, s.stack0, s.goroutines0 = ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine()
	s.clients = make([]*engine.Client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, idleDial)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cl, err := engine.Connect(target, nil)
			if err == nil {
				s.clients[i] = cl
				err = harness.WaitGreeting(cl, time.Minute)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		s.close()
		tb.Fatalf("engine clients: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // idle
	return s
}

// idleDial is how many handshakes a session's dialers run at a time (under
// netcode's default per-source limit, 32: every dialer has the same loopback
// address).
const idleDial = 16

// measure collects garbage and returns what each connection costs.
func (s *idleSession) measure() idleResult {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return idleResult{
		heap:       float64(int64(ms.HeapAlloc)-int64(s.heap0)) / float64(s.n),
		stack:      float64(int64(ms.StackInuse)-int64(s.stack0)) / float64(s.n),
		goroutines: float64(runtime.NumGoroutine()-s.goroutines0) / float64(s.n),
	}
}

func (s *idleSession) close() {
	for _, cl := range s.clients {
		if cl != nil {
			cl.Close()
		}
	}
	if s.h != nil {
		s.h.Close()
	}
	if s.srv != nil {
		s.stop()
		s.wg.Wait()
		s.srv.Close()
	}
	if s.pion != nil {
		s.pion.close()
	}
	if s.ep != nil {
		s.ep.Close()
		s.wg.Wait()
	}
}

// idleClients is the helper process of BenchmarkIdleMemory: it opens
// spec.Clients connections, says it is ready, and holds them until its
// stdin closes.
func idleClients(spec harness.Spec, hio *harness.HelperIO) error {
	var fp netcode.Fingerprint
	if spec.Transport != "engine" {
		var err error
		if fp, err = netcode.ParseFingerprint(spec.FP); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		mu      sync.Mutex
		closers []func()
		first   error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, idleDial)
	)
	defer func() {
		for _, f := range closers {
			f()
		}
	}()
	if _, err := identities(); err != nil {
		return err
	}
	cfg := netcodeConfig(nil, "cert", false) // cannot fail now
	addr, err := net.ResolveUDPAddr("udp", spec.Addr)
	if err != nil {
		return err
	}
	for range spec.Clients {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var closer func()
			var err error
			switch spec.Transport {
			case "netcode":
				var c *netcode.Conn
				if c, err = netcode.Dial(ctx, spec.Addr, cfg, netcode.DialOptions{Fingerprint: fp}); err == nil {
					closer = func() { c.Close() }
				}
			case "engine":
				var cl *engine.Client
				if cl, err = engine.Connect(spec.Target, nil); err == nil {
					closer = func() { cl.Close() }
					err = harness.WaitGreeting(cl, time.Minute)
				}
			case "raw-pion":
				var c *dtls.Conn
				if c, err = dialPion(ctx, addr, "cert", fp); err == nil {
					closer = func() { c.Close() }
				}
			default:
				err = fmt.Errorf("unknown transport %q", spec.Transport)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			if closer != nil {
				closers = append(closers, closer)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	hio.Reply(harness.Reply{Ready: true})
	for {
		if _, err := hio.Next(); err != nil {
			return nil
		}
	}
}

// idleServer is the helper process of the engine-client session: it runs
// an engine server on loopback, replies with its connect string, and
// pumps it until its stdin closes.
func idleServer(spec harness.Spec, hio *harness.HelperIO) error {
	srv, err := engine.Listen(harness.LoopbackAddr(), nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			srv.PumpWait(ctx, 100*time.Millisecond)
		}
	}()
	hio.Reply(harness.Reply{Ready: true, Target: srv.ConnectString()})
	for {
		if _, err := hio.Next(); err != nil {
			stop()
			<-done
			return nil
		}
	}
}
