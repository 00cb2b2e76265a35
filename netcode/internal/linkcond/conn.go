package linkcond

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDatagramTooLarge is wrapped by the error of a write over
// MaxDatagramSize.
var ErrDatagramTooLarge = errors.New("linkcond: datagram too large")

// Random stream numbers of the two directions, so that each direction's
// choices depend only on the seed and on its own traffic.
const (
	sendStream    = 0x73656e64 // "send"
	receiveStream = 0x72656376 // "recv"
)

// Conn is a PacketConn that conditions the traffic of the PacketConn it
// wraps. It runs two goroutines, a scheduler and a reader, both started by
// Wrap in the caller's synctest bubble (if any) and both stopped and waited
// for by Close. It blocks only on channels and timers. All methods are safe
// for concurrent use.
type Conn struct {
	pc   PacketConn
	base time.Time // due times are nanoseconds since base

	tx, rx direction

	cfgMu sync.Mutex
	cfg   Config

	wake     chan struct{} // capacity 1: the scheduler must look at the delay lines
	readable chan struct{} // capacity 1: rx.ready or rx.err has something
	done     chan struct{} // closed by Close

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Wrap returns a Conn that applies cfg to the traffic of pc and takes
// ownership of pc: Close closes it, and nothing else may read from it. It
// returns an error wrapping ErrInvalidConfig if cfg is invalid. Wrap starts
// two goroutines (see Conn) and does not block.
func Wrap(pc PacketConn, cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	c := &Conn{
		pc:       pc,
		base:     time.Now(),
		cfg:      cfg,
		wake:     make(chan struct{}, 1),
		readable: make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	c.tx.cfg = cfg.Send.withDefaults()
	c.tx.model = newModel(seed, sendStream)
	c.rx.cfg = cfg.Receive.withDefaults()
	c.rx.model = newModel(seed, receiveStream)
	c.wg.Go(c.schedule)
	c.wg.Go(c.readLoop)
	return c, nil
}

// SetConfig replaces the configuration; datagrams offered afterwards follow
// it, those already held keep their due times. Seed is ignored: the random
// streams carry on. An invalid cfg is rejected with an error wrapping
// ErrInvalidConfig and the old configuration stays. SetConfig does not block
// for long and is safe for concurrent use.
func (c *Conn) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	c.tx.mu.Lock()
	c.tx.cfg = cfg.Send.withDefaults()
	c.tx.mu.Unlock()
	c.rx.mu.Lock()
	c.rx.cfg = cfg.Receive.withDefaults()
	c.rx.mu.Unlock()
	c.cfg = cfg
	return nil
}

// Config returns the configuration in force, as given to Wrap or SetConfig
// (without defaults filled in). It is safe for concurrent use.
func (c *Conn) Config() Config {
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	return c.cfg
}

// Stats returns the counters of both directions. It does not block for long
// and is safe for concurrent use.
func (c *Conn) Stats() Stats {
	var s Stats
	c.tx.mu.Lock()
	s.Send = c.tx.snapshot()
	c.tx.mu.Unlock()
	c.rx.mu.Lock()
	s.Receive = c.rx.snapshot()
	c.rx.mu.Unlock()
	return s
}

// LocalAddr returns the wrapped conn's local address. It is safe for
// concurrent use.
func (c *Conn) LocalAddr() net.Addr { return c.pc.LocalAddr() }

// Close stops and waits for both goroutines, closes the wrapped conn,
// discards every held datagram and unblocks pending ReadFromUDPAddrPort calls,
// which return an error matching net.ErrClosed. It returns the wrapped conn's
// Close error. It is idempotent: later calls return nil. It blocks only until
// the goroutines have stopped, and is safe for concurrent use.
func (c *Conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.closed.Store(true)
		close(c.done)
		if err := c.pc.Close(); err != nil {
			c.closeErr = fmt.Errorf("linkcond: close: %w", err)
		}
		c.wg.Wait()
		for _, d := range []*direction{&c.tx, &c.rx} {
			d.mu.Lock()
			d.discard()
			d.mu.Unlock()
		}
	})
	if !first {
		return nil
	}
	return c.closeErr
}

// now returns the nanoseconds since c.base on the (possibly fake) clock.
func (c *Conn) now() int64 { return int64(time.Since(c.base)) }

// signal does a non-blocking send on a capacity-1 channel.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *Conn) closedErr(op string) error {
	return fmt.Errorf("linkcond: %s: %w", op, net.ErrClosed)
}
