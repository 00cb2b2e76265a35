package engine

// The issue 12 (defect 12) attack on real sockets: a chat server relays the
// lines of two clients, which reach it through an on-path attacker (a UDP
// proxy on 127.0.0.1) that flips one bit in 5% of the datagrams, replays
// 1,000 captured datagrams and injects 100,000 garbage datagrams over 30 s.
// Once the attack is over, no line may take longer than 3 s to reach the
// other client. It takes about 70 s of real time per run, so it is off by
// default (as the soak test is): -stall.real=N runs it N times.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var stallRealFlag = flag.Int("stall.real", 0, "runs of the real-socket chat attack (0: skip)")

type stallLine struct {
	Action string `msgpack:"action"`
	From   int    `msgpack:"from"`
	Seq    int    `msgpack:"seq"`
	At     int64  `msgpack:"at"`
	Text   string `msgpack:"text"`
}

// udpAttacker is an on-path proxy: client i talks to front[i], which
// forwards to the server from back[i] and back.
type udpAttacker struct {
	server netip.AddrPort
	front  [2]*net.UDPConn
	back   [2]*net.UDPConn
	inj    *net.UDPConn

	mu      sync.Mutex
	rng     *rand.Rand
	on      bool
	flip    float64
	client  [2]netip.AddrPort
	caps    []capDatagram
	flipped int
	cids    [][]byte
}

type capDatagram struct {
	b    []byte
	via  *net.UDPConn
	to   netip.AddrPort
	side int // -1: to the server
}

func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(1 << 20)
	return c
}

func newUDPAttacker(t *testing.T, server netip.AddrPort, seed uint64) *udpAttacker {
	a := &udpAttacker{server: server, rng: rand.New(rand.NewPCG(seed, 12)), flip: 0.05, inj: listenLoopback(t)}
	for i := range 2 {
		a.front[i], a.back[i] = listenLoopback(t), listenLoopback(t)
	}
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { // client -> server
			buf := make([]byte, 2048)
			for {
				n, from, err := a.front[i].ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				a.mu.Lock()
				a.client[i] = from
				a.mu.Unlock()
				a.forward(buf[:n], a.back[i], a.server, -1)
			}
		})
		wg.Go(func() { // server -> client
			buf := make([]byte, 2048)
			for {
				n, _, err := a.back[i].ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				a.mu.Lock()
				to := a.client[i]
				a.mu.Unlock()
				a.forward(buf[:n], a.front[i], to, i)
			}
		})
	}
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := a.inj.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	})
	t.Cleanup(func() {
		for i := range 2 {
			a.front[i].Close()
			a.back[i].Close()
		}
		a.inj.Close()
		wg.Wait()
	})
	return a
}

// forward passes a datagram on, keeping a pristine copy and flipping one
// bit of it with probability flip while the attack is on.
func (a *udpAttacker) forward(b []byte, via *net.UDPConn, to netip.AddrPort, side int) {
	a.mu.Lock()
	if len(a.caps) < 20000 {
		a.caps = append(a.caps, capDatagram{b: append([]byte(nil), b...), via: via, to: to, side: side})
	} else {
		a.caps[a.rng.IntN(len(a.caps))] = capDatagram{b: append([]byte(nil), b...), via: via, to: to, side: side}
	}
	if side == -1 && len(b) > 9 && b[0]&0xbf == 0x80 && len(a.cids) < 4 {
		a.cids = append(a.cids, append([]byte(nil), b[1:9]...))
	}
	if a.on && a.rng.Float64() < a.flip {
		// Half the time the pristine copy follows from the attacker's own
		// socket: the newest packet of its connection, from a new address.
		if a.rng.IntN(2) == 0 {
			pristine := append([]byte(nil), b...)
			time.AfterFunc(time.Duration(a.rng.Int64N(int64(20*time.Millisecond))), func() {
				_, _ = a.inj.WriteToUDPAddrPort(pristine, to)
			})
		}
		bit := a.rng.IntN(8 * len(b))
		b[bit/8] ^= 1 << (bit % 8)
		a.flipped++
	}
	a.mu.Unlock()
	_, _ = via.WriteToUDPAddrPort(b, to)
}

func (a *udpAttacker) replay() {
	a.mu.Lock()
	if len(a.caps) == 0 {
		a.mu.Unlock()
		return
	}
	c := a.caps[a.rng.IntN(len(a.caps))]
	to := c.to
	if c.side >= 0 {
		to = a.client[c.side]
	}
	a.mu.Unlock()
	_, _ = c.via.WriteToUDPAddrPort(c.b, to)
}

func (a *udpAttacker) inject() {
	a.mu.Lock()
	var b []byte
	switch k := a.rng.IntN(3); {
	case k == 1 && len(a.cids) > 0:
		b = make([]byte, 40+a.rng.IntN(200))
		for i := range b {
			b[i] = byte(a.rng.Uint32())
		}
		b[0] = 0x80 | byte(a.rng.IntN(2))<<6
		copy(b[1:], a.cids[a.rng.IntN(len(a.cids))])
	case k == 2 && len(a.caps) > 0:
		b = append([]byte(nil), a.caps[a.rng.IntN(len(a.caps))].b...)
		for range 1 + a.rng.IntN(4) {
			b[a.rng.IntN(len(b))] = byte(a.rng.Uint32())
		}
	default:
		b = make([]byte, 1+a.rng.IntN(1200))
		for i := range b {
			b[i] = byte(a.rng.Uint32())
		}
	}
	a.mu.Unlock()
	_, _ = a.inj.WriteToUDPAddrPort(b, a.server)
}

func TestChatUnderRealAttackNeverStalls(t *testing.T) {
	if *stallRealFlag == 0 {
		t.Skip("real-time attack run (about 70 s each) is off: enable with -stall.real=N")
	}
	for run := range *stallRealFlag {
		runRealStall(t, uint64(run)+1)
	}
}

func runRealStall(t *testing.T, seed uint64) {
	const (
		before, attack, after = 3 * time.Second, 30 * time.Second, 30 * time.Second
		replays, injected     = 1000, 100_000
		every                 = 70 * time.Millisecond
	)
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	a := newUDPAttacker(t, srv.Addr(), seed)
	if err := HandleFunc(srv, "line", func(p *Peer, m stallLine) {
		if err := srv.Send(m); err != nil {
			t.Errorf("relay: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			srv.PumpWait(t.Context(), 100*time.Millisecond)
		}
	})
	start := time.Now()
	attackEnd := start.Add(before + attack)
	var mu sync.Mutex
	var worst, during time.Duration
	var worstAt time.Duration
	var worstDir string
	var errs []string
	var sent, got [2]int
	var maxOldest time.Duration
	for i := range 2 {
		cl, err := Connect(FormatTarget(a.front[i].LocalAddr().(*net.UDPAddr).AddrPort(), srv.Fingerprint()), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		want := [2]int{}
		if err := HandleFunc(cl, "line", func(c *Client, m stallLine) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if m.From < 0 || m.From > 1 || m.Seq != want[m.From] {
				errs = append(errs, fmt.Sprintf("client %d: line %+v, want seq %d", i, m, want[m.From&1]))
				return
			}
			want[m.From]++
			got[i]++
			at := time.Unix(0, m.At)
			w := now.Sub(at)
			if at.After(attackEnd) {
				if w > worst {
					worst, worstAt, worstDir = w, at.Sub(start), fmt.Sprintf("%d -> %d", m.From, i)
				}
			} else if w > during {
				during = w
			}
		}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			next := time.Now().Add(time.Second)
			seq := 0
			for {
				select {
				case <-stop:
					mu.Lock()
					sent[i] = seq
					mu.Unlock()
					return
				default:
				}
				cl.PumpWait(t.Context(), 10*time.Millisecond)
				if now := time.Now(); cl.Connected() && now.After(next) && now.Sub(start) < before+attack+after-3*time.Second {
					if err := cl.Send(stallLine{Action: "line", From: i, Seq: seq, At: now.UnixNano(), Text: "a line of chat, about as long as people type"}); err != nil {
						mu.Lock()
						errs = append(errs, fmt.Sprintf("client %d send: %v", i, err))
						mu.Unlock()
					}
					seq++
					next = now.Add(every/2 + time.Duration(rand.Int64N(int64(every))))
				}
				if st := cl.Stats(); time.Now().After(attackEnd.Add(time.Second)) {
					mu.Lock()
					maxOldest = max(maxOldest, st.OldestUnacked)
					mu.Unlock()
				}
			}
		})
	}
	// The attack.
	time.Sleep(before)
	a.mu.Lock()
	a.on = true
	a.mu.Unlock()
	tick := time.NewTicker(10 * time.Millisecond)
	ticks := int(attack / (10 * time.Millisecond))
	for k := range ticks {
		<-tick.C
		for range injected/ticks + 1 {
			a.inject()
		}
		if k%(ticks/replays+1) == 0 {
			a.replay()
		}
	}
	tick.Stop()
	a.mu.Lock()
	a.on = false
	flipped := a.flipped
	a.mu.Unlock()
	time.Sleep(time.Until(attackEnd.Add(after)))
	close(stop)
	wg.Wait()
	for _, p := range srv.Peers() {
		if o := p.Stats().OldestUnacked; o > maxOldest {
			maxOldest = o
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("run %d: flipped %d; slowest line after the attack %v (sent at %v, %s), during %v; oldest unacked after %v; sent %v got %v; server drops %+v",
		seed, flipped, worst, worstAt, worstDir, during, maxOldest, sent, got, srv.Endpoint().Stats())
	for _, e := range errs[:min(len(errs), 10)] {
		t.Errorf("run %d: %s", seed, e)
	}
	if worst > 3*time.Second || maxOldest > 3*time.Second {
		t.Errorf("run %d: a stall after the attack: slowest line %v, oldest unacknowledged message %v (bound 3 s)", seed, worst, maxOldest)
	}
}
