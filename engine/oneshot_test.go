package engine

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// pumpedServer is a real-socket server pumped on its own goroutine; its
// handlers' results are read under mu.
type pumpedServer struct {
	srv   *Server
	mu    sync.Mutex
	notes []string
	disc  []error
}

func startPumpedServer(t *testing.T, hook func(Arrival) error) *pumpedServer {
	t.Helper()
	srv, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := &pumpedServer{srv: srv}
	if hook != nil {
		srv.OnAccept(hook)
	}
	srv.Handle("note", func(_ *Peer, m Msg) {
		ps.mu.Lock()
		ps.notes = append(ps.notes, m["text"].(string))
		ps.mu.Unlock()
	})
	srv.Handle("disconnected", func(_ *Peer, d Disconnected) {
		ps.mu.Lock()
		ps.disc = append(ps.disc, d.Err)
		ps.mu.Unlock()
	})
	runServer(t, srv)
	return ps
}

func (ps *pumpedServer) snapshot() ([]string, []error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]string(nil), ps.notes...), append([]error(nil), ps.disc...)
}

// checkNoLeak fails if goroutines or file descriptors stayed above what
// they were before (after a settling wait).
func checkNoLeak(t *testing.T, goroutines, fds int) {
	t.Helper()
	if n := settledGoroutines(goroutines); n > goroutines {
		t.Errorf("%d goroutines after SendOnce returned, %d before", n, goroutines)
	}
	if n := openFDs(t); n > fds {
		t.Errorf("%d open file descriptors after SendOnce returned, %d before", n, fds)
	}
}

// Issue 12, seed behaviour (p2py's temporary connections): SendOnce
// dials, delivers one message reliably, closes gracefully and returns nil
// once the server acknowledged it. The server dispatches it exactly once
// and sees a normal close (not unsent data); no goroutine or socket of
// SendOnce's is left.
func TestSendOnceDelivers(t *testing.T) {
	ps := startPumpedServer(t, nil)
	g, fds := settledGoroutines(1<<30), openFDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := SendOnce(ctx, ps.srv.ConnectString(), Msg{"action": "note", "text": "once"}, nil); err != nil {
		t.Fatalf("SendOnce: %v", err)
	}
	t.Logf("SendOnce returned after %v", time.Since(start).Round(time.Millisecond))
	checkNoLeak(t, g, fds)
	deadline := time.Now().Add(10 * time.Second)
	for {
		notes, disc := ps.snapshot()
		if len(notes) >= 1 && len(disc) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server got notes %v, disconnects %v", notes, disc)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would show by now
	notes, disc := ps.snapshot()
	if strings.Join(notes, ",") != "once" {
		t.Fatalf("server dispatched %v, want [once] exactly once", notes)
	}
	var ce *netcode.CloseError
	if len(disc) != 1 || !errors.As(disc[0], &ce) || ce.Code != netcode.CodeNormal || !ce.Remote {
		t.Fatalf("server saw the temporary connection end with %v, want a normal close by the client", disc)
	}
}

// A server whose accept hook refuses the client: SendOnce returns an error
// matching netcode.ErrRefused with the server's reason, and the message is
// never dispatched.
func TestSendOnceRefused(t *testing.T) {
	ps := startPumpedServer(t, func(Arrival) error { return errors.New("no strangers") })
	g, fds := settledGoroutines(1<<30), openFDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := SendOnce(ctx, ps.srv.ConnectString(), Msg{"action": "note", "text": "x"}, nil)
	if !errors.Is(err, netcode.ErrRefused) || !strings.Contains(err.Error(), "no strangers") {
		t.Fatalf("SendOnce to a refusing server = %v, want netcode.ErrRefused with its reason", err)
	}
	checkNoLeak(t, g, fds)
	time.Sleep(200 * time.Millisecond)
	if notes, _ := ps.snapshot(); len(notes) != 0 {
		t.Fatalf("a refused client's message was dispatched: %v", notes)
	}
}

// Cancelling ctx returns promptly with ctx's error, whether SendOnce is
// still dialing (an address that never answers) or waiting for a server
// that does not pump (the handshake completes, the greeting never comes).
func TestSendOnceCancel(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	idle, err := Listen("127.0.0.1:0", nil) // never pumped
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	for _, tc := range []struct{ name, target string }{
		{"dialing", FormatTarget(silent.LocalAddr().(*net.UDPAddr).AddrPort(), idle.Fingerprint())},
		{"waiting for the greeting", idle.ConnectString()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, fds := settledGoroutines(1<<30), openFDs(t)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(500*time.Millisecond, cancel)
			start := time.Now()
			err := SendOnce(ctx, tc.target, Msg{"action": "note", "text": "x"}, nil)
			el := time.Since(start)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("SendOnce after cancel = %v, want context.Canceled", err)
			}
			if el > 500*time.Millisecond+time.Second {
				t.Fatalf("SendOnce returned %v after start, %v after cancel", el, el-500*time.Millisecond)
			}
			checkNoLeak(t, g, fds)
		})
	}
}

// An address where nothing answers (a closed port): SendOnce returns an
// error within ctx's deadline, and leaves nothing behind.
func TestSendOnceUnreachable(t *testing.T) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closed := uc.LocalAddr().(*net.UDPAddr).AddrPort()
	uc.Close()
	fp, err := netcode.ParseFingerprint(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	g, fds := settledGoroutines(1<<30), openFDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err = SendOnce(ctx, FormatTarget(closed, fp), Msg{"action": "note", "text": "x"}, nil)
	el := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendOnce to a closed port = %v, want an error matching the ctx deadline", err)
	}
	if el > 2*time.Second {
		t.Fatalf("SendOnce to a closed port returned after %v, deadline 1 s", el)
	}
	checkNoLeak(t, g, fds)
}

// A message the codec cannot encode fails before anything is dialed.
func TestSendOnceBadMessageDialsNothing(t *testing.T) {
	fp, _ := netcode.ParseFingerprint(strings.Repeat("ab", 32))
	start := time.Now()
	err := SendOnce(context.Background(), FormatTarget(srvAP, fp), Msg{"text": "no action"}, nil)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("SendOnce of a message without an action = %v after %v, want an error at once", err, time.Since(start))
	}
}
