package protect

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

func TestSealOverlap(t *testing.T) {
	const size = 50
	n := wire.HeaderLen + size + wire.TagLen
	for _, c := range []struct {
		name string
		off  int // payload = buf[off : off+size]
		ok   bool
	}{
		{"in place", wire.HeaderLen, true},
		{"after packet", n, true},
		{"at start", 0, false},
		{"inside header", 5, false},
		{"one past in place", wire.HeaderLen + 1, false},
		{"one before in place", wire.HeaderLen - 1, false},
		{"over the tag", n - 3, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, o := pair(t, AES128GCM, DefaultKeyUpdateInterval)
			buf := make([]byte, 2*n+size)
			want := testPayload(7, size)
			copy(buf[c.off:], want)
			pkt, _, err := s.Seal(buf[:0], testCID, buf[c.off:c.off+size])
			if !c.ok {
				if !errors.Is(err, ErrPayload) {
					t.Fatalf("err = %v, want ErrPayload", err)
				}
				if s.NextPN() != 0 {
					t.Fatal("a refused Seal consumed a packet number")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := o.Open(pkt)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Open: %v", err)
			}
		})
	}
}

func TestSealOverlapOKDisjoint(t *testing.T) {
	a, b := make([]byte, 10), make([]byte, 10)
	if !sealOverlapOK(a, 3, b) || !sealOverlapOK(a, 3, nil) || !sealOverlapOK(nil, 3, b) {
		t.Fatal("disjoint buffers reported as overlapping")
	}
	if sealOverlapOK(a, 3, a[9:]) || sealOverlapOK(a[5:], 0, a[:6]) || !sealOverlapOK(a[5:], 0, a[:5]) {
		t.Fatal("edge overlap misjudged")
	}
}
