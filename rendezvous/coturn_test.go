package rendezvous

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startCoturn runs Debian's coturn on 127.0.0.1 with the TURN REST API
// scheme (use-auth-secret, static-auth-secret: no user list) and returns
// its address once it answers STUN. It skips the test without coturn.
func startCoturn(t *testing.T, secret string) string {
	t.Helper()
	if _, err := exec.LookPath("turnserver"); err != nil {
		t.Skip("needs coturn's turnserver (Debian package coturn; CI installs it)")
	}
	// A free port: bound and released (coturn cannot be handed a socket).
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	cmd := exec.Command("turnserver", "-n",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", fmt.Sprintf("--listening-port=%d", port),
		"--min-port=42000", "--max-port=42999", "--allow-loopback-peers",
		"--realm=pumpnet.test", "--use-auth-secret", "--static-auth-secret="+secret, "--fingerprint",
		"--no-tls", "--no-dtls", "--no-cli", "--no-rfc5780", "--no-tcp-relay",
		"--userdb="+filepath.Join(dir, "turndb"), "--pidfile="+filepath.Join(dir, "turn.pid"),
		"--log-file=stdout", "--simple-log")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("coturn's log:\n%s", out.String())
		}
	})
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	probe := udpFrom(t, "127.0.0.1")
	for deadline := time.Now().Add(15 * time.Second); ; {
		if _, ok := bind(t, probe, addr, 200*time.Millisecond); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("coturn did not answer STUN within 15 s")
		}
	}
	return addr.String()
}

// TestCoturnCredentials: coturn, configured with nothing but the shared
// secret, accepts the credentials a join answer carries and relays with
// them; it refuses credentials the rendezvous issued that have expired,
// and credentials made with another secret.
func TestCoturnCredentials(t *testing.T) {
	const secret = "shared with coturn"
	addr := startCoturn(t, secret)
	clock := &fakeClock{t: time.Now()}
	s, hs := newTestServer(t, Config{ExternalTURN: []ExternalTURN{{URLs: []string{"turn:" + addr + "?transport=udp"}, Secret: secret}}})
	s.now = clock.now
	join := func() ICEServer {
		room, err := newClient(t, hs.URL, nil).Create(ctxT(t), "game", false, Record{})
		if err != nil {
			t.Fatal(err)
		}
		return turnOf(t, room.ICEServers(), "turn:"+addr)
	}

	fresh := join()
	relay, err := allocate(t, "127.77.5.1", addr, fresh)
	if err != nil {
		t.Fatalf("coturn refused the rendezvous's fresh credentials: %v", err)
	}
	if !relays(t, relay, udpFrom(t, "127.77.5.9")) {
		t.Fatal("no datagram relayed through coturn")
	}

	clock.add(-time.Hour) // credentials made now expired 50 minutes ago
	expired := join()
	if _, err := allocate(t, "127.77.5.2", addr, expired); err == nil {
		t.Fatal("coturn accepted an expired credential")
	} else {
		t.Logf("coturn refused the expired credential: %v", err)
	}
	clock.add(time.Hour)
	other := fresh
	other.Credential = hmacSHA1("another secret", other.Username)
	if _, err := allocate(t, "127.77.5.3", addr, other); err == nil {
		t.Fatal("coturn accepted a credential made with another secret")
	}
}
