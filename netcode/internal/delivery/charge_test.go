package delivery

import (
	"errors"
	"runtime"
	"testing"
	"unsafe"
)

func TestOverheadsCoverRecords(t *testing.T) {
	// A record is allocated in a malloc size class (160 for up to 160
	// bytes) and takes up to two slots of a doubling ring or one table
	// pointer.
	if sz := unsafe.Sizeof(inMsg{}); sz > 160 || recvMsgOverhead < 160+16 || recvSetOverhead < 160+16 {
		t.Fatalf("inMsg is %d bytes; overheads %d/%d do not cover it", sz, recvMsgOverhead, recvSetOverhead)
	}
	if sz := unsafe.Sizeof(part{}); 2*sz > recvFragOverhead {
		t.Fatalf("part is %d bytes; a doubling table needs %d per fragment, charged %d", sz, 2*sz, recvFragOverhead)
	}
}

// heapGrowth returns how much the live heap grew while fill ran.
func heapGrowth(fill func()) int64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fill()
	runtime.GC()
	runtime.ReadMemStats(&b)
	return int64(b.HeapAlloc) - int64(a.HeapAlloc)
}

func TestChargesCoverMemory(t *testing.T) {
	const limit = 4 << 20
	cases := []struct {
		name string
		feed func(r *Receiver, i int) error
	}{
		{"empty unreliable messages", func(r *Receiver, i int) error {
			return r.OnMessage(msgFrame(2, uint64(i), nil), t0)
		}},
		{"65-byte reliable messages held behind a gap", func(r *Receiver, i int) error {
			return r.OnMessage(msgFrame(1, uint64(i)+1, make([]byte, 65)), t0)
		}},
		{"one-byte last fragments of reliable sets", func(r *Receiver, i int) error {
			return r.OnFragment(fragFrame(1, uint64(i)+1, 1, 2, []byte{1}), t0)
		}},
		{"fragments of large sets", func(r *Receiver, i int) error {
			return r.OnFragment(fragFrame(1, 1+uint64(i/2000), uint32(i%2000), 3000, make([]byte, 321)), t0)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustReceiver(t, Config{Modes: fourModes, RecvBufferBytes: limit, Window: 1 << 16})
			n := 0
			grew := heapGrowth(func() {
				for ; n < 1<<20; n++ {
					err := tc.feed(r, n)
					if errors.Is(err, ErrBufferFull) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
			})
			if n == 1<<20 {
				t.Fatal("buffer never full")
			}
			// Allowed beyond the charges: the Config-sized tables (Window
			// pointers and bits per channel, 16 incomplete-set pointers).
			tables := int64(4*(1<<16)*8 + 4096)
			if grew > int64(r.BufferedBytes())+tables {
				t.Fatalf("%d items: heap grew %d bytes, BufferedBytes %d (+%d for tables)", n, grew, r.BufferedBytes(), tables)
			}
			t.Logf("%d items: heap grew %d, charged %d", n, grew, r.BufferedBytes())
			runtime.KeepAlive(r)
		})
	}
}

func TestReserveCoversWorstCaseMessage(t *testing.T) {
	// At the smallest RecvBufferBytes the Config allows, with everything
	// outside the reserve taken, a head message of MaxMessageSize must go
	// through, whatever the peer's fragment size.
	const maxMsg = 20000
	probe := Config{Modes: []Mode{ReliableOrdered, Unreliable}, MaxMessageSize: maxMsg, RecvBufferBytes: 1 << 30}
	rc, err := probe.resolve()
	if err != nil {
		t.Fatal(err)
	}
	minBuf := rc.reserve + bufCharge(rc.MaxFramePayload) + recvMsgOverhead
	cfg := probe
	cfg.RecvBufferBytes = minBuf - 1
	if _, err := NewReceiver(cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("RecvBufferBytes one below the minimum: %v", err)
	}
	cfg.RecvBufferBytes = minBuf
	for _, size := range []int{256, 257, 321, 1000, 1086, 1537, 4097, 19999, 0} {
		r := mustReceiver(t, cfg)
		for seq := uint64(0); ; seq++ { // fill outside the reserve
			if err := r.OnMessage(msgFrame(1, seq, nil), t0); errors.Is(err, ErrBufferFull) {
				break
			}
		}
		msg := bytesOf(maxMsg, 3)
		if size == 0 {
			if err := r.OnMessage(msgFrame(0, 0, msg), t0); err != nil {
				t.Fatalf("whole message: %v", err)
			}
		} else {
			count := uint32((maxMsg + size - 1) / size)
			for i := range count {
				lo := int(i) * size
				if err := r.OnFragment(fragFrame(0, 0, i, count, msg[lo:min(lo+size, maxMsg)]), t0); err != nil {
					t.Fatalf("fragments of %d bytes: fragment %d of %d: %v (buffered %d of %d)", size, i, count, err, r.BufferedBytes(), minBuf)
				}
			}
		}
		var ok bool
		for ch, data, more := r.Next(); more; ch, data, more = r.Next() {
			ok = ok || (ch == 0 && string(data) == string(msg))
		}
		if !ok {
			t.Fatalf("fragments of %d bytes: message not delivered", size)
		}
	}
}
