package netcode

import (
	"bytes"
	"log/slog"
	"runtime"
	"strings"
	"testing"
)

// TestSocketBuffersSized: an endpoint on a UDP socket asks for 7 MiB
// buffers (issue 13 item 4) and either gets them or says once, through
// Config.Logger, that the OS capped them; the receive buffer is left to
// the OS unless ReceiveBufferBytes asks.
func TestSocketBuffersSized(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("granted sizes are read back on Linux only")
	}
	bufferWarned.Store(false)
	var log bytes.Buffer
	ep, err := Listen("127.0.0.1:0", &Config{ReceiveBufferBytes: defaultSocketBuffer, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	s := ep.Stats()
	t.Logf("granted: receive %d KiB, send %d KiB; log: %q", s.SocketReadBuffer>>10, s.SocketWriteBuffer>>10, log.String())
	capped := s.SocketReadBuffer < defaultSocketBuffer || s.SocketWriteBuffer < defaultSocketBuffer
	if s.SocketReadBuffer <= 0 || s.SocketWriteBuffer <= 0 {
		t.Fatalf("granted sizes not reported: %+v", s)
	}
	if capped != strings.Contains(log.String(), "capped") {
		t.Fatalf("capped=%v but the log says %q", capped, log.String())
	}

	off, err := Listen("127.0.0.1:0", &Config{SendBufferBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if s := off.Stats(); s.SocketReadBuffer != 0 || s.SocketWriteBuffer != 0 {
		t.Fatalf("a listener with SendBufferBytes -1 still sized its buffers: %+v", s)
	}
	dialer, err := NewEndpoint(listenLoopback(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dialer.Close()
	if s := dialer.Stats(); s.SocketReadBuffer != 0 || s.SocketWriteBuffer != ep.Stats().SocketWriteBuffer {
		t.Fatalf("a default endpoint's buffers %d/%d, want the OS's (0) and the listener's send buffer %d",
			s.SocketReadBuffer, s.SocketWriteBuffer, ep.Stats().SocketWriteBuffer)
	}
}

// fakeBuf is a socket buffer of an OS that caps sizes at limit unless
// forced.
type fakeBuf struct {
	size, limit int
	canForce    bool
}

func (f *fakeBuf) ops() bufOps {
	o := bufOps{
		get: func() (int, error) { return f.size, nil },
		set: func(n int) error { f.size = min(n, f.limit); return nil },
	}
	if f.canForce {
		o.force = func(n int) error { f.size = n; return nil }
	}
	return o
}

// TestGrowBufferCappedWarnsOnce: capped by the OS, the buffer grows to the
// limit, the privileged override is tried, and the warning comes once per
// process whatever the number of endpoints.
func TestGrowBufferCappedWarnsOnce(t *testing.T) {
	bufferWarned.Store(false)
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	for range 3 {
		f := &fakeBuf{size: 208 << 10, limit: 1 << 20}
		got, err := growBuffer(f.ops(), defaultSocketBuffer)
		if err != nil || got != 1<<20 {
			t.Fatalf("capped: got %d, %v; want the 1 MiB limit", got, err)
		}
		warnBuffer(logger, "receive", defaultSocketBuffer, got)
	}
	if n := strings.Count(log.String(), "capped"); n != 1 {
		t.Fatalf("%d warnings for three capped endpoints, want 1: %q", n, log.String())
	}
	if !strings.Contains(log.String(), "wanted_KiB=7168") || !strings.Contains(log.String(), "granted_KiB=1024") {
		t.Fatalf("the warning does not say the sizes: %q", log.String())
	}

	f := &fakeBuf{size: 208 << 10, limit: 1 << 20, canForce: true}
	if got, _ := growBuffer(f.ops(), defaultSocketBuffer); got != defaultSocketBuffer {
		t.Fatalf("forced: got %d, want %d", got, defaultSocketBuffer)
	}
	f = &fakeBuf{size: 16 << 20, limit: 1 << 20}
	if got, _ := growBuffer(f.ops(), defaultSocketBuffer); got != 16<<20 {
		t.Fatalf("a larger buffer was shrunk to %d", got)
	}
}
