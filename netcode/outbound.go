package netcode

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// maxOutPending bounds the sealed packets an endpoint holds for the socket
// (issue 13 item 3). A connection that finds the queue full stops sealing
// and waits in the queue's blocked list; the goroutine that drains the
// queue seals its packets once there is room again (no polling: a
// millisecond retry timer per connection made an overloaded 1,024-client
// server spin on its timers).
var maxOutPending = 4096 // a variable for tests

// outPacket is one sealed datagram waiting for the socket.
type outPacket struct {
	buf []byte // the datagram; a buffer of the endpoint's pool
	to  netip.AddrPort
	c   *Conn // the connection that sealed it (nil: endpoint traffic)
}

// outQueue is an endpoint's outbound batch: connections seal packets into
// it under their own lock, and whoever drains it writes them to the socket
// outside every connection's lock, in batches (sendmmsg where available).
// One goroutine drains at a time, so each connection's packets leave in the
// order it sealed them.
type outQueue struct {
	_        [64]byte // off the reader's cache lines (Endpoint.stats)
	mu       sync.Mutex
	pending  []outPacket
	spare    []outPacket // the other half of the double buffer
	free     [][]byte
	freeLow  int       // the fewest free buffers since the last trim (trim.go)
	trimmed  time.Time // the last trim
	reserved int       // buffers handed out and not yet returned
	writing  bool      // a goroutine is draining
	blocked  []*Conn   // connections that found the queue full (Conn.outBlocked)
	// unblocking: the drainer's scratch (only the drainer uses it).
	unblocking []*Conn
	bufSize    int
	kick       chan struct{} // capacity 1: wakes the writer goroutine

	// EndpointStats' write counters, apart from the reader's.
	writeCalls, datagramsOut, localDrops atomic.Uint64
	_                                    [64]byte
}

func (q *outQueue) init(bufSize int) {
	q.bufSize = bufSize
	q.kick = make(chan struct{}, 1)
}

// get returns an empty buffer of capacity bufSize, or nil when
// maxOutPending buffers are out (sealed and not yet written).
func (q *outQueue) get() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reserved >= maxOutPending {
		return nil
	}
	q.reserved++
	if k := len(q.free); k > 0 {
		b := q.free[k-1]
		q.free = q.free[:k-1]
		q.freeLow = min(q.freeLow, k-1)
		return b[:0]
	}
	return make([]byte, 0, q.bufSize)
}

// put returns a buffer that get handed out and that was not pushed.
func (q *outQueue) put(b []byte) {
	q.mu.Lock()
	q.reserved--
	q.free = append(q.free, b[:0])
	q.mu.Unlock()
}

// block puts c in the blocked list (once). Its caller holds c.mu.
func (q *outQueue) block(c *Conn) {
	q.mu.Lock()
	if !c.outBlocked {
		c.outBlocked = true
		q.blocked = append(q.blocked, c)
	}
	q.mu.Unlock()
}

// push queues a sealed packet; pkt is a prefix of a buffer from get.
func (q *outQueue) push(pkt []byte, to netip.AddrPort, c *Conn) {
	q.mu.Lock()
	q.pending = append(q.pending, outPacket{buf: pkt, to: to, c: c})
	q.mu.Unlock()
}

// enqueue copies b into a pooled buffer and queues it (endpoint traffic:
// cookie replies, HANDSHAKE_LOST). It reports false when the queue is full.
func (q *outQueue) enqueue(b []byte, to netip.AddrPort) bool {
	buf := q.get()
	if buf == nil {
		return false
	}
	q.push(append(buf, b...), to, nil)
	return true
}

// flushOut writes what the connections sealed, unless another goroutine is
// already at it (that one writes these packets too). Connections call it
// after releasing their lock; it may block on the socket, never on a
// connection. It writes what was queued when it started and leaves what
// others queue meanwhile to the writer goroutine, so that a caller (a
// server's tick) is not kept writing everyone's acknowledgements under
// load. The reader goroutine does not call it (kickWriter).
func (e *Endpoint) flushOut() { e.drain(false) }

// drain is flushOut; all (the writer goroutine) drains until the queue is
// empty.
func (e *Endpoint) drain(all bool) {
	q := &e.out
	q.mu.Lock()
	if q.writing || len(q.pending) == 0 {
		q.mu.Unlock()
		return
	}
	q.writing = true
	for len(q.pending) > 0 {
		batch := q.pending
		q.pending = q.spare[:0]
		q.mu.Unlock()
		e.writePackets(batch)
		q.mu.Lock()
		for i := range batch {
			q.free = append(q.free, batch[i].buf[:0])
			batch[i] = outPacket{}
		}
		q.reserved -= len(batch)
		q.spare = batch[:0]
		if room := maxOutPending - q.reserved; len(q.blocked) > 0 && room > 0 {
			// Room again: blocked connections, oldest first and no more
			// than there is room for, seal what they hold.
			n := min(room, len(q.blocked))
			q.unblocking = append(q.unblocking[:0], q.blocked[:n]...)
			q.blocked = append(q.blocked[:0], q.blocked[n:]...)
			q.mu.Unlock()
			for _, c := range q.unblocking {
				c.unblock()
			}
			clear(q.unblocking)
			q.mu.Lock()
		}
		if !all && len(q.pending) > 0 {
			q.writing = false
			q.mu.Unlock()
			select {
			case q.kick <- struct{}{}:
			default:
			}
			return
		}
	}
	q.writing = false
	q.mu.Unlock()
}

// drainBeforeClose writes what is queued (the connections' CLOSE frames)
// and waits, up to a second, until no other goroutine is still writing,
// so that the socket is not closed under them.
func (e *Endpoint) drainBeforeClose() {
	q := &e.out
	deadline := time.Now().Add(time.Second)
	for {
		e.drain(true)
		q.mu.Lock()
		idle := !q.writing && len(q.pending) == 0
		q.mu.Unlock()
		if idle || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// kickWriter hands what is queued to the writer goroutine: the reader
// goroutine never writes itself, so that it never waits on the socket.
func (e *Endpoint) kickWriter() {
	q := &e.out
	q.mu.Lock()
	idle := !q.writing && len(q.pending) > 0
	q.mu.Unlock()
	if idle {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
}

// writeLoop is the writer goroutine: it drains what the reader goroutine
// queued (acknowledgements, packets released by acknowledgements, cookie
// replies).
func (e *Endpoint) writeLoop() {
	defer e.wg.Done()
	for {
		select {
		case <-e.out.kick:
			e.drain(true)
		case <-e.ctx.Done():
			return
		}
	}
}

// writePackets writes a batch to the socket: in sendmmsg batches when the
// socket supports them, else one WriteToUDPAddrPort each. A packet the
// socket refuses (a full local buffer, ENOBUFS) is a local drop, charged to
// its connection so that its later loss is not taken for congestion. A
// closed socket ends the connections whose packets it refused.
func (e *Endpoint) writePackets(batch []outPacket) {
	for len(batch) > 0 {
		n, err := e.io.writeBatch(batch)
		q := &e.out
		q.writeCalls.Add(1)
		q.datagramsOut.Add(uint64(n))
		batch = batch[n:]
		if err == nil {
			continue
		}
		if len(batch) == 0 {
			return
		}
		if errors.Is(err, net.ErrClosed) {
			var last *Conn
			for _, p := range batch {
				if p.c != nil && p.c != last {
					last = p.c
					p.c.closeWith(&CloseError{Code: CodeEndpointClosed, Reason: "socket closed"}, false)
				}
			}
			return
		}
		if c := batch[0].c; c != nil {
			c.localDrops.Add(1)
		}
		q.localDrops.Add(1)
		batch = batch[1:]
	}
}

// FlushAll flushes every connection of the endpoint, as Conn.Flush does
// for one, then writes all their packets together: a server's broadcast to
// N clients then costs a few sendmmsg calls instead of N sendto (Linux;
// elsewhere one write per datagram). It never blocks on a connection, and
// is safe for concurrent use.
func (e *Endpoint) FlushAll() {
	e.flushMu.Lock()
	e.mu.Lock()
	conns := e.flushConns[:0]
	for _, c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		c.seal()
	}
	clear(conns)
	e.flushConns = conns[:0]
	e.flushMu.Unlock()
	e.flushOut()
}
