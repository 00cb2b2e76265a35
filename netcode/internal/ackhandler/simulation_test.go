package ackhandler

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// simRef is what a simulated packet carried: a message, or the ACK frame it
// carried (so that an acknowledgement of it lets the receiver stop reporting
// what that ACK covered).
type simRef struct {
	msg        int // -1 for an ACK ref
	ackLargest uint64
}

type simPacket struct {
	pn     uint64
	arrive time.Time
	hasAck bool
	ack    wire.AckFrame
	msgs   []int
	size   int
}

// simLink delivers packets after a random latency (reordering them), loses
// some and duplicates a few, all from a seeded RNG.
type simLink struct {
	rng      *rand.Rand
	loss     float64
	dup      float64
	latency  time.Duration
	jitter   time.Duration
	inFlight []simPacket
}

func (l *simLink) send(p simPacket, now time.Time) {
	for copies := 1 + b2i(l.rng.Float64() < l.dup); copies > 0; copies-- {
		if l.rng.Float64() < l.loss {
			continue
		}
		p.arrive = now.Add(l.latency + time.Duration(l.rng.Int64N(int64(l.jitter))))
		l.inFlight = append(l.inFlight, p)
	}
}

// arrived removes and returns the packets due at now, in arrival order.
func (l *simLink) arrived(now time.Time) []simPacket {
	var out []simPacket
	l.inFlight = slices.DeleteFunc(l.inFlight, func(p simPacket) bool {
		if p.arrive.After(now) {
			return false
		}
		out = append(out, p)
		return true
	})
	slices.SortStableFunc(out, func(a, b simPacket) int { return a.arrive.Compare(b.arrive) })
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type simEndpoint struct {
	t    *testing.T
	name string
	recv *ReceivedTracker
	sent *SentHistory[simRef]
	rtt  RTT
	cc   *Congestion
	out  *simLink

	nextPN    uint64
	seen      map[uint64]bool // the replay window's job, done exactly
	queue     []int           // messages to send or resend
	toSend    []int           // messages not yet queued (the game producing them)
	acked     map[int]int     // acked callbacks per message
	delivered map[int]bool    // messages received from the peer
	peer      *simEndpoint
	ackRefs   bool // carry an ACK ref so the peer's IgnoreBelow runs

	ackOnly, withAck, maskBytes int
	lostRefs                    []simRef
}

const simMaxAckDelay = 5 * time.Millisecond

func newSimEndpoint(t *testing.T, name string, out *simLink, capacity int) *simEndpoint {
	cc, err := NewCongestion(CongestionConfig{InitialRate: 200_000, MinRate: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	return &simEndpoint{
		t: t, name: name, out: out, cc: cc,
		recv:      NewReceivedTracker(simMaxAckDelay),
		sent:      NewSentHistory[simRef](capacity),
		seen:      map[uint64]bool{},
		acked:     map[int]int{},
		delivered: map[int]bool{},
	}
}

func (e *simEndpoint) onAcked(r simRef) {
	if r.msg < 0 {
		e.recv.IgnoreBelow(r.ackLargest + 1)
		return
	}
	if !e.peer.delivered[r.msg] {
		e.t.Fatalf("%s: message %d acknowledged but never delivered", e.name, r.msg)
	}
	e.acked[r.msg]++
}

func (e *simEndpoint) onLost(r simRef) { e.lostRefs = append(e.lostRefs, r) }

// requeue resends lost messages first (ACK refs need no resend).
func (e *simEndpoint) requeue() {
	var msgs []int
	for _, r := range e.lostRefs {
		if r.msg >= 0 {
			msgs = append(msgs, r.msg)
		}
	}
	e.queue = append(msgs, e.queue...)
	e.lostRefs = e.lostRefs[:0]
}

func (e *simEndpoint) receive(now time.Time) {
	for _, p := range e.peer.out.arrived(now) {
		if e.seen[p.pn] {
			continue // duplicate
		}
		e.seen[p.pn] = true
		e.recv.Received(p.pn, len(p.msgs) > 0, now)
		for _, m := range p.msgs {
			e.delivered[m] = true
		}
		if !p.hasAck {
			continue
		}
		res, err := e.sent.OnAck(&p.ack, now, &e.rtt, simMaxAckDelay, e.onAcked, e.onLost)
		if err != nil {
			e.t.Fatalf("%s: %v", e.name, err)
		}
		if res.AckedBytes > 0 {
			e.cc.OnAcked(now, res.AckedBytes, &e.rtt)
		}
		if res.Loss() {
			e.cc.OnLoss(now, &e.rtt)
		}
		e.requeue()
	}
}

func (e *simEndpoint) timers(now time.Time) {
	if d := e.sent.NextDeadline(&e.rtt, simMaxAckDelay); !d.IsZero() && !now.Before(d) {
		if e.sent.OnTimeout(now, &e.rtt, simMaxAckDelay, e.onLost) > 0 {
			e.cc.OnLoss(now, &e.rtt)
		}
		e.requeue()
	}
}

func (e *simEndpoint) send(now time.Time) {
	const perPacket, msgSize, overhead = 6, 100, 60
	if len(e.toSend) > 0 { // the game produces 3 messages per millisecond
		n := min(3, len(e.toSend))
		e.queue = append(e.queue, e.toSend[:n]...)
		e.toSend = e.toSend[n:]
	}
	sentData := false
	for len(e.queue) > 0 && !e.sent.Full() {
		n := min(perPacket, len(e.queue))
		size := overhead + n*msgSize
		if !e.cc.CanSend(now, e.sent.BytesInFlight(), size) {
			break
		}
		p := simPacket{pn: e.nextPN, msgs: slices.Clone(e.queue[:n]), size: size}
		e.queue = e.queue[n:]
		refs := make([]simRef, 0, n+1)
		for _, m := range p.msgs {
			refs = append(refs, simRef{msg: m})
		}
		if e.recv.FillAck(now, &p.ack) { // piggyback
			p.hasAck = true
			e.withAck++
			e.maskBytes += int(p.ack.MaskLen)
			if e.ackRefs {
				refs = append(refs, simRef{msg: -1, ackLargest: p.ack.Largest})
			}
		}
		if err := e.sent.Sent(p.pn, now, size, true, refs); err != nil {
			e.t.Fatal(err)
		}
		if p.hasAck {
			e.recv.OnAckSent()
		}
		e.cc.OnSent(now, size)
		e.out.send(p, now)
		e.nextPN++
		sentData = true
	}
	if d := e.recv.AckDeadline(); !sentData && !d.IsZero() && !now.Before(d) {
		p := simPacket{pn: e.nextPN, size: 40}
		if !e.recv.FillAck(now, &p.ack) {
			e.t.Fatalf("%s: ack owed but FillAck false", e.name)
		}
		p.hasAck = true
		var refs []simRef
		if e.ackRefs && !e.sent.Full() {
			refs = []simRef{{msg: -1, ackLargest: p.ack.Largest}}
		}
		if err := e.sent.Sent(p.pn, now, p.size, false, refs); err != nil {
			e.t.Fatal(err)
		}
		e.recv.OnAckSent()
		e.cc.OnSent(now, p.size)
		e.out.send(p, now)
		e.nextPN++
		e.ackOnly++
		e.maskBytes += int(p.ack.MaskLen)
	}
}

func (e *simEndpoint) done(total int) bool {
	return len(e.acked) == total && len(e.queue) == 0 && len(e.toSend) == 0
}

func runSimulation(t *testing.T, seed uint64, bidirectional bool) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	link := func() *simLink {
		return &simLink{rng: rng, loss: 0.2, dup: 0.02, latency: 10 * time.Millisecond, jitter: 8 * time.Millisecond}
	}
	a := newSimEndpoint(t, "A", link(), 64)
	b := newSimEndpoint(t, "B", link(), 64)
	a.peer, b.peer = b, a
	const total = 3000
	for i := range total {
		a.toSend = append(a.toSend, i)
		if bidirectional {
			b.toSend = append(b.toSend, total+i)
		}
	}
	a.ackRefs, b.ackRefs = bidirectional, bidirectional
	now := t0
	end := t0.Add(5 * time.Minute)
	for ; now.Before(end); now = now.Add(time.Millisecond) {
		for _, e := range []*simEndpoint{a, b} {
			e.receive(now)
			e.timers(now)
			e.send(now)
		}
		if a.done(total) && (!bidirectional || b.done(total)) {
			break
		}
	}
	if !now.Before(end) {
		t.Fatalf("not done after %v: A acked %d/%d (queue %d, in flight %d), B acked %d",
			end.Sub(t0), len(a.acked), total, len(a.queue), a.sent.Len(), len(b.acked))
	}
	check := func(e *simEndpoint, first int) {
		for m := first; m < first+total; m++ {
			if e.acked[m] != 1 {
				t.Fatalf("%s: message %d acked %d times", e.name, m, e.acked[m])
			}
			if !e.peer.delivered[m] {
				t.Fatalf("%s: message %d never delivered", e.name, m)
			}
		}
	}
	check(a, 0)
	if bidirectional {
		check(b, total)
	}
	t.Logf("seed %d: done in %v; A: rtt %v jitter %v rate %d B/s, %d acks piggybacked, %d ack-only, mean mask %.1f B; B: %d ack-only, mean mask %.1f B",
		seed, now.Sub(t0), a.rtt.Smoothed(), a.rtt.Jitter(), a.cc.Rate(), a.withAck, a.ackOnly,
		float64(a.maskBytes)/float64(max(a.withAck+a.ackOnly, 1)), b.ackOnly,
		float64(b.maskBytes)/float64(max(b.withAck+b.ackOnly, 1)))
	if a.rtt.Smoothed() < 10*time.Millisecond || a.rtt.Smoothed() > 40*time.Millisecond {
		t.Errorf("A's smoothed RTT %v, link RTT is 20-36 ms", a.rtt.Smoothed())
	}
}

func TestSimulationLossyLink(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		runSimulation(t, seed, false)
	}
}

func TestSimulationBidirectional(t *testing.T) {
	for _, seed := range []uint64{4, 5} {
		runSimulation(t, seed, true)
	}
}
