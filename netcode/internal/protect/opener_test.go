package protect

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

func TestRoundTrip(t *testing.T) {
	for _, suite := range suites {
		for _, size := range []int{1, 17, 64, 1200, 65000} {
			s, o := pair(t, suite, DefaultKeyUpdateInterval)
			for _, p := range sealN(t, s, 5, size) {
				mustOpen(t, o, p)
			}
			// In-place sealing, then in-place opening of the same buffer.
			buf := make([]byte, wire.HeaderLen+size+wire.TagLen)
			want := testPayload(5, size)
			copy(buf[wire.HeaderLen:], want)
			pkt, pn, err := s.Seal(buf[:0], testCID, buf[wire.HeaderLen:wire.HeaderLen+size])
			if err != nil {
				t.Fatal(err)
			}
			gotPN, got, err := o.Open(pkt)
			if err != nil || gotPN != pn || !bytes.Equal(got, want) {
				t.Fatalf("%v %d: in-place round trip: pn %d/%d err %v", suite, size, gotPN, pn, err)
			}
			if &got[0] != &buf[wire.HeaderLen] {
				t.Fatal("Open's payload does not alias the packet")
			}
			if o.AuthFailures() != 0 {
				t.Fatalf("%d auth failures", o.AuthFailures())
			}
		}
	}
}

func TestWrongKeysFail(t *testing.T) {
	for _, suite := range suites {
		s, err := NewSealer(suite, testSecret(1), 0)
		if err != nil {
			t.Fatal(err)
		}
		other, err := NewOpener(suite, testSecret(2), 0)
		if err != nil {
			t.Fatal(err)
		}
		otherSuite, err := NewOpener(suites[1-int(suite)], testSecret(1), 0)
		if err != nil {
			t.Fatal(err)
		}
		p := sealN(t, s, 1, 64)[0]
		wantErr(t, openErr(other, p.packet), ErrAuth, "other secret")
		wantErr(t, openErr(otherSuite, p.packet), ErrAuth, "other suite")
		if other.AuthFailures() != 1 || otherSuite.AuthFailures() != 1 {
			t.Fatal("failures not counted")
		}
	}
}

// TestBitFlips flips every bit of a packet in turn: each one must fail
// (ErrAuth, or ErrHeader for the fixed and reserved bits of the first byte)
// and leave the Opener able to open the genuine packet afterwards.
func TestBitFlips(t *testing.T) {
	for _, suite := range suites {
		s, o := pair(t, suite, DefaultKeyUpdateInterval)
		ps := sealN(t, s, 3, 24)
		p := ps[2]
		var auth uint64
		for bit := range len(p.packet) * 8 {
			bad := bytes.Clone(p.packet)
			bad[bit/8] ^= 1 << (bit % 8)
			_, _, err := o.Open(bad)
			if bit/8 == 0 && bit%8 != 6 {
				wantErr(t, err, ErrHeader, fmt.Sprintf("flip of first-byte bit %d", bit%8))
				continue
			}
			wantErr(t, err, ErrAuth, fmt.Sprintf("%v: flip of bit %d", suite, bit))
			auth++
		}
		if o.AuthFailures() != auth {
			t.Fatalf("AuthFailures %d, want %d", o.AuthFailures(), auth)
		}
		if o.phase || o.updates != 0 || o.window.have {
			t.Fatalf("failed packets changed state: %v", o)
		}
		mustOpen(t, o, p)
		mustOpen(t, o, ps[0])
		mustOpen(t, o, ps[1])
	}
}

func TestTruncated(t *testing.T) {
	s, o := pair(t, AES128GCM, DefaultKeyUpdateInterval)
	p := sealN(t, s, 1, 1)[0] // exactly wire.MinPacketLen bytes
	if len(p.packet) != wire.MinPacketLen {
		t.Fatalf("packet of %d bytes", len(p.packet))
	}
	for n := range len(p.packet) {
		wantErr(t, openErr(o, p.packet[:n]), ErrShort, fmt.Sprintf("%d bytes", n))
	}
	if o.aeadOpens != 0 || o.AuthFailures() != 0 {
		t.Fatal("a short packet reached the AEAD or was counted")
	}
	mustOpen(t, o, p)
}

// TestHeaderPrecheckMatchesWire checks Open's allocation-free first-byte
// check against wire.ParseHeader for all 256 first bytes.
func TestHeaderPrecheckMatchesWire(t *testing.T) {
	_, o := pair(t, AES128GCM, DefaultKeyUpdateInterval)
	pkt := make([]byte, wire.MinPacketLen)
	for b := range 256 {
		pkt[0] = byte(b)
		_, werr := wire.ParseHeader(pkt)
		_, _, err := o.Open(pkt)
		if (werr == nil) != !isHeaderErr(err) {
			t.Fatalf("first byte %#02x: wire %v, Open %v", b, werr, err)
		}
		for _, kind := range []error{wire.ErrNotPumpnet, wire.ErrReservedBits} {
			if errorsIs(werr, kind) != errorsIs(err, kind) {
				t.Fatalf("first byte %#02x: Open %v and wire %v disagree on %v", b, err, werr, kind)
			}
		}
	}
}

func TestReplay(t *testing.T) {
	for _, suite := range suites {
		s, o := pair(t, suite, DefaultKeyUpdateInterval)
		ps := sealN(t, s, 3, 32)
		mustOpen(t, o, ps[1])
		opens := o.aeadOpens
		wantErr(t, openErr(o, ps[1].packet), ErrReplay, "replay of newest")
		if o.aeadOpens != opens {
			t.Fatal("a replayed packet reached the AEAD")
		}
		mustOpen(t, o, ps[0])
		mustOpen(t, o, ps[2])
		opens = o.aeadOpens
		for _, p := range ps {
			wantErr(t, openErr(o, p.packet), ErrReplay, fmt.Sprintf("replay of pn %d", p.pn))
		}
		if o.aeadOpens != opens {
			t.Fatal("a replayed packet reached the AEAD")
		}
		if o.AuthFailures() != 0 {
			t.Fatal("replays counted as auth failures")
		}
	}
}

// TestReorderWindow opens packets out of order: inside the window they open,
// at or below largest-ReplayWindow they are dropped before decryption.
func TestReorderWindow(t *testing.T) {
	s, o := pair(t, ChaCha20Poly1305, DefaultKeyUpdateInterval)
	ps := sealN(t, s, 2100, 8)
	mustOpen(t, o, ps[1500])
	opens := o.aeadOpens
	for _, pn := range []int{0, 400, 1500 - ReplayWindow} {
		wantErr(t, openErr(o, ps[pn].packet), ErrReplay, fmt.Sprintf("pn %d behind 1500", pn))
	}
	if o.aeadOpens != opens {
		t.Fatal("a packet outside the window reached the AEAD")
	}
	for _, pn := range []int{1500 - ReplayWindow + 1, 1499, 1000, 1501, 1700, 1600} {
		mustOpen(t, o, ps[pn])
	}
	// Random order within a window's span: everything opens exactly once.
	rng := rand.New(rand.NewPCG(3, 4))
	rest := ps[1701:]
	perm := rng.Perm(len(rest))
	for _, i := range perm {
		mustOpen(t, o, rest[i])
	}
	for _, i := range perm[:50] {
		wantErr(t, openErr(o, rest[i].packet), ErrReplay, "second delivery")
	}
}

// TestForgedPacketConsumesNothing: a forgery with a fresh packet number
// fails without marking that number, moving the largest, or changing the
// expansion base; the genuine packet with that number opens afterwards.
func TestForgedPacketConsumesNothing(t *testing.T) {
	for _, suite := range suites {
		s, o := pair(t, suite, DefaultKeyUpdateInterval)
		ps := sealN(t, s, 6, 40)
		mustOpen(t, o, ps[0])
		mustOpen(t, o, ps[1])

		forged := bytes.Clone(ps[3].packet)
		forged[len(forged)-1] ^= 1
		wantErr(t, openErr(o, forged), ErrAuth, "forged tag")

		// A forgery far ahead must not drag the expansion base: pn 2^31+7.
		far := bytes.Clone(ps[2].packet)
		far[wire.HeaderLen-4] = 0x80
		far[wire.HeaderLen-1] = 7
		wantErr(t, openErr(o, far), ErrAuth, "forged far pn")
		// Nor a forgery in the other key phase.
		flipped := bytes.Clone(ps[4].packet)
		flipped[0] ^= keyPhaseBit
		wantErr(t, openErr(o, flipped), ErrAuth, "forged key phase")

		if o.window.largest != 1 || o.phase || o.updates != 0 {
			t.Fatalf("forgeries changed state: %v", o)
		}
		for _, p := range ps[2:] {
			mustOpen(t, o, p)
		}
	}
}

// TestPNWrap crosses 2^32, where the truncated packet number wraps.
func TestPNWrap(t *testing.T) {
	for _, suite := range suites {
		s, o := pair(t, suite, DefaultKeyUpdateInterval)
		s.pn = 1<<32 - 4 // test hook
		ps := sealN(t, s, 12, 20)
		if ps[4].pn != 1<<32 || uint32(ps[4].pn) != 0 {
			t.Fatal("test does not cross 2^32")
		}
		for _, i := range []int{0, 1, 5, 2, 4, 3, 11, 6, 10, 7, 9, 8} {
			mustOpen(t, o, ps[i])
		}
		for _, p := range ps {
			wantErr(t, openErr(o, p.packet), ErrReplay, "replay across wrap")
		}
	}
}

func TestAuthLimit(t *testing.T) {
	s, err := NewSealer(AES128GCM, testSecret(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(AES128GCM, testSecret(1), 3)
	if err != nil {
		t.Fatal(err)
	}
	ps := sealN(t, s, 6, 16)
	mustOpen(t, o, ps[0])
	for i := 1; i <= 3; i++ {
		bad := bytes.Clone(ps[i].packet)
		bad[20] ^= 0xff
		wantErr(t, openErr(o, bad), ErrAuth, fmt.Sprintf("failure %d", i))
		mustOpen(t, o, ps[i]) // still usable up to the limit
	}
	bad := bytes.Clone(ps[4].packet)
	bad[20] ^= 0xff
	wantErr(t, openErr(o, bad), ErrAuthLimit, "failure 4")
	if o.AuthFailures() != 4 {
		t.Fatalf("AuthFailures %d", o.AuthFailures())
	}
	opens := o.aeadOpens
	wantErr(t, openErr(o, ps[4].packet), ErrAuthLimit, "genuine packet after the limit")
	wantErr(t, openErr(o, ps[5].packet), ErrAuthLimit, "genuine packet after the limit")
	if o.aeadOpens != opens {
		t.Fatal("Open decrypted after the limit")
	}
}

// TestKeyUpdateInOrder follows several key updates with a tiny interval.
func TestKeyUpdateInOrder(t *testing.T) {
	for _, suite := range suites {
		const interval = 4
		s, o := pair(t, suite, interval)
		for _, p := range sealN(t, s, 10*interval+1, 33) {
			if got, want := p.packet[0]&keyPhaseBit != 0, (p.pn/interval)%2 == 1; got != want {
				t.Fatalf("pn %d: phase %v", p.pn, got)
			}
			mustOpen(t, o, p)
		}
		if s.updates != 10 || o.updates != 10 || o.phase != s.phase {
			t.Fatalf("sealer %v, opener %v", s, o)
		}
	}
}

// TestKeyUpdateReorder delivers packets reordered around every phase
// boundary: late packets of the previous phase open with the previous keys
// after the Opener has rotated, and the next phase's early arrivals rotate.
func TestKeyUpdateReorder(t *testing.T) {
	for _, suite := range suites {
		const interval = 4
		s, o := pair(t, suite, interval)
		ps := sealN(t, s, 24, 16)
		// Boundaries at 4, 8, 12, 16, 20.
		order := []int{0, 1, 5, 2, 4, 3, 6, 9, 7, 8, 10, 11, 13, 12, 15, 14, 16, 17, 18, 22, 19, 21, 20, 23}
		for _, i := range order {
			mustOpen(t, o, ps[i])
		}
		if o.updates != 5 || o.AuthFailures() != 0 {
			t.Fatalf("%v", o)
		}
		// A previous-phase packet after rotation really used the previous
		// keys: pn 3 opened after pn 5, 4 and pn 7 after pn 9, 8.
		for _, p := range ps {
			wantErr(t, openErr(o, p.packet), ErrReplay, "replay after updates")
		}
	}
}

// TestKeyUpdateRandomReorder shuffles packets within blocks that straddle
// the phase boundaries (displacement below one interval).
func TestKeyUpdateRandomReorder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, suite := range suites {
		for _, interval := range []uint64{2, 3, 8, 13} {
			s, o := pair(t, suite, interval)
			ps := sealN(t, s, 40*int(interval), 12)
			block := int(interval)
			start := block / 2
			for i := 0; i < start; i++ {
				mustOpen(t, o, ps[i])
			}
			for lo := start; lo < len(ps); lo += block {
				hi := min(lo+block, len(ps))
				for _, j := range rng.Perm(hi - lo) {
					mustOpen(t, o, ps[lo+j])
				}
			}
			if o.AuthFailures() != 0 || o.updates != s.updates {
				t.Fatalf("interval %d: %v vs %v", interval, o, s)
			}
		}
	}
}

// TestKeyUpdatePublicMinimum uses the public constructor's smallest
// interval: two updates, a late packet of the previous phase opens, and a
// packet two generations old is dropped by the replay window before
// decryption.
func TestKeyUpdatePublicMinimum(t *testing.T) {
	s, err := NewSealer(AES128GCM, testSecret(4), MinKeyUpdateInterval)
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(AES128GCM, testSecret(4), 0)
	if err != nil {
		t.Fatal(err)
	}
	ps := sealN(t, s, 2*MinKeyUpdateInterval+60, 8)
	held := map[int]bool{5: true, 2*MinKeyUpdateInterval - 3: true}
	for i, p := range ps {
		if !held[i] {
			mustOpen(t, o, p)
		}
	}
	if o.updates != 2 {
		t.Fatalf("%d updates", o.updates)
	}
	mustOpen(t, o, ps[2*MinKeyUpdateInterval-3])
	opens := o.aeadOpens
	wantErr(t, openErr(o, ps[5].packet), ErrReplay, "two generations old")
	if o.aeadOpens != opens || o.AuthFailures() != 0 {
		t.Fatal("an old-generation packet reached the AEAD")
	}
}

func TestOpenerClose(t *testing.T) {
	s, o := pair(t, AES128GCM, DefaultKeyUpdateInterval)
	p := sealN(t, s, 1, 8)[0]
	o.Close()
	o.Close()
	if o.secret != (secret{}) || o.cur.aead != nil || o.next.aead != nil {
		t.Fatal("Close kept key material")
	}
	wantErr(t, openErr(o, p.packet), ErrClosed, "Open after Close")
}

func TestOpenAllocs(t *testing.T) {
	for _, suite := range suites {
		for _, size := range []int{1, 64, 1200} {
			s, o := pair(t, suite, DefaultKeyUpdateInterval)
			const runs = 300
			ps := sealN(t, s, runs+1, size)
			i := 0
			allocs := testing.AllocsPerRun(runs, func() {
				if _, _, err := o.Open(ps[i].packet); err != nil {
					t.Fatal(err)
				}
				i++
			})
			if allocs != 0 {
				t.Errorf("%v %d bytes: Open allocates %.1f times", suite, size, allocs)
			}
			// The drop paths of hostile input allocate nothing either.
			forged := sealN(t, s, 1, size)[0].packet
			forged[wire.HeaderLen] ^= 1
			reserved := bytes.Clone(forged)
			reserved[0] |= 1
			allocs = testing.AllocsPerRun(100, func() {
				for _, c := range []struct {
					p    []byte
					want error
				}{
					{ps[0].packet, ErrReplay},
					{forged, ErrAuth},
					{forged[:10], ErrShort},
					{reserved, ErrHeader},
				} {
					if _, _, err := o.Open(c.p); !errorsIs(err, c.want) {
						t.Fatalf("err %v, want %v", err, c.want)
					}
				}
			})
			if allocs != 0 {
				t.Errorf("%v: Open drop paths allocate %.1f times", suite, allocs)
			}
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	const batch = 1024
	for _, suite := range suites {
		for _, size := range []int{64, 1200} {
			b.Run(fmt.Sprintf("%v/%d", suite, size), func(b *testing.B) {
				s, o := pair(b, suite, DefaultKeyUpdateInterval)
				payload := make([]byte, size)
				bufs := make([][]byte, batch)
				pkts := make([][]byte, batch)
				for i := range bufs {
					bufs[i] = make([]byte, 0, wire.HeaderLen+size+wire.TagLen)
				}
				refill := func() {
					for i := range pkts {
						var err error
						if pkts[i], _, err = s.Seal(bufs[i], testCID, payload); err != nil {
							b.Fatal(err)
						}
					}
				}
				refill()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					j := i % batch
					if j == 0 && i > 0 {
						b.StopTimer()
						refill()
						b.StartTimer()
					}
					if _, _, err := o.Open(pkts[j]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// FuzzOpen feeds arbitrary bytes to an Opener with fixed keys, after first
// opening a fuzzer-chosen number of genuine packets (to vary the window and
// key phase). Open must never panic, and must succeed only on a genuine
// packet not yet opened, returning its packet number and payload.
func FuzzOpen(f *testing.F) {
	const interval = 3
	s, err := newSealer(AES128GCM, testSecret(7), interval)
	if err != nil {
		f.Fatal(err)
	}
	genuine := sealN(f, s, 4*interval, 5)
	byBytes := map[string]sealed{}
	for _, p := range genuine {
		byBytes[string(p.packet)] = p
	}
	for i, p := range genuine {
		f.Add(uint8(i), bytes.Clone(p.packet))
		f.Add(uint8(0), bytes.Clone(p.packet))
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), make([]byte, wire.MinPacketLen))
	f.Add(uint8(2), append([]byte{0xc0}, make([]byte, 40)...))
	f.Add(uint8(3), []byte{0x80, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, pre uint8, data []byte) {
		o, err := newOpener(AES128GCM, testSecret(7), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		opened := map[uint64]bool{}
		for i := range int(pre) % (len(genuine) + 1) {
			mustOpen(t, o, genuine[i])
			opened[genuine[i].pn] = true
		}
		in := string(data)
		pn, payload, err := o.Open(data)
		if err != nil {
			return
		}
		g, ok := byBytes[in]
		if !ok {
			t.Fatalf("Open accepted a packet that was never sealed: %x", in)
		}
		if opened[g.pn] || pn != g.pn || !bytes.Equal(payload, g.payload) {
			t.Fatalf("Open of genuine pn %d: got pn %d, opened before %v", g.pn, pn, opened[g.pn])
		}
		if _, _, err := o.Open([]byte(in)); !errorsIs(err, ErrReplay) {
			t.Fatalf("second Open of pn %d: %v, want ErrReplay", pn, err)
		}
	})
}
