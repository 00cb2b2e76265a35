package main

// The end-to-end test: real lobbychat processes, one per network
// namespace, on real mDNS. The namespaces' only links are veths to a
// bridge in a namespace of its own; the test creates and deletes them all
// (DESIGN §6). Without root (or ip netns), it skips and says why.
//
// The namespace helpers are the shared internal/netnstest package.

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// TestNetnsChat runs four lobbychat processes, one per namespace: ann, bob
// and carol find each other and form the mesh, chat to everyone and to one
// peer, list the peers; carol locks the session, ann and bob follow, and
// dave, arriving, meets nobody until carol unlocks it; ann quits and
// everyone is told.
func TestNetnsChat(t *testing.T) {
	netnstest.Skip(t)
	bin := netnstest.Build(t, "lobbychat")
	l := netnstest.New(t, "pumpnet-lobbychat-", 4)
	names := []string{"ann", "bob", "carol", "dave"}
	ps := map[string]*netnstest.Proc{}
	startPeer := func(i int, extra ...string) {
		ps[names[i]] = l.Run(i, names[i], nil, append([]string{bin, "-name", names[i], "-iface", netnstest.Iface}, extra...)...)
	}
	say := func(who, line string) {
		t.Helper()
		if _, err := io.WriteString(ps[who].Stdin(), line+"\n"); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
	}
	id := `\(id ([0-9a-f]{8})\)`
	for i := range 3 {
		startPeer(i)
	}
	var mesh []time.Duration
	for _, me := range names[:3] {
		p := ps[me]
		p.WaitLine(`\*\*\* you are `+me+` `+id+`, looking for "lobbychat" peers on veth0 \(sessions of up to 8\); /help lists the commands`, 10*time.Second)
		var joined []string
		var at time.Duration
		for range 2 {
			line, m := p.WaitLine(`\*\*\* (\w+) joined `+id, 10*time.Second)
			joined, at = append(joined, m[1]), line.At
		}
		slices.Sort(joined)
		if want := slices.DeleteFunc(slices.Clone(names[:3]), func(n string) bool { return n == me }); !slices.Equal(joined, want) {
			t.Fatalf("%s saw %v join, want %v", me, joined, want)
		}
		mesh = append(mesh, at)
	}
	t.Logf("ann, bob, carol: mesh complete %v after each process started", mesh)

	say("ann", "hello from ann")
	for _, who := range []string{"ann", "bob", "carol"} {
		ps[who].WaitLine(`ann: hello from ann`, 5*time.Second)
	}
	say("bob", "/to carol psst")
	ps["bob"].WaitLine(`you \(to carol\): psst`, 5*time.Second)
	ps["carol"].WaitLine(`bob \(to you\): psst`, 5*time.Second)
	say("carol", "/peers")
	ps["carol"].WaitLine(`\*\*\* 2 peers, looking for more`, 5*time.Second)
	ps["carol"].WaitLine(`\*\*\*   carol +[0-9a-f]{8}  you(, host)?`, 5*time.Second)
	ps["carol"].WaitAll(`\*\*\*   (ann|bob) +[0-9a-f]{8}  rtt [0-9.]+[µm]?s(, host)?`, 2, 5*time.Second)
	hosts := 0
	for _, re := range []string{`\*\*\*   carol .* you, host`, `\*\*\*   (ann|bob) .*, host`} {
		if ps["carol"].HasLine(re) {
			hosts++
		}
	}
	if hosts != 1 {
		t.Errorf("carol's /peers shows %d hosts, want 1:\n%s", hosts, ps["carol"].Transcript())
	}

	// carol locks the session: ann and bob follow, so dave, arriving,
	// meets nobody (before, he met ann and bob, and the session split)
	// until carol unlocks it for everyone.
	say("carol", "/lock")
	ps["carol"].WaitLine(`\*\*\* locked: not looking for peers, nor are the others; the 3 in the session stay`, 5*time.Second)
	for _, who := range []string{"ann", "bob"} {
		ps[who].WaitLine(`\*\*\* carol locked the session: not looking for peers; the 3 in the session stay`, 5*time.Second)
	}
	startPeer(3, "-events")
	dave := ps["dave"]
	time.Sleep(2500 * time.Millisecond) // five polls
	if dave.HasLine(`\d+ joined .*`) {
		t.Fatalf("dave joined a locked session:\n%s", dave.Transcript())
	}
	for _, who := range []string{"ann", "bob", "carol"} {
		if ps[who].HasLine(`\*\*\* dave joined .*`) {
			t.Fatalf("%s let dave into a locked session:\n%s", who, ps[who].Transcript())
		}
	}
	say("carol", "/unlock")
	ps["carol"].WaitLine(`\*\*\* unlocked: looking for peers, and so are the others`, 5*time.Second)
	for _, who := range []string{"ann", "bob"} {
		ps[who].WaitLine(`\*\*\* carol unlocked the session: looking for peers`, 5*time.Second)
	}
	for _, who := range []string{"ann", "bob", "carol"} {
		ps[who].WaitLine(`\*\*\* dave joined `+id, 10*time.Second)
	}
	dave.WaitAll(`\d+ joined [0-9a-f]{8} "(ann|bob|carol)" ""`, 3, 10*time.Second)
	say("dave", "hi, I'm dave")
	dave.WaitLine(`\d+ said [0-9a-f]{8} "dave" "hi, I'm dave"`, 5*time.Second)
	for _, who := range []string{"ann", "bob", "carol"} {
		ps[who].WaitLine(`dave: hi, I'm dave`, 5*time.Second)
	}

	// ann quits: everyone is told at once.
	say("ann", "/quit")
	ps["ann"].Exit(5 * time.Second)
	for _, who := range []string{"bob", "carol"} {
		ps[who].WaitLine(`\*\*\* ann left `+id+`: .*`, 3*time.Second)
	}
	dave.WaitLine(`\d+ left [0-9a-f]{8} "ann" ".*"`, 3*time.Second)
	if ps["ann"].HasLine(`.*psst.*`) {
		t.Error("ann saw bob's line to carol")
	}
	for _, who := range []string{"bob", "carol", "dave"} {
		ps[who].Exit(5 * time.Second)
	}
	for _, who := range names {
		ps[who].WaitLine(`(\*\*\* you left the session|\d+ bye .*)`, time.Second)
		t.Logf("%s (namespace %s):\n%s", who, l.Host(slices.Index(names, who)), ps[who].Transcript())
	}
}
