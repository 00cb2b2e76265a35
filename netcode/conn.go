package netcode

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/ackhandler"
	"github.com/pumpnet/pumpnet/netcode/internal/delivery"
	"github.com/pumpnet/pumpnet/netcode/internal/protect"
	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// The acknowledgement policy (PROTOCOL.md §5.1). maxAckDelay is how long
// a receiver may hold back an acknowledgement: longer than a game's tick,
// so that acknowledgements ride in the next state or input instead of
// datagrams of their own. The sender's RTT samples subtract the delay the
// ACK reports, and its probe timeout allows for it. ackEvery, ackRecovery
// and ackFirst are the ack frequency (ReceivedTracker.SetAckFrequency):
// an ACK every second packet, as before (one per 10, with every second
// one for 20 packets after a gap, cost the 1200-byte throughput benchmark
// 7-30% of its goodput and doubled its declared loss), and at once for the
// first 4. Variables for tests, which compare with the policy before (5 ms).
var (
	maxAckDelay                     = ackhandler.DefaultMaxAckDelay
	ackEvery, ackRecovery, ackFirst = 2, 0, ackhandler.FirstAckedPackets
)

// timerSlack and armBusyGap: see setTimerLocked.
const (
	timerSlack = time.Millisecond
	armBusyGap = 200 * time.Microsecond
)

// maxPacketsPerFlush bounds the work one flush does under the lock.
const maxPacketsPerFlush = 256

// keysReadyRef marks the KEYS_READY frame in the sent-packet history, so
// that it is resent when lost, like reliable data.
var keysReadyRef = delivery.Ref{Channel: math.MaxUint8, Seq: math.MaxUint64, Frag: math.MaxUint32}

// Message is one message received on a connection.
type Message struct {
	Channel uint8
	// Data is valid until the next call of Receive on the same Conn.
	Data []byte
}

// Conn is one secure connection between two endpoints. All methods are safe
// for concurrent use. Send, Flush, Receive and Stats never block; Shutdown
// waits for reliable data to be acknowledged.
//
// A connection seals its packets under its own lock into its endpoint's
// outbound queue and writes them after releasing it: no system call is
// made under a connection's lock, so a connection that flushes a burst
// never holds up the endpoint's reader goroutine (which serves every
// connection) or another connection.
//
// Network work (acknowledgements, resends, keepalives) runs on netcode's
// goroutines, so a connection stays alive while the application is paused.
type Conn struct {
	ep           *Endpoint
	cfg          *config
	server       bool
	localCID     wire.ConnID
	remoteCID    wire.ConnID
	peer         Fingerprint
	ownsEndpoint bool

	established chan struct{} // closed when the peer proved it has keys
	done        chan struct{} // closed when the connection ends
	wake        chan struct{} // capacity 1: messages to Receive, or closed

	mu       sync.Mutex
	raddr    netip.AddrPort
	sealer   *protect.Sealer
	opener   *protect.Opener
	sender   *delivery.Sender
	receiver *delivery.Receiver
	rtt      ackhandler.RTT
	received *ackhandler.ReceivedTracker
	sent     *ackhandler.SentHistory[delivery.Ref]
	cc       *ackhandler.Congestion
	timer    *time.Timer
	// timerAt is when the timer is set to fire (zero: not set, or it
	// fired), timerSetAt when it was set, lastArm the last armLocked
	// call; see setTimerLocked.
	timerAt, timerSetAt, lastArm time.Time
	closeErr                     *CloseError
	isReady                      bool // peer proved its keys
	keysReady                    bool // a KEYS_READY frame is owed to the peer
	pingOwed                     bool
	flushAt                      time.Time // zero: nothing waits for the flush timer
	lastRecv                     time.Time
	lastSent                     time.Time // last ack-eliciting packet
	ackFrame                     wire.AckFrame
	frame                        wire.Frame
	refs                         []delivery.Ref
	params                       []byte // our channel parameters, sent in KEYS_READY
	onFrameFn                    func(*wire.Frame) error
	onAckedFn                    func(delivery.Ref)
	onLostFn                     func(delivery.Ref)

	// Path validation (connection migration): a probe of the address that
	// the peer's newest packets come from, if it is not raddr.
	probe probeState
	// prevAddr is the path the connection moved from (zero if it never
	// moved): while nothing arrives on the current one for 1.5*KeepAlive, a
	// PING goes there every KeepAlive (prevPinged), so that a peer still
	// there, or back there, challenges it and brings the connection home
	// (see pingPrevLocked).
	prevAddr   netip.AddrPort
	prevPinged time.Time

	// per-packet scratch for onFrame
	rxNow          time.Time
	rxFrom         netip.AddrPort
	rxChallenge    bool // a PATH_CHALLENGE arrived: answer to rxFrom
	rxNonProbing   bool // a frame other than PATH_*/PADDING arrived
	rxChallengeOf  [wire.PathDataLen]byte
	rxAckEliciting bool
	rxRefused      bool
	rxAcked        bool
	rxData         bool // a message or fragment was stored

	// outBlocked (guarded by the endpoint's outQueue.mu): the outbound
	// queue was full and the connection waits in its blocked list.
	// localDrops: packets of ours the socket refused (written by the
	// outbound queue's drainer), not yet matched by packets declared lost:
	// losses they explain do not back off the send rate.
	outBlocked bool
	// waitRoom (under c.mu): the connection found the outbound queue full
	// and waits for its drainer (unblock); meanwhile its timer does not
	// chase deadlines that need a send (an ack due, a flush, a resend),
	// which would fire again at once and spin.
	waitRoom   bool
	localDrops atomic.Int64
	sealed     uint32 // packets pushed to the outbound queue (wraps)

	trimmedAt time.Time // see trimInterval
	stats     connCounters
	lossEWMA  float64
	rateStart time.Time
	rateCur   rateWindow
	rateLast  rateWindow
}

// trimInterval is how often a connection gives back what its sender and
// receiver kept for reuse and did not use meanwhile (delivery's Trim): a
// quiet connection returns to its idle size within two intervals after a
// burst (issue 13 item 7). Its timer fires at least every second.
const trimInterval = 2 * time.Second

// probeState is an unvalidated address the peer seems to have moved to
// (its newest packets come from there) and the PATH_CHALLENGE sent to it.
type probeState struct {
	addr     netip.AddrPort
	data     [wire.PathDataLen]byte
	lastSent time.Time
	sent     int
}

// maxProbeChallenges bounds the PATH_CHALLENGEs of one round sent to a
// candidate address: a path that does not answer this many is not one, for
// now. probeRest is how long the address then rests before the peer's
// newest packets from there can start another round: the path may have
// been down only for a while (a rebinding during an outage), and an
// address that never gets another challenge is a connection that never
// follows its peer there.
const (
	maxProbeChallenges = 8
	probeRest          = time.Second
)

type connCounters struct {
	bytesIn, bytesOut, packetsIn, packetsOut uint64
	resends, lostPackets                     uint64
	dropReplay, dropAuth, dropMalformed      uint64
	dropRefused                              uint64
	pathChallenges, pathChanges              uint64
	timerFires                               uint64 // tests: onTimer runs
	timerResets                              uint64 // tests: timer.Reset calls
}

type rateWindow struct{ bytesIn, bytesOut, packetsIn, packetsOut uint64 }

func newConn(e *Endpoint, raddr netip.AddrPort, ex protect.Exported, peer Fingerprint, server bool) (*Conn, error) {
	defer ex.Zero()
	cfg := e.cfg
	sendSecret, recvSecret := ex.ClientToServer[:], ex.ServerToClient[:]
	local, remote := ex.ClientCID, ex.ServerCID
	if server {
		sendSecret, recvSecret = recvSecret, sendSecret
		local, remote = remote, local
	}
	sealer, err := protect.NewSealer(cfg.Suite, sendSecret, cfg.KeyUpdateInterval)
	if err != nil {
		return nil, fmt.Errorf("netcode: keys: %w", err)
	}
	opener, err := protect.NewOpener(cfg.Suite, recvSecret, cfg.MaxAuthFailures)
	if err != nil {
		return nil, fmt.Errorf("netcode: keys: %w", err)
	}
	dc := cfg.deliveryConfig()
	sender, err := delivery.NewSender(dc)
	if err != nil {
		return nil, fmt.Errorf("netcode: %w", err)
	}
	receiver, err := delivery.NewReceiver(dc)
	if err != nil {
		return nil, fmt.Errorf("netcode: %w", err)
	}
	cc, err := ackhandler.NewCongestion(ackhandler.CongestionConfig{})
	if err != nil {
		return nil, fmt.Errorf("netcode: %w", err)
	}
	c := &Conn{
		ep:          e,
		cfg:         cfg,
		server:      server,
		localCID:    local,
		remoteCID:   remote,
		peer:        peer,
		established: make(chan struct{}),
		done:        make(chan struct{}),
		wake:        make(chan struct{}, 1),
		raddr:       raddr,
		sealer:      sealer,
		opener:      opener,
		sender:      sender,
		receiver:    receiver,
		received:    newReceivedTracker(),
		sent:        ackhandler.NewSentHistory[delivery.Ref](0),
		cc:          cc,
		keysReady:   true,
		params:      cfg.channelParams(),
	}
	c.onFrameFn = c.onFrame
	c.onAckedFn = c.onAcked
	c.onLostFn = c.onLost
	return c, nil
}

// newReceivedTracker returns a connection's tracker of received packets,
// with the ack frequency of PROTOCOL.md §5.1.
func newReceivedTracker() *ackhandler.ReceivedTracker {
	t := ackhandler.NewReceivedTracker(maxAckDelay)
	t.SetAckFrequency(ackEvery, ackRecovery, ackFirst)
	return t
}

// start arms the connection's timer and sends KEYS_READY.
func (c *Conn) start(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastRecv = now
	c.lastSent = now
	c.rateStart = now
	c.timer = time.AfterFunc(time.Hour, c.onTimer)
	c.sendLocked(now)
	c.armLocked(now)
}

// RemoteAddr returns the peer's address. It changes when the peer's
// packets come from a new address (a NAT rebinding, a move to another
// network) and the peer answered a path challenge there (RFC 9000 §9);
// Stats.PathChanges counts the moves.
func (c *Conn) RemoteAddr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raddr
}

// LocalAddr returns the address of the endpoint the connection runs on.
func (c *Conn) LocalAddr() net.Addr { return c.ep.LocalAddr() }

// Endpoint returns the endpoint the connection runs on.
func (c *Conn) Endpoint() *Endpoint { return c.ep }

// PeerFingerprint returns the peer's identity (zero in PSK mode).
func (c *Conn) PeerFingerprint() Fingerprint { return c.peer }

// Done returns a channel closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Wake returns a channel that receives a value (capacity 1, coalesced)
// when there are messages to Receive or the connection ended.
func (c *Conn) Wake() <-chan struct{} { return c.wake }

// Err returns nil while the connection is open, then a *CloseError.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr == nil {
		return nil
	}
	return c.closeErr
}

func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
	c.ep.signal()
}

// errSendQueueFull is Send's ErrQueueFull, made once: a bulk sender meets
// it often, and it must not allocate (issue 13 item 6).
var errSendQueueFull = fmt.Errorf("%w (Stats.QueuedReliableBytes says how much): %w", ErrQueueFull, delivery.ErrQueueFull)

// Send queues data on a channel and returns at once: the data is copied,
// then sent by the next Flush or, at the latest, after Config.FlushDelay.
// A full queue returns ErrQueueFull; after the connection ended the error
// matches net.ErrClosed.
func (c *Conn) Send(channel uint8, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return fmt.Errorf("netcode: send: %w", c.closeErr)
	}
	now := time.Now()
	if err := c.sender.Queue(channel, data, now); err != nil {
		switch {
		case errors.Is(err, delivery.ErrQueueFull):
			return errSendQueueFull
		case errors.Is(err, delivery.ErrTooLarge):
			return fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, len(data), c.cfg.MaxMessageSize)
		case errors.Is(err, delivery.ErrNoChannel):
			return fmt.Errorf("%w: %d", ErrNoChannel, channel)
		}
		return err
	}
	if c.flushAt.IsZero() {
		c.flushAt = now.Add(c.cfg.FlushDelay)
		c.armLocked(now)
	}
	return nil
}

// Flush sends what Send queued now, packed into as few datagrams as the
// datagram budget, the send rate and the windows allow. It never blocks.
func (c *Conn) Flush() {
	c.seal()
	c.ep.flushOut()
}

// seal seals what is queued into the endpoint's outbound queue (taking and
// releasing the lock) and rearms the timer; the caller writes the packets
// (flushOut).
func (c *Conn) seal() {
	c.mu.Lock()
	if c.closeErr == nil {
		now := time.Now()
		c.sendLocked(now)
		c.armLocked(now)
	}
	c.mu.Unlock()
}

// unblock seals what the connection held back while the endpoint's
// outbound queue was full. The queue's drainer calls it, holding no lock.
func (c *Conn) unblock() {
	c.ep.out.mu.Lock()
	c.outBlocked = false
	c.ep.out.mu.Unlock()
	c.mu.Lock()
	c.waitRoom = false
	if c.closeErr == nil {
		now := time.Now()
		c.sendLocked(now)
		c.armLocked(now)
	}
	c.mu.Unlock()
}

// Receive returns the next delivered message, if any. It never blocks. The
// message's Data is valid until the next Receive on this Conn. Messages
// delivered before the connection ended can still be received after.
func (c *Conn) Receive() (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, data, ok := c.receiver.Next()
	return Message{Channel: ch, Data: data}, ok
}

// Close ends the connection at once, telling the peer (best effort), and
// discards unsent data: if reliable messages were queued or not yet
// acknowledged, the peer sees CodeUnsentData (matching ErrUnsentData)
// with how many bytes were dropped, instead of CodeNormal. Shutdown is the
// graceful way. For connections made by the package-level Dial it also
// closes the socket (and waits for its reader goroutine). Close is
// idempotent and returns nil, or the socket's close error. Safe from any
// goroutine.
func (c *Conn) Close() error {
	return c.CloseWithReason(CodeNormal, "")
}

// CloseWithReason is Close with a code and a reason (at most 256 bytes)
// that reach the peer. CodeNormal becomes CodeUnsentData, as for Close,
// when reliable data is discarded (the reason then says how much, after
// the given one).
func (c *Conn) CloseWithReason(code CloseCode, reason string) error {
	c.mu.Lock()
	if c.closeErr == nil && (code == CodeNormal || code == CodeUnsentData) {
		if n := c.sender.QueuedReliableBytes(); n > 0 {
			code = CodeUnsentData
			if reason != "" {
				reason += "; "
			}
			reason += fmt.Sprintf("%d bytes of reliable data not acknowledged, discarded", n)
		}
	}
	c.closeLocked(time.Now(), &CloseError{Code: code, Reason: reason}, true)
	c.mu.Unlock()
	c.ep.flushOut()
	if c.ownsEndpoint {
		return c.ep.Close()
	}
	return nil
}

// Shutdown flushes queued data and waits until every reliable message was
// acknowledged, then closes the connection. If ctx ends first, it closes
// anyway and returns ctx's error.
func (c *Conn) Shutdown(ctx context.Context) error {
	c.Flush()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		c.mu.Lock()
		idle := c.closeErr != nil || c.sender.Idle()
		c.mu.Unlock()
		if idle {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			c.Close()
			return ctx.Err()
		case <-c.done:
			return c.Close()
		case <-tick.C:
		}
	}
}

// closeWith ends the connection; sendClose tells the peer.
func (c *Conn) closeWith(e *CloseError, sendClose bool) {
	c.mu.Lock()
	c.closeLocked(time.Now(), e, sendClose)
	c.mu.Unlock()
	c.ep.flushOut()
}

func (c *Conn) closeLocked(now time.Time, e *CloseError, sendClose bool) {
	if c.closeErr != nil {
		return
	}
	c.closeErr = e
	if sendClose && c.sealer != nil {
		// Three copies, best effort: a lost CLOSE leaves the peer to its
		// idle timeout.
		for range 3 {
			buf := c.ep.out.get()
			if buf == nil {
				break
			}
			p := wire.AppendClose(buf[wire.HeaderLen:wire.HeaderLen], uint64(e.Code), e.Reason)
			if pkt, _, err := c.sealer.Seal(buf, c.remoteCID, p); err == nil {
				c.push(pkt, c.raddr)
			} else {
				c.ep.out.put(buf)
			}
		}
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	close(c.done)
	c.ep.removeConn(c)
	c.signal()
}

// handleDatagram processes one protected packet from the reader goroutine
// and reports whether it sealed packets into the outbound queue (which the
// reader then hands to the writer goroutine).
func (c *Conn) handleDatagram(now time.Time, b []byte, from netip.AddrPort) bool {
	c.mu.Lock()
	before := c.sealed
	c.handleLocked(now, b, from)
	queued := c.sealed != before
	c.mu.Unlock()
	return queued
}

func (c *Conn) handleLocked(now time.Time, b []byte, from netip.AddrPort) {
	if c.closeErr != nil {
		return
	}
	pn, payload, err := c.opener.Open(b)
	if err != nil {
		switch {
		case errors.Is(err, protect.ErrReplay):
			c.stats.dropReplay++
		case errors.Is(err, protect.ErrAuthLimit):
			c.stats.dropAuth++
			c.closeLocked(now, &CloseError{Code: CodeAuthLimit, Reason: "too many authentication failures"}, true)
		case errors.Is(err, protect.ErrAuth):
			c.stats.dropAuth++
		default:
			c.stats.dropMalformed++
		}
		return
	}
	newest := false
	if largest, ok := c.received.Largest(); !ok || pn > largest {
		newest = true
	}
	c.lastRecv = now
	c.stats.packetsIn++
	c.stats.bytesIn += uint64(len(b))
	c.rotateRates(now)
	c.rateCur.packetsIn++
	c.rateCur.bytesIn += uint64(len(b))

	c.rxNow, c.rxAckEliciting, c.rxRefused, c.rxAcked, c.rxData = now, false, false, false, false
	c.rxFrom, c.rxChallenge, c.rxNonProbing = from, false, false
	if err := wire.ParseFrames(payload, &c.frame, c.onFrameFn); err != nil {
		if c.closeErr == nil {
			c.stats.dropMalformed++
			c.closeLocked(now, &CloseError{Code: CodeProtocolViolation, Reason: err.Error()}, true)
		}
		return
	}
	if c.closeErr != nil {
		return // the packet carried CLOSE
	}
	if c.rxChallenge {
		c.sendPathFrameLocked(now, from, wire.FramePathResponse, c.rxChallengeOf)
	}
	if from != c.raddr && newest && c.rxNonProbing {
		// Only the peer's newest packet counts (an old one, reordered,
		// still comes from where the peer was), and only a packet with
		// more than probing frames (RFC 9000 §9.2): answering a probe
		// must not start another.
		c.probeLocked(now, from)
	}
	if c.rxRefused {
		c.stats.dropRefused++ // not acknowledged: the peer resends later
	} else {
		c.received.Received(pn, c.rxAckEliciting, now)
	}
	if !c.isReady {
		c.isReady = true
		close(c.established)
	}
	if c.rxData {
		c.signal()
	}
	if d := c.received.AckDeadline(); (!d.IsZero() && !d.After(now)) || (c.rxAcked && c.sender.HasData()) {
		c.sendLocked(now)
	}
	c.armLocked(now)
}

// onFrame handles one frame of an authenticated packet.
func (c *Conn) onFrame(f *wire.Frame) error {
	now := c.rxNow
	if f.Type.AckEliciting() {
		c.rxAckEliciting = true
	}
	switch f.Type {
	case wire.FramePadding, wire.FramePathChallenge, wire.FramePathResponse:
	default:
		c.rxNonProbing = true
	}
	switch f.Type {
	case wire.FramePadding, wire.FramePing:
	case wire.FrameKeysReady:
		if !bytes.Equal(f.Params, c.params) {
			c.closeLocked(now, &CloseError{Code: CodeConfigMismatch, Reason: mismatchReason(c.params, f.Params, c.server)}, true)
			return errStopFrames
		}
	case wire.FrameAck:
		res, err := c.sent.OnAck(&f.Ack, now, &c.rtt, maxAckDelay, c.onAckedFn, c.onLostFn)
		if err != nil {
			return err
		}
		c.rxAcked = true
		c.noteAckResult(now, res)
	case wire.FrameMessage:
		return c.refuseOr(c.receiver.OnMessage(&f.Message, now))
	case wire.FrameFragment:
		return c.refuseOr(c.receiver.OnFragment(&f.Fragment, now))
	case wire.FrameClose:
		c.closeLocked(now, &CloseError{Code: CloseCode(f.Close.Code), Reason: string(f.Close.Reason), Remote: true}, false)
		return errStopFrames
	case wire.FramePathChallenge:
		// Answered once the packet is processed, to the address it came
		// from (the peer validates the path it sees us on).
		c.rxChallenge, c.rxChallengeOf = true, f.Path
	case wire.FramePathResponse:
		p := &c.probe
		if p.addr.IsValid() && f.Path == p.data && c.rxFrom == p.addr {
			// The peer answered at the new address: it is there, and the
			// address is not a spoofed source. Move the connection.
			c.prevAddr, c.raddr = c.raddr, p.addr
			c.stats.pathChanges++
			*p = probeState{lastSent: p.lastSent}
		}
	}
	return nil
}

// probeLocked validates addr, which the peer's newest authenticated packet
// came from (a NAT rebinding or a move to another network), before the
// connection sends there (RFC 9000 §9): it sends a PATH_CHALLENGE of fresh
// random data to addr, at most once per round trip and maxProbeChallenges
// times per round (a new round after probeRest without one), and at most
// one challenge per round trip whatever the address, so probing costs at
// most one small packet per packet the peer sent, and an address that does
// not answer gets at most maxProbeChallenges per probeRest and a round.
// Only a PATH_RESPONSE carrying that data, from
// addr, moves the connection. A replayed packet never gets here (the
// replay window dropped it), and an on-path attacker that races a fresh
// packet from an address of its own gets challenges it cannot answer.
func (c *Conn) probeLocked(now time.Time, addr netip.AddrPort) {
	p := &c.probe
	if !p.lastSent.IsZero() && now.Sub(p.lastSent) < max(c.rtt.Smoothed(), 20*time.Millisecond) {
		return // at most one challenge per round trip, whatever the address
	}
	if p.addr != addr {
		*p = probeState{addr: addr, lastSent: p.lastSent}
		if _, err := rand.Read(p.data[:]); err != nil {
			return
		}
	}
	if p.sent >= maxProbeChallenges {
		if now.Sub(p.lastSent) < probeRest {
			return
		}
		p.sent = 0 // a new round (p.lastSent was this address's last challenge)
	}
	p.sent++
	p.lastSent = now
	c.stats.pathChallenges++
	c.sendPathFrameLocked(now, addr, wire.FramePathChallenge, p.data)
}

// pingPrevLocked sends a PING to the path the connection moved from when
// nothing arrived on the current one for 1.5*KeepAlive (a live peer
// sends at least every KeepAlive), at most once per KeepAlive. An
// attacker that relayed the peers' packets through its own address can
// become the path of both ends (RFC 9000 §9.3.3); when it stops, each
// end sends into the void and hears nothing. Our PING reaches the peer
// from our own address, which for a peer the attacker moved too is a new
// one: a non-probing packet there draws its challenge, it moves back once
// we answer, and its packets, now from its own address, bring us back
// too. The old address was validated before, so this sends nothing to an
// address that never answered, and it costs one small packet per
// KeepAlive while the connection hears nothing for that long.
func (c *Conn) pingPrevLocked(now time.Time) {
	if !c.prevAddr.IsValid() || c.prevAddr == c.raddr ||
		now.Sub(c.lastRecv) < c.cfg.KeepAlive*3/2 || now.Sub(c.prevPinged) < c.cfg.KeepAlive {
		return
	}
	c.prevPinged = now
	c.sendPathFrameLocked(now, c.prevAddr, wire.FramePing, [wire.PathDataLen]byte{})
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sendPathFrameLocked sends a packet holding one PATH_CHALLENGE or
// PATH_RESPONSE frame (or, for pingPrevLocked, a PING) to addr, which
// need not be the connection's address. The packet is not ack-eliciting for our loss recovery (nothing
// is resent: a probe is repeated by probeLocked, a response by the peer's
// next challenge).
func (c *Conn) sendPathFrameLocked(now time.Time, addr netip.AddrPort, t wire.FrameType, data [wire.PathDataLen]byte) {
	buf := c.ep.out.get()
	if buf == nil {
		return // the peer's next challenge, or our next probe, retries
	}
	p := buf[wire.HeaderLen:wire.HeaderLen]
	switch t {
	case wire.FramePathChallenge:
		p = wire.AppendPathChallenge(p, data)
	case wire.FramePing:
		p = wire.AppendPing(p)
	default:
		p = wire.AppendPathResponse(p, data)
	}
	pkt, pn, err := c.sealer.Seal(buf, c.remoteCID, p)
	if err != nil {
		c.ep.out.put(buf)
		return
	}
	c.push(pkt, addr)
	_ = c.sent.Sent(pn, now, len(pkt), false, nil)
	c.stats.packetsOut++
	c.stats.bytesOut += uint64(len(pkt))
	c.rateCur.packetsOut++
	c.rateCur.bytesOut += uint64(len(pkt))
}

var errStopFrames = errors.New("netcode: stop")

func (c *Conn) refuseOr(err error) error {
	if errors.Is(err, delivery.ErrBufferFull) {
		c.rxRefused = true
		return nil
	}
	if err == nil {
		c.rxData = true
	}
	return err
}

func (c *Conn) onAcked(r delivery.Ref) {
	if r == keysReadyRef {
		return
	}
	c.sender.OnAcked(r)
}

func (c *Conn) onLost(r delivery.Ref) {
	if r == keysReadyRef {
		// Once the peer's own packets authenticate, it has keys, and any
		// packet of ours (an ACK of its KEYS_READY, at least) confirms ours.
		if !c.isReady {
			c.keysReady = true
		}
		return
	}
	c.stats.resends++
	c.sender.OnLost(r)
}

func (c *Conn) noteAckResult(now time.Time, res ackhandler.AckResult) {
	for range res.AckedPackets {
		c.lossEWMA += (0 - c.lossEWMA) / 64
	}
	for range res.LostPackets {
		c.lossEWMA += (1 - c.lossEWMA) / 64
	}
	c.stats.lostPackets += uint64(res.LostPackets)
	if res.AckedBytes > 0 {
		c.cc.OnAcked(now, res.AckedBytes, &c.rtt)
	}
	if res.LostPackets > 0 && c.excuseLocalDrops(res.LostPackets) < res.LostPackets {
		c.cc.OnLoss(now, &c.rtt)
	}
}

// push hands a sealed packet to the endpoint's outbound queue.
func (c *Conn) push(pkt []byte, to netip.AddrPort) {
	c.ep.out.push(pkt, to, c)
	c.sealed++
}

// excuseLocalDrops matches up to lost packets declared lost with packets
// the local socket refused (Endpoint.writePackets) and returns how many it
// matched: those were never on the network, so they say nothing about
// congestion (issue 13 item 4). They are resent like any lost packet.
func (c *Conn) excuseLocalDrops(lost int) int {
	d := c.localDrops.Load()
	if d <= 0 {
		return 0
	}
	n := min(d, int64(lost))
	c.localDrops.Add(-n) // only the connection (under c.mu) subtracts
	return int(n)
}

// sendLocked writes as many packets as there is reason and room for.
func (c *Conn) sendLocked(now time.Time) {
	maxPayload := c.cfg.MaxDatagramSize - wire.HeaderLen - wire.TagLen
	var buf []byte // from the outbound queue; returned if not used
	defer func() {
		if buf != nil {
			c.ep.out.put(buf)
		}
	}()
	for range maxPacketsPerFlush {
		canData := c.sender.HasData() && !c.sent.Full() &&
			c.cc.CanSend(now, c.sent.BytesInFlight(), c.cfg.MaxDatagramSize)
		d := c.received.AckDeadline()
		ackDue := !d.IsZero() && !d.After(now)
		if !canData && !ackDue && !c.keysReady && !c.pingOwed {
			break
		}
		if buf == nil {
			if buf = c.ep.out.get(); buf == nil {
				c.waitRoom = true
				c.ep.out.block(c)
				break
			}
		}
		p := buf[wire.HeaderLen:wire.HeaderLen]
		refs := c.refs[:0]
		ackEliciting := false
		hasAck := c.received.FillAck(now, &c.ackFrame)
		if hasAck {
			p = wire.AppendAck(p, &c.ackFrame)
		}
		if c.keysReady {
			p = wire.AppendKeysReady(p, c.params)
			refs = append(refs, keysReadyRef)
			c.keysReady = false
			ackEliciting = true
		}
		if canData {
			before := len(p)
			p, refs = c.sender.AppendFrames(p, maxPayload, now, refs)
			if len(p) > before {
				ackEliciting = true
			} else if !ackEliciting && !ackDue && !c.pingOwed {
				break // windows allow nothing more
			}
		}
		if c.pingOwed && !ackEliciting {
			p = wire.AppendPing(p)
			ackEliciting = true
		}
		c.pingOwed = false
		if len(p) == 0 {
			break
		}
		pkt, pn, err := c.sealer.Seal(buf, c.remoteCID, p)
		if err != nil {
			c.closeLocked(now, &CloseError{Code: CodeInternal, Reason: err.Error()}, false)
			return
		}
		c.push(pkt, c.raddr)
		buf = nil
		if hasAck {
			c.received.OnAckSent()
		}
		if err := c.sent.Sent(pn, now, len(pkt), ackEliciting, refs); err != nil {
			// Full() was checked for data; control packets may still find
			// the history full: the refs it carried are resent later.
			for _, r := range refs {
				c.onLost(r)
			}
		}
		c.refs = refs[:0]
		if ackEliciting {
			c.cc.OnSent(now, len(pkt))
			c.lastSent = now
		}
		c.stats.packetsOut++
		c.stats.bytesOut += uint64(len(pkt))
		c.rotateRates(now)
		c.rateCur.packetsOut++
		c.rateCur.bytesOut += uint64(len(pkt))
	}
	if !c.sender.HasData() {
		c.flushAt = time.Time{}
	}
}

func (c *Conn) onTimer() {
	c.onTimerLocked()
	c.ep.flushOut()
}

func (c *Conn) onTimerLocked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.timerFires++
	c.timerAt = time.Time{} // fired: armLocked below sets it again
	if c.closeErr != nil {
		return
	}
	now := time.Now()
	if now.Sub(c.lastRecv) >= c.cfg.IdleTimeout {
		c.closeLocked(now, &CloseError{Code: CodeTimeout,
			Reason: fmt.Sprintf("no packet from peer for %v", c.cfg.IdleTimeout)}, false)
		return
	}
	if d := c.sent.NextDeadline(&c.rtt, maxAckDelay); !d.IsZero() && !d.After(now) {
		if lost := c.sent.OnTimeout(now, &c.rtt, maxAckDelay, c.onLostFn); lost > 0 {
			c.stats.lostPackets += uint64(lost)
			if c.excuseLocalDrops(lost) < lost {
				c.cc.OnLoss(now, &c.rtt)
			}
		}
	}
	if now.Sub(c.lastSent) >= c.cfg.KeepAlive {
		c.pingOwed = true
	}
	c.pingPrevLocked(now)
	c.receiver.Expire(now)
	if now.Sub(c.trimmedAt) >= trimInterval {
		c.trimmedAt = now
		c.sender.Trim()
		c.receiver.Trim()
		c.ep.out.trim(now)
	}
	if !c.flushAt.IsZero() && !c.flushAt.After(now) {
		c.flushAt = time.Time{}
	}
	c.sendLocked(now)
	c.armLocked(now)
}

// armLocked sets the timer to the earliest thing the connection waits for.
func (c *Conn) armLocked(now time.Time) {
	if c.timer == nil || c.closeErr != nil {
		return
	}
	next := c.lastRecv.Add(c.cfg.IdleTimeout)
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if c.waitRoom {
		// Waiting for room in the outbound queue: unblock rearms.
		earlier(now.Add(time.Second))
		c.setTimerLocked(now, next)
		return
	}
	earlier(c.lastSent.Add(c.cfg.KeepAlive))
	if c.prevAddr.IsValid() && c.prevAddr != c.raddr {
		earlier(maxTime(c.lastRecv.Add(c.cfg.KeepAlive*3/2), c.prevPinged.Add(c.cfg.KeepAlive)))
	}
	earlier(c.sent.NextDeadline(&c.rtt, maxAckDelay))
	earlier(c.received.AckDeadline())
	if c.sender.HasData() {
		earlier(c.flushAt)
		if c.flushAt.IsZero() && !c.cc.CanSend(now, c.sent.BytesInFlight(), c.cfg.MaxDatagramSize) &&
			c.sent.BytesInFlight()+c.cfg.MaxDatagramSize <= c.cc.InFlightCap() {
			// Flushed, but held back by the pacing budget: wake when it
			// refills. Held back by the in-flight cap instead, only an
			// acknowledgement or the loss timer (armed above) can free
			// room: polling would spin.
			earlier(c.cc.NextSendTime(now))
		}
	}
	earlier(now.Add(time.Second)) // fragment expiry and rate windows
	c.setTimerLocked(now, next)
}

// setTimerLocked makes the timer fire at next, or earlier. In a busy
// exchange (armLocked called again within armBusyGap) a deadline later
// than the one the timer is set for keeps the timer as it is, for up to
// timerSlack after the timer was last set: every packet of a fast
// ping-pong moves the loss and ack deadlines forward by microseconds, and
// resetting a runtime timer for each woke the scheduler's network poller
// on the round trip's critical path. A timer that fires early re-arms
// (onTimer). A deadline earlier than the timer's always resets it, and so
// does any deadline while the timer is due within timerSlack (a paced
// bulk sender, whose timer wakes it for the next send, would otherwise
// wake early and often); a connection at a game's pace (packets
// milliseconds apart) resets it as before, so its timer does not fire
// early.
func (c *Conn) setTimerLocked(now, next time.Time) {
	busy := now.Sub(c.lastArm) < armBusyGap
	c.lastArm = now
	if at := c.timerAt; !at.IsZero() && !next.Before(at) && busy && now.Sub(c.timerSetAt) < timerSlack && at.Sub(now) >= timerSlack {
		return
	}
	c.timerSetAt = now
	c.timerAt = next
	c.stats.timerResets++
	c.timer.Reset(max(next.Sub(now), 0))
}

func (c *Conn) rotateRates(now time.Time) {
	if el := now.Sub(c.rateStart); el >= time.Second {
		if el >= 2*time.Second {
			c.rateLast = rateWindow{}
		} else {
			c.rateLast = c.rateCur
		}
		c.rateCur = rateWindow{}
		c.rateStart = now
	}
}
