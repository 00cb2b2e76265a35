package ackhandler

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// fuzzModel is the history as the test sees it: what was sent and which refs
// are still unresolved.
type fuzzModel struct {
	t           *testing.T
	pkts        map[uint64]*fuzzPkt // live packets only
	touched     []uint64            // packets with refs resolved since settle
	refOwner    map[int]uint64      // ref -> packet number
	resolved    map[int]string      // ref -> "acked" or "lost"
	hasSent     bool
	largestSent uint64
	frame       *wire.AckFrame // the frame being processed, nil in OnTimeout
}

type fuzzPkt struct {
	eliciting bool
	size      int
	refs      []int
}

func (m *fuzzModel) resolve(kind string) func(int) {
	return func(r int) {
		pn, ok := m.refOwner[r]
		if !ok {
			m.t.Fatalf("%s callback for unknown ref %d", kind, r)
		}
		if prev, done := m.resolved[r]; done {
			m.t.Fatalf("ref %d %s after being %s", r, kind, prev)
		}
		if _, live := m.pkts[pn]; !live {
			m.t.Fatalf("ref %d of packet %d %s, but the packet was already resolved", r, pn, kind)
		}
		if kind == "acked" && (m.frame == nil || !m.frame.Acks(pn)) {
			m.t.Fatalf("packet %d acked by a frame that does not acknowledge it", pn)
		}
		m.resolved[r] = kind
		m.touched = append(m.touched, pn)
	}
}

// settle forgets packets whose refs all resolved; a packet's refs resolve
// together or the check below fails.
func (m *fuzzModel) settle() {
	for _, pn := range m.touched {
		p, ok := m.pkts[pn]
		if !ok {
			continue
		}
		for _, r := range p.refs {
			if _, ok := m.resolved[r]; !ok {
				m.t.Fatalf("packet %d resolved ref by ref: %d still open", pn, r)
			}
		}
		delete(m.pkts, pn)
	}
	m.touched = m.touched[:0]
}

func (m *fuzzModel) check(h *SentHistory[int], frame *wire.AckFrame) {
	live, inFlight, eliciting := 0, 0, 0
	for pn, p := range m.pkts {
		live++
		if p.eliciting {
			inFlight += p.size
			eliciting++
		}
		if frame != nil && frame.Acks(pn) {
			m.t.Fatalf("packet %d acknowledged by the frame but still live", pn)
		}
		if la, ok := h.LargestAcked(); ok && pn < la && la-pn >= PacketThreshold {
			m.t.Fatalf("packet %d live with %d acknowledged", pn, la)
		}
	}
	var rtt RTT
	if eliciting > 0 && h.NextDeadline(&rtt, mad).IsZero() {
		m.t.Fatalf("%d ack-eliciting packets in flight and no deadline", eliciting)
	}
	if live == 0 && !h.NextDeadline(&rtt, mad).IsZero() {
		m.t.Fatal("deadline armed with nothing in flight")
	}
	if h.Len() != live || h.BytesInFlight() != inFlight {
		m.t.Fatalf("Len %d BytesInFlight %d, model %d and %d", h.Len(), h.BytesInFlight(), live, inFlight)
	}
}

// FuzzOnAck feeds arbitrary ACK frames, interleaved with sends and timeouts,
// to a small history: nothing panics, nothing never sent is acknowledged,
// every ref resolves at most once, and ACKs above the largest sent are
// rejected.
func FuzzOnAck(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xff})
	f.Add([]byte{0, 3, 0, 3, 0, 3, 0, 3, 1, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0xff, 2, 3, 0xff})
	f.Add([]byte{0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 33, 0xff})
	f.Add([]byte{0, 1, 3, 200, 2, 0, 1, 3, 200, 2, 1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := NewSentHistory[int](16)
		m := &fuzzModel{t: t, pkts: map[uint64]*fuzzPkt{}, refOwner: map[int]uint64{}, resolved: map[int]string{}}
		var rtt RTT
		now := t0
		nextPN, nextRef := uint64(0), 0
		take := func(n int) []byte {
			if len(data) < n {
				b := make([]byte, n)
				copy(b, data)
				data = nil
				return b
			}
			b := data[:n]
			data = data[n:]
			return b
		}
		for len(data) > 0 {
			op := take(1)[0]
			switch op % 4 {
			case 0: // send
				arg := take(1)[0]
				nextPN += uint64(arg & 3) // sometimes skip numbers
				eliciting := arg&4 != 0
				// Every recorded packet has a ref, so that the model sees it
				// resolve; a non-eliciting packet without refs is not recorded.
				nrefs := int(arg>>3) % 4
				if eliciting {
					nrefs = 1 + nrefs%3
				}
				refs := make([]int, nrefs)
				for i := range refs {
					refs[i] = nextRef
					nextRef++
				}
				size := int(arg) * 10
				full := h.Full()
				err := h.Sent(nextPN, now, size, eliciting, refs)
				needsRecord := eliciting || len(refs) > 0
				switch {
				case full && needsRecord:
					if !errors.Is(err, ErrHistoryFull) {
						t.Fatalf("Sent when Full: err %v", err)
					}
				case err != nil:
					t.Fatalf("Sent(%d): %v", nextPN, err)
				default:
					m.hasSent, m.largestSent = true, nextPN
					if needsRecord {
						for _, r := range refs {
							m.refOwner[r] = nextPN
						}
						m.pkts[nextPN] = &fuzzPkt{eliciting: eliciting, size: size, refs: refs}
					}
				}
				nextPN++
			case 1: // ACK
				b := take(12)
				var fr wire.AckFrame
				switch b[0] % 3 {
				case 0: // near the largest sent, possibly above it
					fr.Largest = nextPN - min(nextPN, uint64(b[1]%8)) + uint64(b[1]>>7)*uint64(b[2])
				case 1: // anywhere
					fr.Largest = binary.LittleEndian.Uint64(b[1:9])
				default:
					fr.Largest = uint64(b[1])
				}
				fr.DelayMicros = uint64(b[9]) << (b[10] % 64)
				fr.MaskLen = b[11] // may exceed MaxAckMaskBytes: wire clamps
				copy(fr.Mask[:], take(min(int(b[11]), wire.MaxAckMaskBytes)))
				m.frame = &fr
				_, err := h.OnAck(&fr, now, &rtt, mad, m.resolve("acked"), m.resolve("lost"))
				wantErr := !m.hasSent || fr.Largest > m.largestSent
				if wantErr != errors.Is(err, ErrAckUnsent) || (err != nil && !wantErr) {
					t.Fatalf("OnAck(largest %d, largest sent %d, any %v): err %v", fr.Largest, m.largestSent, m.hasSent, err)
				}
				m.settle()
				if err == nil {
					m.check(h, &fr)
				} else {
					m.check(h, nil)
				}
				m.frame = nil
			case 2: // timers
				if d := h.NextDeadline(&rtt, mad); !d.IsZero() && d.After(now) && op&4 != 0 {
					now = d
				}
				h.OnTimeout(now, &rtt, mad, m.resolve("lost"))
				m.settle()
				m.check(h, nil)
			case 3: // time passes
				now = now.Add(time.Duration(take(1)[0]) * time.Millisecond)
			}
		}
	})
}
