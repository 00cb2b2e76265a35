package main

// The -lan end-to-end test: a chat server and two clients, real processes,
// one per network namespace, on real mDNS. The namespaces' only links are
// veths to a bridge in a namespace of its own; the test creates and
// deletes them all (DESIGN §6). Without root (or ip netns), it skips and
// says why.
//
// The namespace helpers are a copy of the lobby's (lobby/netns_test.go):
// test files cannot be shared across modules.

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// TestNetnsLAN runs "chat -serve :31425 -lan" in one namespace and
// "chat -lan" clients in two others: each client finds the server on its
// own, connects with the advertised connect string (the fingerprint is
// verified), sees the players count the server advertises, and chats.
func TestNetnsLAN(t *testing.T) {
	netnstest.Skip(t)
	bin := netnstest.Build(t, "chat")
	l := netnstest.New(t, "pumpnet-chat-", 3)
	srv := l.Run(0, "server", nil, bin, "-serve", ":31425", "-lan", "-iface", netnstest.Iface)
	_, m := srv.WaitLine(`chat: connect string (dtls://10\.77\.0\.1:31425#[0-9a-f]{64})`, 10*time.Second)
	connect := m[1]
	srv.WaitLine(`chat: advertised on the LAN as "chat on .*"; or join with: go run ./examples/chat -lan -nick NAME`, 5*time.Second)

	found := `\*\*\* found "chat on .*" \((\d+) players?\) at (\S+)`
	ann := l.Run(1, "ann", nil, bin, "-lan", "-iface", netnstest.Iface, "-nick", "ann")
	ann.WaitLine(`\*\*\* looking for a chat server on the LAN\.\.\.`, 5*time.Second)
	line, m := ann.WaitLine(found, 10*time.Second)
	if m[1] != "0" || m[2] != connect {
		t.Fatalf("ann found %q, want %s with 0 players", line.Text, connect)
	}
	t.Logf("ann found the server %v after she started", line.At)
	ann.WaitLine(`\*\*\* connected to 10\.77\.0\.1:31425`, 5*time.Second)
	ann.WaitLine(`\*\*\* players: ann`, 5*time.Second)

	// bob browses after ann joined: the server advertises 1 player.
	bob := l.Run(2, "bob", nil, bin, "-lan", "-iface", netnstest.Iface, "-nick", "bob")
	if _, m := bob.WaitLine(found, 10*time.Second); m[1] != "1" || m[2] != connect {
		t.Fatalf("bob found %q players at %s, want 1 at %s", m[1], m[2], connect)
	}
	for _, c := range []*netnstest.Proc{ann, bob} {
		c.WaitLine(`\*\*\* players: ann, bob`, 5*time.Second)
	}
	io.WriteString(ann.Stdin(), "hello over the LAN\n")
	io.WriteString(bob.Stdin(), "hi ann\n")
	for _, c := range []*netnstest.Proc{ann, bob} {
		c.WaitAll(`(ann: hello over the LAN|bob: hi ann)`, 2, 5*time.Second)
	}
	ann.Exit(5 * time.Second)
	bob.WaitLine(`\*\*\* players: bob`, 5*time.Second)
	bob.Exit(5 * time.Second)
	srv.WaitLine(`- 10\.77\.0\.3:\d+ \(bob\) left: .*`, 5*time.Second)
	if err := srv.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	srv.WaitLine(`chat: server stopped`, 5*time.Second)
	srv.Exit(5 * time.Second)
	if srv.HasLine(`! .*`) {
		t.Errorf("the server reported errors:\n%s", srv.Transcript())
	}
	for _, p := range []*netnstest.Proc{srv, ann, bob} {
		t.Logf("%s:\n%s", p.Name(), p.Transcript())
	}
}
