package protect

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

func TestSealHeader(t *testing.T) {
	for _, suite := range suites {
		s, _ := pair(t, suite, DefaultKeyUpdateInterval)
		payload := []byte("hello, pumpnet")
		for want := range uint64(3) {
			pkt, pn, err := s.Seal(make([]byte, 0, 100), testCID, payload)
			if err != nil {
				t.Fatal(err)
			}
			if pn != want || s.NextPN() != want+1 {
				t.Fatalf("pn %d NextPN %d, want %d", pn, s.NextPN(), want)
			}
			if len(pkt) != wire.HeaderLen+len(payload)+wire.TagLen {
				t.Fatalf("packet length %d", len(pkt))
			}
			h, err := wire.ParseHeader(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if h != (wire.Header{ConnID: testCID, PN: uint32(pn)}) {
				t.Fatalf("header %+v", h)
			}
			if bytes.Contains(pkt, payload) {
				t.Fatal("payload appears in clear")
			}
		}
	}
}

func TestSealErrorsConsumeNothing(t *testing.T) {
	s, o := pair(t, AES128GCM, DefaultKeyUpdateInterval)
	_, _, err := s.Seal(make([]byte, 0, 100), testCID, nil)
	wantErr(t, err, ErrPayload, "empty payload")
	_, _, err = s.Seal(make([]byte, 0, wire.HeaderLen+10+wire.TagLen-1), testCID, make([]byte, 10))
	wantErr(t, err, ErrBufferTooSmall, "small buffer")
	if s.NextPN() != 0 {
		t.Fatalf("failed Seals consumed packet numbers: NextPN %d", s.NextPN())
	}
	// Exactly the needed capacity is enough.
	pkt, pn, err := s.Seal(make([]byte, 5, wire.HeaderLen+10+wire.TagLen), testCID, make([]byte, 10))
	if err != nil || pn != 0 {
		t.Fatalf("Seal with exact capacity: pn %d, %v", pn, err)
	}
	if _, _, err := o.Open(pkt); err != nil {
		t.Fatal(err)
	}
}

func TestSealPNExhausted(t *testing.T) {
	for _, suite := range suites {
		s, o := pair(t, suite, DefaultKeyUpdateInterval)
		s.pn = maxPN - 2 // test hook: start near the end of the space
		o.window = replayWindow{largest: maxPN - 3, have: true}
		for _, p := range sealN(t, s, 2, 30) {
			mustOpen(t, o, p)
		}
		for range 2 {
			_, _, err := s.Seal(make([]byte, 0, 100), testCID, []byte{1})
			wantErr(t, err, ErrPNExhausted, "Seal at 2^62")
		}
		if s.NextPN() != maxPN {
			t.Fatalf("NextPN %d after exhaustion", s.NextPN())
		}
	}
}

// TestSealKeyPhase checks that the phase flips every interval packets and
// that each phase uses a different key and IV.
func TestSealKeyPhase(t *testing.T) {
	const interval = 5
	s, _ := pair(t, AES128GCM, interval)
	var ivs [][12]byte
	for pn := range uint64(4*interval + 2) {
		if pn%interval == 0 {
			ivs = append(ivs, s.cur.iv)
		}
		pkt, _, err := s.Seal(make([]byte, 0, 100), testCID, []byte{byte(pn)})
		if err != nil {
			t.Fatal(err)
		}
		if pn%interval == 0 && pn > 0 {
			if s.cur.iv == ivs[len(ivs)-1] {
				t.Fatalf("pn %d: keys did not change at the update", pn)
			}
			ivs[len(ivs)-1] = s.cur.iv
		}
		want := (pn/interval)%2 == 1
		if got := pkt[0]&keyPhaseBit != 0; got != want {
			t.Fatalf("pn %d: key phase %v, want %v", pn, got, want)
		}
	}
	if s.updates != 4 {
		t.Fatalf("%d key updates, want 4", s.updates)
	}
	for i := range ivs {
		for j := range i {
			if ivs[i] == ivs[j] {
				t.Fatalf("generations %d and %d share an IV", j, i)
			}
		}
	}
}

func TestSealerClose(t *testing.T) {
	s, _ := pair(t, ChaCha20Poly1305, DefaultKeyUpdateInterval)
	s.Close()
	s.Close()
	if s.secret != (secret{}) || s.cur.aead != nil {
		t.Fatal("Close kept key material")
	}
	_, _, err := s.Seal(make([]byte, 0, 100), testCID, []byte{1})
	wantErr(t, err, ErrClosed, "Seal after Close")
}

func TestSealAllocs(t *testing.T) {
	for _, suite := range suites {
		for _, size := range []int{1, 64, 1200} {
			s, _ := pair(t, suite, DefaultKeyUpdateInterval)
			buf := make([]byte, 0, wire.HeaderLen+size+wire.TagLen)
			payload := make([]byte, size)
			inPlace := buf[:wire.HeaderLen+size]
			allocs := testing.AllocsPerRun(500, func() {
				if _, _, err := s.Seal(buf, testCID, payload); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Seal(inPlace[:0], testCID, inPlace[wire.HeaderLen:]); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v %d bytes: Seal allocates %.1f times", suite, size, allocs)
			}
		}
	}
	s, _ := pair(t, AES128GCM, DefaultKeyUpdateInterval)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := s.Seal(nil, testCID, nil); !errors.Is(err, ErrPayload) {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Seal of an empty payload allocates %.1f times", allocs)
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, suite := range suites {
		for _, size := range []int{64, 1200} {
			b.Run(fmt.Sprintf("%v/%d", suite, size), func(b *testing.B) {
				s, _ := pair(b, suite, DefaultKeyUpdateInterval)
				buf := make([]byte, 0, wire.HeaderLen+size+wire.TagLen)
				payload := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := s.Seal(buf, testCID, payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
