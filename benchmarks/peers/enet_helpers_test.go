package peers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/pumpnet/pumpnet/benchmarks/internal/harness"
	"github.com/pumpnet/pumpnet/benchmarks/peers/enet"
	"github.com/pumpnet/pumpnet/netcode"
)

// enetQueueLimit is how many commands the ENet sender lets wait in its
// peer's outgoing queue before it services the host (1 ms timeouts) until
// the queue is shorter: ENet queues without bound otherwise.
const enetQueueLimit = 1024

// enetDial connects a client host to addr, servicing it until connected.
func enetDial(addr string, channels int) (*enet.Host, enet.Peer, error) {
	to, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, enet.Peer{}, err
	}
	h, err := enet.NewHost(netip.AddrPort{}, 1, channels)
	if err != nil {
		return nil, enet.Peer{}, err
	}
	p, err := h.Connect(to, channels)
	if err != nil {
		h.Destroy()
		return nil, enet.Peer{}, err
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		ev, err := h.Service(enetServiceMS, nil)
		if err != nil {
			h.Destroy()
			return nil, enet.Peer{}, err
		}
		if ev.Type == enet.EventConnect {
			return h, p, nil
		}
	}
	h.Destroy()
	return nil, enet.Peer{}, fmt.Errorf("enet: no connection to %s within a minute", addr)
}

// commands reads the benchmark's commands in the background, so that an
// ENet loop can keep servicing its host between them. The channel closes
// when stdin does.
func commands(hio *harness.HelperIO) <-chan string {
	c := make(chan string)
	go func() {
		defer close(c)
		for {
			cmd, err := hio.Next()
			if err != nil {
				return
			}
			c <- cmd
		}
	}()
	return c
}

// enetSender is harness.TputSender for ENet: it owns its host and
// services it (1 ms timeouts) whenever it is not sending, between rounds
// too. It reports its peer's declared loss (enet.LossTally: reliable
// commands whose ack timed out, over those sent) as the Stats of the
// other senders.
func enetSender(spec harness.Spec, hio *harness.HelperIO) error {
	h, peer, err := enetDial(spec.Addr, 1)
	if err != nil {
		return err
	}
	defer h.Destroy()
	msg := make([]byte, spec.Size)
	marker := []byte{0xff, 0}
	every := max(1, 4*1100/spec.Size)
	buf := make([]byte, 4096)
	var tally enet.LossTally // the sender's declared loss, over the session
	service := func(timeout uint32) error {
		for {
			ev, err := h.Service(timeout, buf)
			tally.Sample(peer)
			if err != nil {
				return err
			}
			if ev.Type == enet.EventDisconnect {
				return fmt.Errorf("enet: the receiver disconnected")
			}
			if ev.Type == enet.EventNone {
				return nil
			}
			timeout = 0
		}
	}
	cmds := commands(hio)
	hio.Reply(harness.Reply{Ready: true})
	for {
		var cmd string
		select {
		case c, ok := <-cmds:
			if !ok {
				return nil
			}
			cmd = c
		default:
			if err := service(enetServiceMS); err != nil {
				return err
			}
			continue
		}
		var n int
		if _, err := fmt.Sscanf(cmd, "go %d %d", &n, &marker[1]); err != nil {
			return fmt.Errorf("bad command %q", cmd)
		}
		var retries int64
		a0 := harness.HeapAllocs()
		for i := range n {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := peer.Send(0, msg, enet.Reliable); err != nil {
				return err
			}
			if (i+1)%every == 0 {
				if err := service(0); err != nil {
					return err
				}
				for peer.Queued() > enetQueueLimit {
					retries++
					if err := service(enetServiceMS); err != nil {
						return err
					}
				}
			}
		}
		allocs := harness.HeapAllocs() - a0
		for range 3 {
			if err := peer.Send(0, marker, enet.Reliable); err != nil {
				return err
			}
		}
		// Everything handed to the socket, as the other senders report.
		for peer.Queued() > 0 {
			if err := service(enetServiceMS); err != nil {
				return err
			}
		}
		hio.Reply(harness.Reply{Sent: int64(n), Allocs: allocs, Retries: retries,
			Stats: &netcode.Stats{PacketsOut: tally.Sent, LostPackets: tally.Lost}})
	}
}

// enetWaiter parks a goroutine in Go's netpoller until an ENet host's
// socket is readable, then services the host with 0 timeouts until it has
// no event left: ENet's "enet_host_service with a 0 timeout" loop, driven
// by readiness instead of a 1 ms poll, so that 1,024 client hosts are
// 1,024 parked goroutines rather than 1,024 threads blocked in C.
type enetWaiter struct {
	h  *enet.Host
	f  *os.File // a dup of the host's socket, registered with the netpoller
	rc syscall.RawConn

	drain func(uintptr) bool // w.read, bound once
	// One serviceUntil call's state, for read.
	buf  []byte
	on   func(enet.Event) bool
	done bool
	serr error
}

func newENetWaiter(h *enet.Host) (*enetWaiter, error) {
	fd, err := syscall.Dup(h.Fd())
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "enet")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &enetWaiter{h: h, f: f, rc: rc}
	w.drain = w.read
	return w, nil
}

// serviceUntil services the host, handing every event to on, until
// deadline, or until on returns true (then done is true). It does not
// allocate: the callback handed to the netpoller is made once.
func (w *enetWaiter) serviceUntil(deadline time.Time, buf []byte, on func(enet.Event) bool) (done bool, err error) {
	if err := w.f.SetReadDeadline(deadline); err != nil {
		return false, err
	}
	w.buf, w.on, w.done, w.serr = buf, on, false, nil
	err = w.rc.Read(w.drain)
	w.buf, w.on = nil, nil
	if w.serr != nil {
		return false, w.serr
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return false, err
	}
	return w.done, nil
}

// read is the netpoller's callback: it services the host with 0 timeouts
// until no event is left (false: wait until readable) or on is done.
func (w *enetWaiter) read(uintptr) bool {
	for {
		ev, err := w.h.Service(0, w.buf)
		if err != nil {
			w.serr = err
			return true
		}
		if ev.Type == enet.EventNone {
			return false
		}
		if w.on(ev) {
			w.done = true
			return true
		}
	}
}

func (w *enetWaiter) close() { w.f.Close() }
