package engine

import (
	"errors"
	"strings"
	"testing"
)

type guardLog struct{ errs []error }

func (g *guardLog) Network_error(_ *Peer, err error) {
	g.errs = append(g.errs, err)
	if strings.Contains(err.Error(), "twice") {
		panic("the error handler fails too")
	}
}

// TestGuardRecoversAndReports: Guard returns nil for a callback that
// returns, and for one that panics returns and reports (as an "error"
// event) an error matching ErrPanic that names the callback; a panic in
// the "error" handler itself goes no further.
func TestGuardRecoversAndReports(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	log := &guardLog{}
	if err := srv.Register(log); err != nil {
		t.Fatal(err)
	}
	ran := false
	if err := srv.Guard(nil, "PeerAdded", "(*game).PeerAdded", func() { ran = true }); err != nil || !ran {
		t.Fatalf("plain callback: ran %v, err %v", ran, err)
	}
	if len(log.errs) != 0 {
		t.Fatalf("error events for a callback that returned: %v", log.errs)
	}
	err = srv.Guard(nil, "PeerAdded", "(*game).PeerAdded", func() { panic("boom") })
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "(*game).PeerAdded") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Guard returned %v", err)
	}
	if len(log.errs) != 1 || log.errs[0] != err {
		t.Fatalf("error events %v, want the panic's error", log.errs)
	}
	cause := errors.New("cause")
	err = srv.Guard(nil, "x", "y", func() { panic(cause) })
	if !errors.Is(err, cause) {
		t.Fatalf("%v does not wrap the panic's error value", err)
	}
	err = srv.Guard(nil, "x", "y", func() { panic("twice") })
	if !errors.Is(err, ErrPanic) || len(log.errs) != 3 {
		t.Fatalf("with a panicking error handler: %v, %d events", err, len(log.errs))
	}
}
