package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
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

// TestRunTURN starts the command with the embedded TURN and an external
// TURN server: a member's create answer offers the STUN responder, the
// embedded TURN (whose credentials allocate) and the external one, and
// shutdown closes the TURN socket.
func TestRunTURN(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("coturn secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-turn", "127.0.0.1:0", "-turn-relay-ip", "127.0.0.1",
			"-turn-ports", "43000-43099", "-external-turn", "turn:turn.example.org:3478?transport=udp",
			"-external-turn-secret", "@" + secretFile}, pw)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	var lines []string
	for range 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("banner %q: %v", lines, err)
		}
		lines = append(lines, line)
	}
	go io.Copy(io.Discard, br)
	// "rendezvous: http://127.0.0.1:PORT, STUN udp 127.0.0.1:PORT"
	// "rendezvous: TURN udp 127.0.0.1:PORT, offered as turn:127.0.0.1:PORT, relaying from 127.0.0.1 ports 43000-43099"
	// "rendezvous: members are offered stun:127.0.0.1:PORT"
	f := strings.Fields(lines[0])
	url := strings.TrimSuffix(f[1], ",")
	tf := strings.Fields(lines[1])
	if len(tf) < 7 || tf[1] != "TURN" {
		t.Fatalf("TURN banner %q", lines[1])
	}
	turnAddr := strings.TrimSuffix(tf[3], ",")
	wantSTUN := "stun:" + strings.TrimPrefix(url, "http://")
	if !strings.HasSuffix(strings.TrimSpace(lines[2]), wantSTUN) {
		t.Fatalf("STUN banner %q, want %s", lines[2], wantSTUN)
	}

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
	room, err := c.Create(rctx, "game", false, rendezvous.Record{})
	if err != nil {
		t.Fatal(err)
	}
	ice := room.ICEServers()
	if len(ice) != 3 || ice[0].URLs[0] != wantSTUN || ice[1].URLs[0] != "turn:"+turnAddr+"?transport=udp" ||
		ice[2].URLs[0] != "turn:turn.example.org:3478?transport=udp" {
		t.Fatalf("ICE servers %+v", ice)
	}
	mac := hmac.New(sha1.New, []byte("coturn secret"))
	mac.Write([]byte(ice[2].Username))
	if ice[2].Credential != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("external TURN credential %+v not made with the secret file's secret", ice[2])
	}

	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: turnAddr, TURNServerAddr: turnAddr,
		Username: ice[1].Username, Password: ice[1].Credential, Conn: conn})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := tc.Allocate()
	if err != nil {
		t.Fatalf("allocation with the answer's credentials: %v", err)
	}
	if p := relay.LocalAddr().(*net.UDPAddr).Port; p < 43000 || p > 43099 {
		t.Fatalf("relay port %d outside -turn-ports", p)
	}
	relay.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if _, err := net.ListenPacket("udp4", turnAddr); err != nil {
		t.Fatalf("the TURN socket is still open after shutdown: %v", err)
	}
}

func TestRunTURNFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-turn", "127.0.0.1:0"}, // no relay IP
		{"-turn", "127.0.0.1:0", "-turn-relay-ip", "not-an-ip"},
		{"-turn", "127.0.0.1:0", "-turn-relay-ip", "127.0.0.1", "-turn-ports", "50000"},
		{"-turn", "127.0.0.1:0", "-turn-relay-ip", "127.0.0.1", "-turn-ports", "60000-50000"},
		{"-turn", "127.0.0.1:0", "-turn-relay-ip", "127.0.0.1", "-turn-secret", "@/nonexistent/secret"},
		{"-turn-relay-ip", "127.0.0.1"}, // no -turn
		{"-external-turn", "turn:x:3478"},
		{"-external-turn", "stun:x:3478", "-external-turn-secret", "s"},
		{"-stun-public", "no-port"},
	} {
		if err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
