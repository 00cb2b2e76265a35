package delivery

import (
	"fmt"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// inMsg is a received message: whole (buf holds it), or a fragment set being
// reassembled or complete (parts hold the fragments in arrival order).
type inMsg struct {
	ch  uint8
	seq uint64
	buf []byte // whole message (pooled), nil for a fragment set

	frag    bool
	count   uint32   // fragments
	got     uint32   // distinct fragments stored
	size    int      // bytes of every fragment but the last; 0 until one arrives
	lastLen int      // bytes of the last fragment; 0 until it arrives
	have    []uint64 // bitset of stored fragment indexes
	parts   []part
	started time.Time // first fragment's arrival (unreliable expiry)

	cost int // bytes charged against RecvBufferBytes
}

// part is one stored fragment.
type part struct {
	idx uint32
	buf []byte // pooled
}

func (m *inMsg) complete() bool { return !m.frag || m.got == m.count }

// total returns the message length of a complete set.
func (m *inMsg) total() int { return int(m.count-1)*m.size + m.lastLen }

func (m *inMsg) hasFrag(i uint32) bool { return m.have[i/64]&(1<<(i%64)) != 0 }

// checkFragment validates fragment f against the limits and against what
// set m (nil for a new set) already knows, and returns an error wrapping
// ErrProtocol if a correct sender could not have sent it. It reads only
// values the parser bounded (Count <= wire.MaxFragmentCount, Index <
// Count) and computes totals in uint64, so nothing overflows.
func (r *Receiver) checkFragment(m *inMsg, f *wire.FragmentFrame) error {
	n := uint64(len(f.Data))
	cnt := uint64(f.Count)
	maxMsg := uint64(r.cfg.MaxMessageSize)
	if n == 0 {
		return fmt.Errorf("%w: channel %d seq %d: empty fragment %d", ErrProtocol, f.Channel, f.Seq, f.Index)
	}
	if cnt > uint64(r.cfg.maxCount) {
		return fmt.Errorf("%w: channel %d seq %d: %d fragments, at most %d for MaxMessageSize %d",
			ErrProtocol, f.Channel, f.Seq, cnt, r.cfg.maxCount, maxMsg)
	}
	var size, last uint64
	if m != nil {
		if m.count != f.Count {
			return fmt.Errorf("%w: channel %d seq %d: fragment count %d, earlier fragments said %d",
				ErrProtocol, f.Channel, f.Seq, f.Count, m.count)
		}
		size, last = uint64(m.size), uint64(m.lastLen)
	}
	if uint64(f.Index) == cnt-1 {
		last = n
	} else {
		if n < MinFragmentSize {
			return fmt.Errorf("%w: channel %d seq %d: fragment %d has %d bytes, below %d",
				ErrProtocol, f.Channel, f.Seq, f.Index, n, MinFragmentSize)
		}
		if size != 0 && n != size {
			return fmt.Errorf("%w: channel %d seq %d: fragment %d has %d bytes, earlier fragments %d",
				ErrProtocol, f.Channel, f.Seq, f.Index, n, size)
		}
		size = n
	}
	var least uint64 // smallest total consistent with what is known
	switch {
	case size != 0 && last > size:
		return fmt.Errorf("%w: channel %d seq %d: last fragment of %d bytes exceeds fragment size %d",
			ErrProtocol, f.Channel, f.Seq, last, size)
	case size != 0:
		least = (cnt-1)*size + max(last, 1)
	default:
		least = (cnt-1)*MinFragmentSize + last
	}
	if least > maxMsg {
		return fmt.Errorf("%w: channel %d seq %d: %d fragments make at least %d bytes, above MaxMessageSize %d",
			ErrProtocol, f.Channel, f.Seq, cnt, least, maxMsg)
	}
	return nil
}

// newSet returns an empty fragment set for f (already checked), its bitset
// sized for f.Count. The caller has charged setCharge(f.Count).
func (r *Receiver) newSet(f *wire.FragmentFrame, now time.Time) *inMsg {
	m := r.newMsg()
	m.ch, m.seq, m.frag, m.count, m.started = f.Channel, f.Seq, true, f.Count, now
	words := (int(f.Count) + 63) / 64
	if cap(m.have) < words {
		m.have = make([]uint64, words)
	} else {
		m.have = m.have[:words]
		clear(m.have)
	}
	m.cost = setCharge(int(f.Count))
	return m
}

// addFragment stores f (checked, not a duplicate, charged by the caller)
// in m.
func (r *Receiver) addFragment(m *inMsg, f *wire.FragmentFrame, cost int) {
	b := r.pool.get(len(f.Data))
	copy(b, f.Data)
	m.parts = append(m.parts, part{idx: f.Index, buf: b})
	m.have[f.Index/64] |= 1 << (f.Index % 64)
	m.got++
	if f.Index == f.Count-1 {
		m.lastLen = len(f.Data)
	} else {
		m.size = len(f.Data)
	}
	m.cost += cost
}

// assemble copies complete set m into dst (grown if needed) and returns it.
func (m *inMsg) assemble(dst []byte) []byte {
	n := m.total()
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	for _, p := range m.parts {
		copy(dst[int(p.idx)*m.size:], p.buf)
	}
	return dst
}
