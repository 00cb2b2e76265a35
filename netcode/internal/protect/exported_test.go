package protect

import (
	"errors"
	"testing"
)

func TestSplitExported(t *testing.T) {
	m := make([]byte, ExporterLength)
	for i := range m {
		m[i] = byte(i + 1)
	}
	e, err := SplitExported(m)
	if err != nil {
		t.Fatal(err)
	}
	clear(m) // the caller zeroes its input: e must hold copies
	for i := range 32 {
		if e.ClientToServer[i] != byte(i+1) || e.ServerToClient[i] != byte(32+i+1) {
			t.Fatalf("secret byte %d: c2s %d s2c %d", i, e.ClientToServer[i], e.ServerToClient[i])
		}
	}
	for i := range 8 {
		if e.ClientCID[i] != byte(64+i+1) || e.ServerCID[i] != byte(72+i+1) {
			t.Fatalf("cid byte %d: client %d server %d", i, e.ClientCID[i], e.ServerCID[i])
		}
	}
	e.Zero()
	if e != (Exported{}) {
		t.Fatalf("Zero left bytes: %x %x %x %x", e.ClientToServer[:], e.ServerToClient[:], e.ClientCID[:], e.ServerCID[:])
	}
}

func TestSplitExportedLength(t *testing.T) {
	for _, n := range []int{0, 1, 79, 81, 160} {
		if _, err := SplitExported(make([]byte, n)); !errors.Is(err, ErrMaterial) {
			t.Errorf("%d bytes: err = %v, want ErrMaterial", n, err)
		}
	}
	if ExporterLabel != "EXPORTER-pumpnet-v0" || ExporterLength != 80 {
		t.Fatal("exporter label or length differs from PROTOCOL.md §2")
	}
}
