package dispatch

import (
	"bytes"
	"testing"
	"unsafe"
)

// Blob has a []byte field, which typed handlers get decoded into a buffer
// reused from one message to the next.
type Blob struct {
	Action string `msgpack:"action"`
	Data   []byte `msgpack:"d"`
	N      int    `msgpack:"n"`
}

func TestTypedBytesReuseTheirBuffer(t *testing.T) {
	tbl := New[*peer](nil)
	var got []Blob
	var bufs []unsafe.Pointer
	record := true
	if err := HandleFunc(tbl, "blob", func(_ *peer, m Blob) {
		if !record {
			return
		}
		got = append(got, Blob{Action: m.Action, Data: bytes.Clone(m.Data), N: m.N})
		bufs = append(bufs, unsafe.Pointer(unsafe.SliceData(m.Data)))
	}); err != nil {
		t.Fatal(err)
	}
	p := &peer{"a"}
	big := bytes.Repeat([]byte{7}, MaxKeptBytes+1)
	msgs := [][]byte{
		encode(t, &Blob{Action: "blob", Data: []byte("first message"), N: 1}),
		encode(t, &Blob{Action: "blob", Data: []byte("second"), N: 2}),
		encode(t, &Blob{Action: "blob", N: 3}), // no bytes: empty, never stale
		encode(t, &Blob{Action: "blob", Data: big, N: 4}),
		encode(t, &Blob{Action: "blob", Data: []byte("after the big one"), N: 5}),
	}
	for _, m := range msgs {
		if _, err := tbl.Dispatch(p, m); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"first message", "second", "", string(big), "after the big one"}
	for i, w := range want {
		if string(got[i].Data) != w || got[i].N != i+1 {
			t.Fatalf("message %d: got %q (n %d), want %q", i, got[i].Data, got[i].N, w)
		}
	}
	if bufs[1] != bufs[0] {
		t.Errorf("the second message's bytes got a new buffer: not reused")
	}
	if bufs[4] == bufs[3] {
		t.Errorf("a buffer over MaxKeptBytes (%d) was kept", MaxKeptBytes)
	}
	if raceEnabled {
		return // sync.Pool drops items at random under -race; CI runs this without it too
	}
	data := msgs[1]
	record = false
	if n := testing.AllocsPerRun(100, func() { tbl.Dispatch(p, data) }); n != 0 {
		t.Errorf("steady state: %v allocations per typed message with a []byte field and an action, want 0", n)
	}
}
