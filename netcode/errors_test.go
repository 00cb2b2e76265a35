package netcode

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 12, defect 8: every exported error of netcode is returned
// somewhere and matches with errors.Is/As. ErrQueueFull,
// ErrMessageTooLarge, ErrHandshake and ErrFingerprintMismatch have their
// tests in lifecycle_test.go and security_test.go; these cover the rest.

func TestErrNoChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		_, cli := p.connect(t)
		if err := cli.Send(9, []byte("x")); !errors.Is(err, ErrNoChannel) {
			t.Fatalf("Send on channel 9 of 1: %v, want ErrNoChannel", err)
		}
	})
}

func TestErrTimeoutAndCloseErrorOnIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{IdleTimeout: 2 * time.Second, KeepAlive: 500 * time.Millisecond}
		p := newFakePair(t, cfg, cfg)
		srv, _ := p.connect(t)
		p.cliTap.mu.Lock()
		p.cliTap.dropFrom = 1 // the client goes silent
		p.cliTap.mu.Unlock()
		<-srv.Done()
		var ce *CloseError
		if !errors.As(srv.Err(), &ce) || ce.Code != CodeTimeout || ce.Remote {
			t.Fatalf("Err = %v, want a local CloseError with CodeTimeout", srv.Err())
		}
		if !errors.Is(srv.Err(), ErrTimeout) || !errors.Is(srv.Err(), net.ErrClosed) {
			t.Fatalf("Err = %v does not match ErrTimeout and net.ErrClosed", srv.Err())
		}
		if errors.Is(srv.Err(), ErrRefused) || errors.Is(srv.Err(), ErrUnsentData) {
			t.Fatalf("a timeout matches ErrRefused or ErrUnsentData")
		}
	})
}

// A server that turns a client away (full: the application closes it with
// CodeServerBusy) is seen by the client as a refusal: the error matches
// ErrRefused. (A full accept backlog no longer refuses: connections wait.)
func TestErrRefusedWhenServerBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		srv, cli := p.connect(t)
		if err := srv.CloseWithReason(CodeServerBusy, "server full"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		select {
		case <-cli.Done():
		case <-ctx.Done():
			t.Fatal("the client was not told")
		}
		err := cli.Err()
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("client: %v, want ErrRefused", err)
		}
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != CodeServerBusy || !ce.Remote || ce.Reason != "server full" {
			t.Fatalf("client: %v, want a remote CloseError with CodeServerBusy and its reason", err)
		}
	})
}

// Issue 12, defect 10 (netcode part): Close with reliable data the peer
// has not acknowledged tells the peer so (CodeUnsentData, how many bytes,
// ErrUnsentData); after everything was acknowledged Close is normal, and
// so is Shutdown.
func TestCloseWithUnacknowledgedDataTellsThePeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		srv, cli := p.connect(t)
		for i := range 100 {
			if err := cli.Send(0, seqMsg(uint64(i), 1000)); err != nil {
				t.Fatal(err)
			}
		}
		// Nothing was flushed or acknowledged yet.
		if err := cli.Close(); err != nil {
			t.Fatal(err)
		}
		<-srv.Done()
		err := srv.Err()
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != CodeUnsentData || !ce.Remote || !errors.Is(err, ErrUnsentData) {
			t.Fatalf("server Err = %v, want a remote CloseError with CodeUnsentData", err)
		}
		if !strings.Contains(ce.Reason, "100000 bytes of reliable data not acknowledged") {
			t.Fatalf("reason %q does not say how much was dropped", ce.Reason)
		}
		if !strings.Contains(err.Error(), "unsent data discarded") {
			t.Fatalf("Error() = %q", err.Error())
		}
		// The same close on the client's side.
		if !errors.Is(cli.Err(), ErrUnsentData) {
			t.Fatalf("client Err = %v", cli.Err())
		}
	})
	for _, graceful := range []string{"Shutdown", "Close after the acks"} {
		t.Run(graceful, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newFakePair(t, nil, nil)
				srv, cli := p.connect(t)
				for i := range 100 {
					if err := cli.Send(0, seqMsg(uint64(i), 1000)); err != nil {
						t.Fatal(err)
					}
				}
				got := 0
				go func() {
					for ended := false; !ended; {
						select {
						case <-srv.Done():
							ended = true // what came before the end is still there
						case <-srv.Wake():
						}
						for _, ok := srv.Receive(); ok; _, ok = srv.Receive() {
							got++
						}
					}
				}()
				if graceful == "Shutdown" {
					if err := cli.Shutdown(context.Background()); err != nil {
						t.Fatal(err)
					}
				} else {
					cli.Flush()
					for cli.Stats().QueuedReliableBytes > 0 {
						time.Sleep(time.Millisecond)
					}
					cli.Close()
				}
				<-srv.Done()
				var ce *CloseError
				if !errors.As(srv.Err(), &ce) || ce.Code != CodeNormal || errors.Is(srv.Err(), ErrUnsentData) {
					t.Fatalf("server Err = %v, want a normal close", srv.Err())
				}
				synctest.Wait()
				if got != 100 {
					t.Fatalf("server got %d of 100", got)
				}
			})
		})
	}
}
