package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/rendezvous"
)

// TestRun starts the command on a free port, creates and lists a room,
// asks STUN for the mapped address, and stops it.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, pw); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	// "rendezvous: http://127.0.0.1:PORT, STUN udp 127.0.0.1:PORT"
	f := strings.Fields(line)
	if len(f) != 5 {
		t.Fatalf("banner %q", line)
	}
	url := strings.TrimSuffix(f[1], ",")

	cert, err := netcode.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := rendezvous.NewClient(url, cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	room, err := c.Create(rctx, "game", true, rendezvous.Record{Seats: 1})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.List(rctx, "game")
	if err != nil || len(list) != 1 || list[0].Code != room.Code {
		t.Fatalf("list %+v %v", list, err)
	}

	uc, err := net.Dial("udp", f[4])
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	uc.Write(req.Raw)
	uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, err := uc.Read(buf)
	if err != nil {
		t.Fatalf("STUN: %v", err)
	}
	var m stun.Message
	m.Raw = buf[:n]
	var xa stun.XORMappedAddress
	if m.Decode() != nil || xa.GetFrom(&m) != nil || xa.Port != uc.LocalAddr().(*net.UDPAddr).Port {
		t.Fatalf("STUN answer %v %v", m, xa)
	}

	// A waiting poll does not hold up shutdown.
	room.Poll(rctx)
	polled := make(chan error, 1)
	go func() { _, err := room.Poll(rctx); polled <- err }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	<-polled
}

func TestRunFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-tls-cert", "x"}, io.Discard); err == nil {
		t.Fatal("-tls-cert without -tls-key accepted")
	}
	if err := run(context.Background(), []string{"-max-rooms", "-1", "-addr", "127.0.0.1:0"}, io.Discard); err == nil {
		t.Fatal("negative -max-rooms accepted")
	}
}
