package webrtc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pumpnet/pumpnet/netcode"

	"github.com/pion/webrtc/v4"
)

// Control messages, on the control channel (stream controlID).
const (
	ctrlClose = 1 // code (uvarint), reason
	ctrlPing  = 2 // 8-byte token
	ctrlPong  = 3 // the ping's token
)

// closeGrace bounds how long Close waits for its close message to leave
// before tearing the peer connection down.
const closeGrace = 250 * time.Millisecond

// livePeerConnections counts peer connections made and not yet closed
// (both sides), for tests that check that nothing leaks.
var livePeerConnections atomic.Int64

// Message is one message received on a connection.
type Message = netcode.Message

// Conn is one WebRTC connection: a peer connection with one negotiated
// data channel per configured channel, plus a control channel. All methods
// are safe for concurrent use. Send, Flush, Receive and Stats never block
// (Stats may take a moment to collect pion's statistics); Shutdown waits
// for sent data to be acknowledged.
type Conn struct {
	cfg    *config
	pc     *webrtc.PeerConnection
	dcs    []*webrtc.DataChannel
	ctrl   *webrtc.DataChannel
	server bool

	opened   chan struct{} // closed when every channel is open
	openLeft atomic.Int32
	done     chan struct{}
	wake     chan struct{} // capacity 1
	space    chan struct{} // capacity 1: Receive freed queue space
	onEnd    func()        // set before the handshake; runs once at teardown
	tornDown chan struct{} // closed when the peer connection is closed
	lastRecv atomic.Int64  // unix nanoseconds of the last message in

	sendMu  sync.Mutex // sendBuf, sendSeq
	sendBuf []byte
	sendSeq []uint32

	mu         sync.Mutex
	closeErr   *CloseError
	peer       Fingerprint
	raddr      netip.AddrPort
	queue      []Message
	queueHead  int
	queueBytes int
	recvSeq    []uint32
	recvSeqOK  []bool
	timer      *time.Timer
	stats      counters
	statsCache Stats
	statsAt    time.Time
}

type counters struct {
	msgsIn, msgsOut, payloadIn, payloadOut uint64
	dropSequenced, dropQueueFull           uint64
	rtt, minRTT, jitter                    time.Duration
	loss                                   float64
}

// newConn makes a peer connection with its channels. The handlers are
// registered before any description is set, so no message is missed.
func newConn(api *webrtc.API, cfg *config, cert *webrtc.Certificate, server bool) (*Conn, error) {
	pcfg := webrtc.Configuration{}
	if cert != nil {
		pcfg.Certificates = []webrtc.Certificate{*cert}
	}
	if !server { // an ICE-lite server has its own addresses only
		for _, s := range cfg.ICEServers {
			pcfg.ICEServers = append(pcfg.ICEServers, webrtc.ICEServer{
				URLs: s.URLs, Username: s.Username, Credential: s.Credential,
			})
		}
	}
	pc, err := api.NewPeerConnection(pcfg)
	if err != nil {
		return nil, fmt.Errorf("webrtc: new peer connection: %w", err)
	}
	livePeerConnections.Add(1)
	c := &Conn{
		cfg:       cfg,
		pc:        pc,
		server:    server,
		opened:    make(chan struct{}),
		done:      make(chan struct{}),
		wake:      make(chan struct{}, 1),
		space:     make(chan struct{}, 1),
		tornDown:  make(chan struct{}),
		sendSeq:   make([]uint32, len(cfg.channels)),
		recvSeq:   make([]uint32, len(cfg.channels)),
		recvSeqOK: make([]bool, len(cfg.channels)),
	}
	c.openLeft.Store(int32(len(cfg.channels) + 1))
	c.lastRecv.Store(time.Now().UnixNano())
	negotiated := true
	for i, m := range cfg.channels {
		id := uint16(i)
		init := &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id}
		ordered := m == ReliableOrdered
		init.Ordered = &ordered
		if !m.reliable() {
			zero := uint16(0)
			init.MaxRetransmits = &zero
		}
		dc, err := pc.CreateDataChannel(fmt.Sprintf("pumpnet-%d", i), init)
		if err != nil {
			c.teardown()
			return nil, fmt.Errorf("webrtc: data channel %d: %w", i, err)
		}
		ch := uint8(i)
		dc.OnOpen(c.channelOpened)
		dc.OnClose(c.channelClosed)
		dc.OnMessage(func(msg webrtc.DataChannelMessage) { c.onData(ch, msg.Data) })
		c.dcs = append(c.dcs, dc)
	}
	id := uint16(controlID)
	ordered := true
	ctrl, err := pc.CreateDataChannel("pumpnet-control", &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id, Ordered: &ordered})
	if err != nil {
		c.teardown()
		return nil, fmt.Errorf("webrtc: control channel: %w", err)
	}
	ctrl.OnOpen(c.channelOpened)
	ctrl.OnClose(c.channelClosed)
	ctrl.OnMessage(func(msg webrtc.DataChannelMessage) { c.onControl(msg.Data) })
	c.ctrl = ctrl
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateFailed:
			c.closeWith(&CloseError{Code: CodeTimeout, Reason: "ICE failed: no answer from the peer"}, false)
		case webrtc.PeerConnectionStateClosed:
			c.closeWith(&CloseError{Code: CodeNormal, Reason: "peer connection closed", Remote: true}, false)
		}
	})
	return c, nil
}

func (c *Conn) channelOpened() {
	if c.openLeft.Add(-1) == 0 {
		close(c.opened)
	}
}

func (c *Conn) channelClosed() {
	select {
	case <-c.opened:
		c.closeWith(&CloseError{Code: CodeNormal, Reason: "data channel closed by peer", Remote: true}, false)
	default:
	}
}

// established finishes a connection whose channels are all open: it learns
// the peer's identity and address and starts the keepalive timer.
func (c *Conn) established() error {
	var der []byte
	var raddr netip.AddrPort
	if sctp := c.pc.SCTP(); sctp != nil {
		if dtls := sctp.Transport(); dtls != nil {
			der = dtls.GetRemoteCertificate()
			if ice := dtls.ICETransport(); ice != nil {
				if pair, err := ice.GetSelectedCandidatePair(); err == nil && pair != nil && pair.Remote != nil {
					if a, err := netip.ParseAddr(pair.Remote.Address); err == nil {
						raddr = netip.AddrPortFrom(a.Unmap(), pair.Remote.Port)
					}
				}
			}
		}
	}
	var fp Fingerprint
	if len(der) > 0 {
		var err error
		if fp, err = FingerprintOf(der); err != nil {
			return fmt.Errorf("%w: peer certificate: %w", ErrHandshake, err)
		}
	}
	now := time.Now()
	c.mu.Lock()
	c.peer = fp
	c.raddr = raddr
	if c.closeErr == nil {
		c.timer = time.AfterFunc(c.cfg.KeepAlive, c.onTimer)
	}
	c.mu.Unlock()
	c.lastRecv.Store(now.UnixNano())
	c.sendPing(now)
	return nil
}

// RemoteAddr returns the peer's address on the selected ICE candidate pair
// (zero if the platform does not tell it).
func (c *Conn) RemoteAddr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raddr
}

// PeerFingerprint returns the fingerprint of the peer's DTLS certificate's
// key (zero if the platform does not expose the certificate). A browser
// makes a new key for each RTCPeerConnection unless the page keeps one
// (RTCPeerConnection.generateCertificate stored in IndexedDB), so a
// browser's fingerprint names this connection, not a player.
func (c *Conn) PeerFingerprint() Fingerprint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peer
}

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
}

// Send queues data on a channel and returns at once: the data is copied
// into the channel's SCTP send buffer, which sends it without waiting for
// Flush. A channel holding Config.SendQueueBytes unacknowledged returns
// ErrQueueFull; after the connection ended the error matches
// net.ErrClosed.
func (c *Conn) Send(channel uint8, data []byte) error {
	if err := c.Err(); err != nil {
		return fmt.Errorf("webrtc: send: %w", err)
	}
	if int(channel) >= len(c.dcs) {
		return fmt.Errorf("%w: %d", ErrNoChannel, channel)
	}
	if len(data) > c.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, len(data), c.cfg.MaxMessageSize)
	}
	dc := c.dcs[channel]
	if q := dc.BufferedAmount(); q+uint64(len(data)) > uint64(c.cfg.SendQueueBytes) {
		return fmt.Errorf("%w (%d bytes queued)", ErrQueueFull, q)
	}
	var err error
	if c.cfg.channels[channel] == UnreliableSequenced {
		c.sendMu.Lock()
		c.sendSeq[channel]++
		c.sendBuf = binary.BigEndian.AppendUint32(c.sendBuf[:0], c.sendSeq[channel])
		c.sendBuf = append(c.sendBuf, data...)
		err = dc.Send(c.sendBuf)
		c.sendMu.Unlock()
	} else {
		err = dc.Send(data)
	}
	if err != nil {
		if cerr := c.Err(); cerr != nil {
			return fmt.Errorf("webrtc: send: %w", cerr)
		}
		return fmt.Errorf("webrtc: send: %w", err)
	}
	c.mu.Lock()
	c.stats.msgsOut++
	c.stats.payloadOut += uint64(len(data))
	c.mu.Unlock()
	return nil
}

// Flush does nothing: SCTP sends what Send queued at once, bundling small
// messages itself. It exists so that a Conn has netcode.Conn's method set.
func (c *Conn) Flush() {}

// Receive returns the next delivered message, if any. It never blocks. The
// message's Data is valid until the next Receive on this Conn. Messages
// delivered before the connection ended can still be received after.
func (c *Conn) Receive() (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queueHead == len(c.queue) {
		return Message{}, false
	}
	m := c.queue[c.queueHead]
	c.queue[c.queueHead] = Message{}
	c.queueHead++
	if c.queueHead == len(c.queue) {
		c.queue = c.queue[:0]
		c.queueHead = 0
	}
	c.queueBytes -= len(m.Data)
	select {
	case c.space <- struct{}{}:
	default:
	}
	return m, true
}

// onData runs on pion's goroutine for the channel (native) or on a
// goroutine of the JavaScript event (browser).
func (c *Conn) onData(ch uint8, data []byte) {
	now := time.Now()
	c.lastRecv.Store(now.UnixNano())
	mode := c.cfg.channels[ch]
	if mode == UnreliableSequenced {
		if len(data) < seqHeaderLen {
			c.closeWith(&CloseError{Code: CodeProtocolViolation, Reason: "sequenced message without sequence number"}, true)
			return
		}
	}
	for {
		c.mu.Lock()
		if c.closeErr != nil {
			c.mu.Unlock()
			return
		}
		size := len(data)
		if c.queueBytes+size <= c.cfg.ReceiveQueueBytes || c.queueBytes == 0 {
			break
		}
		if !mode.reliable() {
			c.stats.dropQueueFull++
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if !waitForSpace {
			c.closeWith(&CloseError{Code: CodeReceiveOverflow, Reason: "receive queue full"}, true)
			return
		}
		select {
		case <-c.space:
		case <-c.done:
			return
		}
	}
	// c.mu is held.
	if mode == UnreliableSequenced {
		seq := binary.BigEndian.Uint32(data)
		data = data[seqHeaderLen:]
		if c.recvSeqOK[ch] {
			gap := int32(seq - c.recvSeq[ch])
			if gap <= 0 {
				c.stats.dropSequenced++
				c.mu.Unlock()
				return
			}
			const alpha = 1.0 / 64
			for i := int32(1); i < gap && i < 64; i++ {
				c.stats.loss += alpha * (1 - c.stats.loss)
			}
			c.stats.loss -= alpha * c.stats.loss
		}
		c.recvSeq[ch], c.recvSeqOK[ch] = seq, true
	}
	c.queue = append(c.queue, Message{Channel: ch, Data: data})
	c.queueBytes += len(data)
	c.stats.msgsIn++
	c.stats.payloadIn += uint64(len(data))
	c.mu.Unlock()
	c.signal()
}

func (c *Conn) onControl(data []byte) {
	now := time.Now()
	c.lastRecv.Store(now.UnixNano())
	if len(data) == 0 {
		return
	}
	switch data[0] {
	case ctrlClose:
		code, n := binary.Uvarint(data[1:])
		if n <= 0 {
			code, n = uint64(CodeProtocolViolation), 0
		}
		reason := data[1+n:]
		if len(reason) > MaxReasonLen {
			reason = reason[:MaxReasonLen]
		}
		c.closeWith(&CloseError{Code: CloseCode(code), Reason: string(reason), Remote: true}, false)
	case ctrlPing:
		if len(data) == 9 {
			pong := [9]byte{ctrlPong}
			copy(pong[1:], data[1:])
			_ = c.ctrl.Send(pong[:])
		}
	case ctrlPong:
		if len(data) == 9 {
			sent := int64(binary.BigEndian.Uint64(data[1:]))
			sample := time.Duration(now.UnixNano() - sent)
			if sample < 0 || sample > time.Minute {
				return
			}
			c.mu.Lock()
			s := &c.stats
			if s.rtt == 0 {
				s.rtt, s.minRTT, s.jitter = sample, sample, sample/2
			} else {
				d := s.rtt - sample
				if d < 0 {
					d = -d
				}
				s.jitter = (3*s.jitter + d) / 4
				s.rtt = (7*s.rtt + sample) / 8
				s.minRTT = min(s.minRTT, sample)
			}
			c.mu.Unlock()
		}
	}
}

func (c *Conn) sendPing(now time.Time) {
	var ping [9]byte
	ping[0] = ctrlPing
	binary.BigEndian.PutUint64(ping[1:], uint64(now.UnixNano()))
	_ = c.ctrl.Send(ping[:])
}

func (c *Conn) onTimer() {
	now := time.Now()
	if now.Sub(time.Unix(0, c.lastRecv.Load())) > c.cfg.IdleTimeout {
		c.closeWith(&CloseError{Code: CodeTimeout, Reason: fmt.Sprintf("nothing from the peer for %v", c.cfg.IdleTimeout)}, true)
		return
	}
	c.sendPing(now)
	c.mu.Lock()
	if c.closeErr == nil {
		c.timer.Reset(c.cfg.KeepAlive)
	}
	c.mu.Unlock()
}

// Close ends the connection at once, telling the peer (best effort), and
// discards unsent data. Close is idempotent, does not wait for the peer
// connection's teardown, and returns nil.
func (c *Conn) Close() error {
	return c.CloseWithReason(CodeNormal, "")
}

// CloseWithReason is Close with a code and a reason (at most MaxReasonLen
// bytes) that reach the peer's Err, sent on the control channel before the
// peer connection closes.
func (c *Conn) CloseWithReason(code CloseCode, reason string) error {
	if len(reason) > MaxReasonLen {
		reason = reason[:MaxReasonLen]
	}
	c.closeWith(&CloseError{Code: code, Reason: reason}, true)
	return nil
}

// Shutdown waits until every channel's sent data was acknowledged by the
// peer's SCTP stack (in a browser: handed to it), then closes the
// connection. If ctx ends first, it closes anyway and returns ctx's error.
func (c *Conn) Shutdown(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.Err() != nil || c.idle() {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			c.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *Conn) idle() bool {
	for _, dc := range c.dcs {
		if dc.BufferedAmount() != 0 {
			return false
		}
	}
	return true
}

// closeWith ends the connection with err once; notify sends err to the
// peer first. The peer connection is torn down on another goroutine.
func (c *Conn) closeWith(err *CloseError, notify bool) {
	c.mu.Lock()
	if c.closeErr != nil {
		c.mu.Unlock()
		return
	}
	c.closeErr = err
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	close(c.done)
	c.signal()
	select {
	case <-c.opened:
	default:
		notify = false // nothing to tell it on
	}
	go func() {
		if notify {
			msg := binary.AppendUvarint([]byte{ctrlClose}, uint64(err.Code))
			msg = append(msg, err.Reason...)
			if c.ctrl.Send(msg) == nil {
				deadline := time.Now().Add(closeGrace)
				for c.ctrl.BufferedAmount() != 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}
		c.teardown()
	}()
}

// teardown closes the peer connection and runs onEnd, once.
func (c *Conn) teardown() {
	c.pc.Close()
	livePeerConnections.Add(-1)
	if c.onEnd != nil {
		c.onEnd()
	}
	close(c.tornDown)
}

// waitOpen waits until every channel is open, the connection ends, or ctx
// ends.
func (c *Conn) waitOpen(ctx context.Context) error {
	select {
	case <-c.opened:
		return nil
	case <-c.done:
		return c.Err()
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
		return ctx.Err()
	}
}
