package game

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// loopNode is a Transport over real pumpnet connections on 127.0.0.1: the
// lobby's peer-to-peer layout (one engine server per peer, the lower
// identity dials, connections adopted) without its discovery, so tests can
// run games over real sockets, with netcode's link conditioner, and no
// multicast.
type loopNode struct {
	self   Member
	ep     *netcode.Endpoint
	srv    *engine.Server
	chans  map[string]*engine.Peer
	queued []Incoming
	handle func(Incoming)
	to     []*engine.Peer
}

func newLoopNode(t *testing.T, name string, link *netcode.LinkConditions) *loopNode {
	t.Helper()
	ep, err := netcode.Listen("127.0.0.1:0", engine.EndpointConfig(netcode.Config{Link: link}))
	if err != nil {
		t.Fatal(err)
	}
	n := &loopNode{ep: ep, chans: map[string]*engine.Peer{}}
	n.self = Member{ID: ep.Fingerprint().String(), Name: name}
	n.srv = engine.NewServer(ep, &engine.ServerConfig{SkipGreeting: true})
	n.srv.OnConnect(func(p *engine.Peer) {
		id := p.Fingerprint().String()
		n.chans[id] = p
		n.emit(Incoming{Kind: PeerJoined, From: Member{ID: id, Name: "peer-" + id[:6]}})
	})
	n.srv.OnDisconnect(func(p *engine.Peer, reason error) {
		id := p.Fingerprint().String()
		if n.chans[id] == p {
			delete(n.chans, id)
			n.emit(Incoming{Kind: PeerLeft, From: Member{ID: id}, Reason: reason})
		}
	})
	if err := engine.HandleFunc(n.srv, wireAction, func(p *engine.Peer, m wireMsg) {
		n.emit(Incoming{Kind: Message, From: Member{ID: p.Fingerprint().String()}, Data: m.D})
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.srv.Close() })
	return n
}

// connect connects every pair of nodes (the lower identity dials).
func connectLoop(t *testing.T, nodes ...*loopNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			d, l := a, b
			if l.self.ID < d.self.ID {
				d, l = l, d
			}
			conn, err := d.ep.Dial(ctx, l.ep.AddrPort(), netcode.DialOptions{Fingerprint: l.ep.Fingerprint()})
			if err != nil {
				t.Fatal(err)
			}
			d.srv.Adopt(conn)
		}
	}
}

func (n *loopNode) emit(in Incoming) {
	if n.handle == nil {
		in.Data = slices.Clone(in.Data)
		n.queued = append(n.queued, in)
		return
	}
	n.handle(in)
}

func (n *loopNode) Self() Member { return n.self }

func (n *loopNode) Poll(handle func(Incoming)) {
	n.handle = handle
	defer func() { n.handle = nil }()
	for len(n.queued) > 0 {
		in := n.queued[0]
		n.queued = n.queued[1:]
		handle(in)
	}
	n.srv.Pump()
}

func (n *loopNode) Send(to []string, mode Mode, data []byte) error {
	n.to = n.to[:0]
	for _, id := range to {
		if ch := n.chans[id]; ch != nil {
			n.to = append(n.to, ch)
		}
	}
	if len(n.to) == 0 {
		return nil
	}
	m := engine.ReliableOrdered
	if mode == Sequenced {
		m = engine.UnreliableSequenced
	}
	return n.srv.Send(wireMsg{Action: wireAction, D: data}, engine.To(n.to...), m)
}

func (n *loopNode) SetOpen(bool) {}

func (n *loopNode) Stats(id string) (netcode.Stats, bool) {
	if ch := n.chans[id]; ch != nil {
		return ch.Stats(), true
	}
	return netcode.Stats{}, false
}

func (n *loopNode) Drop(id string) {
	if ch := n.chans[id]; ch != nil {
		_ = ch.Close()
	}
}

func (n *loopNode) Close() error { return n.srv.Close() }

// deliveryRun plays rounds between a host and followers over loopback for
// a while, at tps ticks per second of real time, and measures, for every
// step every follower applied, the time from the host's step to the
// follower's apply.
type deliveryRun struct {
	delays   []time.Duration
	bytesOut uint64 // host -> followers, on the wire
	resends  uint64
	secs     float64
	rounds   int
	steps    int
}

func runDelivery(t *testing.T, mode Mode, resend int, link *netcode.LinkConditions, followers int, tps int, d time.Duration) deliveryRun {
	t.Helper()
	host := newLoopNode(t, "host", nil)
	nodes := []*loopNode{host}
	for len(nodes) <= followers {
		// The host must hold the lowest identity: keys are random, so
		// make followers until they sort after it.
		if n := newLoopNode(t, fmt.Sprintf("f%d", len(nodes)), link); n.self.ID > host.self.ID {
			nodes = append(nodes, n)
		} else {
			n.srv.Close()
		}
	}
	connectLoop(t, nodes...)
	var games []*Game
	for _, n := range nodes {
		g, err := New(Config{Bots: 3, Countdown: tps / 2, Seed: 77, Autopilot: true, Outcomes: mode, ResendTicks: resend}, n)
		if err != nil {
			t.Fatal(err)
		}
		games = append(games, g)
	}
	type key struct{ round, step int }
	stepAt := map[key]time.Time{}
	applied := make([]key, len(games))
	var run deliveryRun
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	err := engine.RunTicks(ctx, tps, func(uint64) {
		for i, g := range games {
			g.Update()
			for _, e := range g.Events() {
				if e.Kind == EventProblem {
					t.Logf("%s: %v", g.Self().Name, e.Err)
				}
				if e.Kind == EventRoundOver && i == 0 {
					run.rounds++
				}
			}
			if g.Scene() != ScenePlay && !g.Ready() {
				g.SetReady(true)
			}
			r := g.round
			if r == nil {
				continue
			}
			now := time.Now()
			for s := applied[i].step + 1; (applied[i].round != r.start.round && s == 1 || applied[i].round == r.start.round) && s <= len(r.history); s++ {
				k := key{r.start.round, s}
				if i == 0 {
					stepAt[k] = now
					run.steps++
				} else if at, ok := stepAt[k]; ok {
					run.delays = append(run.delays, now.Sub(at))
				}
				applied[i] = k
			}
			if applied[i].round != r.start.round && len(r.history) == 0 {
				applied[i] = key{r.start.round, 0}
			}
		}
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	run.secs = time.Since(start).Seconds()
	for _, id := range host.srv.Peers() {
		s := id.Stats()
		run.bytesOut += s.BytesOut
		run.resends += s.Resends
	}
	// Every peer that applied a step agrees with the host on it.
	for _, g := range games[1:] {
		r, hr := g.round, games[0].round
		if r == nil || hr == nil || r.start.round != hr.start.round {
			continue
		}
		for s := range min(len(r.history), len(hr.history)) {
			if r.history[s].digest != hr.history[s].digest {
				t.Fatalf("%s disagrees with the host at step %d", g.Self().Name, s+1)
			}
		}
	}
	return run
}

func (r deliveryRun) summary() string {
	d := slices.Clone(r.delays)
	slices.Sort(d)
	if len(d) == 0 {
		return "no steps applied"
	}
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(math.Ceil(p*float64(len(d))))-1)] }
	var sum time.Duration
	late := 0
	for _, x := range d {
		sum += x
		if x > 100*time.Millisecond {
			late++
		}
	}
	return fmt.Sprintf("n=%d mean=%v p50=%v p95=%v p99=%v max=%v late>100ms=%.1f%% host->followers %.1f kB/s resends=%d rounds=%d",
		len(d), (sum / time.Duration(len(d))).Round(time.Millisecond), q(.5).Round(time.Millisecond), q(.95).Round(time.Millisecond),
		q(.99).Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond), 100*float64(late)/float64(len(d)),
		float64(r.bytesOut)/r.secs/1000, r.resends, r.rounds)
}

// TestLoopbackLossyLinkAgrees plays over real connections on 127.0.0.1
// through netcode's link conditioner (20 ms each way, 5 ms jitter, 5% loss
// on every follower's endpoint), in both outcome modes, at 4x speed: every
// follower keeps applying the host's steps and agrees with it on every one.
func TestLoopbackLossyLinkAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and 2x5 s of play")
	}
	link := lossyLink(20*time.Millisecond, 0.05)
	for _, mode := range []Mode{Reliable, Sequenced} {
		t.Run(mode.String(), func(t *testing.T) {
			r := runDelivery(t, mode, 0, link, 2, 4*60, 5*time.Second)
			t.Logf("%v: %s", mode, r.summary())
			if len(r.delays) < 200 {
				t.Fatalf("followers applied only %d steps in 5 s (host ran %d)", len(r.delays), r.steps)
			}
		})
	}
}

func lossyLink(lat time.Duration, loss float64) *netcode.LinkConditions {
	dir := netcode.LinkDirection{Latency: lat, Jitter: lat / 4, Loss: loss}
	return &netcode.LinkConditions{Send: dir, Receive: dir, Seed: 1}
}

// TestMeasureOutcomeDelivery compares the outcome modes at 60 TPS over
// loopback through the link conditioner. It takes minutes and only runs
// with LIGHTCYCLE_MEASURE=<seconds per run>; doc.go reports its figures.
func TestMeasureOutcomeDelivery(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("LIGHTCYCLE_MEASURE"))
	if secs <= 0 {
		t.Skip("set LIGHTCYCLE_MEASURE=<seconds per run> to measure (8 runs)")
	}
	d := time.Duration(secs) * time.Second
	for _, c := range []struct {
		name string
		link *netcode.LinkConditions
	}{
		{"LAN (no conditioner)", nil},
		{"20ms±5ms each way, 2% loss", lossyLink(20*time.Millisecond, 0.02)},
		{"20ms±5ms each way, 5% loss", lossyLink(20*time.Millisecond, 0.05)},
		{"50ms±12ms each way, 10% loss", lossyLink(50*time.Millisecond, 0.10)},
	} {
		for _, v := range []struct {
			name   string
			mode   Mode
			resend int
		}{
			{"reliable", Reliable, 0},
			{"sequenced", Sequenced, 0},
			{"seq/step", Sequenced, 6},
		} {
			r := runDelivery(t, v.mode, v.resend, c.link, 3, 60, d)
			t.Logf("%-30s %-9s %s", c.name, v.name, r.summary())
		}
	}
}
