package natrig

// The rig's self-tests: UDP from hosts behind each NAT to two public hosts
// that reflect the source address they see. It proves the masquerade (the
// router's public address, never a private one), the mappings (one public
// port per socket behind the cone NAT, a new one per destination behind
// the symmetric NAT) and the filtering (a packet from a port the home
// never sent to does not come in).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/internal/netnstest"
)

// Environment of a re-executed test binary (TestRigHelperProcess).
const (
	roleEnv    = "PUMPNET_NATRIG_ROLE"    // reflect, probe or punch
	targetsEnv = "PUMPNET_NATRIG_TARGETS" // probe, punch: comma-separated address:port list
)

// Ports of the reflector on each public host.
const (
	reflectPortA = 4000
	reflectPortB = 4001
	strayPort    = 4002 // sends to whoever reached A or B, from a port they never addressed
	probePort    = 5000 // the probe's local port
)

func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestRigMappingAndFiltering(t *testing.T) {
	r := New(t, "pumpnet-natrig-", Config{Homes: []NAT{Cone, Symmetric}, PublicHosts: 2})
	exe := testExe(t)
	run := "-test.run=^TestRigHelperProcess$"
	var reflectors []string
	for i := range 2 {
		p := r.RunPublic(i, fmt.Sprintf("reflect%d", i+1), []string{roleEnv + "=reflect"}, exe, run)
		p.WaitLine(`reflect: ready`, 20*time.Second)
		reflectors = append(reflectors, fmt.Sprintf("%s:%d", r.PublicAddr(i), reflectPortA))
	}
	targets := append(reflectors, fmt.Sprintf("%s:%d", r.PublicAddr(0), reflectPortB))
	env := []string{roleEnv + "=probe", targetsEnv + "=" + strings.Join(targets, ",")}
	for h := range 2 {
		p := r.RunHome(h, 0, fmt.Sprintf("probe-%s", r.NAT(h)), env, exe, run)
		ms := p.WaitAll(`probe: (\S+) mapped (\S+)`, len(targets), 30*time.Second)
		p.WaitLine(`probe: done \d+`, 10*time.Second)
		var mapped []netip.AddrPort
		for _, m := range ms {
			a, err := netip.ParseAddrPort(m[2])
			if err != nil {
				t.Fatalf("%s: %v", p.Name(), err)
			}
			if a.Addr() != r.RouterAddr(h) {
				t.Errorf("%s: %s saw the probe from %s, want the router's public address %s", p.Name(), m[1], a, r.RouterAddr(h))
			}
			mapped = append(mapped, a)
		}
		t.Logf("%s NAT: private %s:%d seen by %v as %v", r.NAT(h), r.HostAddr(h, 0), probePort, targets, mapped)
		switch r.NAT(h) {
		case Cone:
			for i, a := range mapped {
				if a != mapped[0] {
					t.Errorf("cone NAT: %s saw %s, %s saw %s: want one mapping for every destination", targets[0], mapped[0], targets[i], a)
				}
			}
			if mapped[0].Port() != probePort {
				t.Errorf("cone NAT: mapped port %d, want the source port %d kept", mapped[0].Port(), probePort)
			}
		case Symmetric:
			seen := map[uint16]string{}
			for i, a := range mapped {
				if other, ok := seen[a.Port()]; ok {
					t.Errorf("symmetric NAT: %s and %s saw the same port %d: want a new port per destination", other, targets[i], a.Port())
				}
				seen[a.Port()] = targets[i]
			}
		}
		if p.HasLine(`probe: stray .*`) {
			t.Errorf("%s NAT let in a packet from a port the host never sent to:\n%s\n%s", r.NAT(h), p.Transcript(), r.Ruleset(h))
		}
		p.Exit(5 * time.Second)
	}
}

// TestRigHolePunch: two hosts learn their public address:port from a
// reflector, are told each other's, and send to it at the same moment
// (each side's first packet typically reaches the other's router before
// that router has seen the reply flow). Between two cone NATs both get
// through; between a symmetric and a cone NAT neither does: the symmetric
// side's packets come from a port the cone router never sent to, and the
// cone side's go to a port that the symmetric router mapped toward the
// reflector only.
func TestRigHolePunch(t *testing.T) {
	r := New(t, "pumpnet-natrig-", Config{Homes: []NAT{Cone, Cone, Symmetric, Cone}})
	exe := testExe(t)
	run := "-test.run=^TestRigHelperProcess$"
	p := r.RunPublic(0, "reflect", []string{roleEnv + "=reflect"}, exe, run)
	p.WaitLine(`reflect: ready`, 20*time.Second)
	env := []string{roleEnv + "=punch", fmt.Sprintf("%s=%s:%d", targetsEnv, r.PublicAddr(0), reflectPortA)}
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		var ps [2]*netnstest.Proc
		var mapped [2]string
		for k, h := range pair {
			ps[k] = r.RunHome(h, 0, fmt.Sprintf("punch-home%d-%s", h+1, r.NAT(h)), env, exe, run)
			_, m := ps[k].WaitLine(`punch: mapped (\S+)`, 20*time.Second)
			mapped[k] = m[1]
		}
		// Both at once.
		for k := range ps {
			fmt.Fprintf(ps[k].Stdin(), "peer %s\n", mapped[1-k])
		}
		direct := r.NAT(pair[0]) == Cone && r.NAT(pair[1]) == Cone
		var through [2]bool
		for k, p := range ps {
			p.WaitLine(`punch: done`, 20*time.Second)
			got := p.HasLine(`punch: got from ` + regexp.QuoteMeta(mapped[1-k]))
			through[k] = got
			switch {
			case direct && !got:
				t.Errorf("%s (%s) heard nothing from %s (%s) between two cone NATs:\n%s\n%s", p.Name(), mapped[k], ps[1-k].Name(), mapped[1-k], p.Transcript(), r.Ruleset(pair[k]))
			case !direct && p.HasLine(`punch: got from .*`):
				t.Errorf("%s got through from behind a symmetric NAT to a cone NAT:\n%s", p.Name(), p.Transcript())
			}
		}
		t.Logf("%s NAT (%s) and %s NAT (%s) punching at once: each heard the other: %v", r.NAT(pair[0]), mapped[0], r.NAT(pair[1]), mapped[1], through)
		for _, p := range ps {
			p.Exit(5 * time.Second)
		}
	}
}

// TestRigHelperProcess is a rig host's program when re-executed by the
// tests above (roleEnv set); otherwise it does nothing.
func TestRigHelperProcess(t *testing.T) {
	role := os.Getenv(roleEnv)
	if role == "" {
		t.Skip("helper process of the rig tests (runs inside a rig namespace)")
	}
	if err := CheckInside(); err != nil {
		t.Fatal(err)
	}
	switch role {
	case "reflect":
		reflect(t)
	case "probe":
		probe(t, strings.Split(os.Getenv(targetsEnv), ","))
	case "punch":
		punch(t, os.Getenv(targetsEnv))
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// reflect answers every datagram on reflectPortA and reflectPortB with the
// source address it came from, after sending a stray datagram to that
// address from strayPort; it runs until stdin closes.
func reflect(t *testing.T) {
	stray, err := net.ListenUDP("udp4", &net.UDPAddr{Port: strayPort})
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	for _, port := range []int{reflectPortA, reflectPortB} {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: port})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			buf := make([]byte, 1500)
			for {
				_, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				fmt.Printf("reflect: %d from %s\n", port, from)
				stray.WriteToUDPAddrPort([]byte("stray"), from)
				c.WriteToUDPAddrPort([]byte(from.String()), from)
			}
		}()
	}
	fmt.Println("reflect: ready")
	io.Copy(io.Discard, os.Stdin)
}

// probe sends from probePort to every target until each has answered
// with the address it saw, prints those, then listens a second longer for
// anything else (which it prints as a stray).
func probe(t *testing.T, targets []string) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: probePort})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := map[netip.AddrPort]bool{}
	for _, s := range targets {
		a, err := netip.ParseAddrPort(s)
		if err != nil {
			t.Fatal(err)
		}
		want[a] = true
	}
	got := map[netip.AddrPort]bool{}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(20 * time.Second)
	var doneAt time.Time
	for {
		if len(got) == len(want) && doneAt.IsZero() {
			doneAt = time.Now().Add(time.Second)
		}
		if !doneAt.IsZero() && time.Now().After(doneAt) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("answers from %d of %d targets in 20 s", len(got), len(want))
		}
		if doneAt.IsZero() {
			for a := range want {
				if !got[a] {
					c.WriteToUDPAddrPort([]byte("probe"), a)
				}
			}
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !want[from] {
				fmt.Printf("probe: stray from %s: %q\n", from, buf[:n])
				continue
			}
			if !got[from] {
				got[from] = true
				fmt.Printf("probe: %s mapped %s\n", from, buf[:n])
			}
		}
	}
	fmt.Println("probe: done " + strconv.Itoa(len(got)))
	io.Copy(io.Discard, os.Stdin)
}

// punch learns its public address from the reflector at target and
// prints it, reads "peer ADDR" from stdin, sends to ADDR every 50 ms for
// 3 s while printing who gets through, then waits for stdin to close.
func punch(t *testing.T, target string) {
	refl, err := netip.ParseAddrPort(target)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: probePort})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for mapped := ""; mapped == ""; {
		c.WriteToUDPAddrPort([]byte("probe"), refl)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err == nil && from == refl {
			mapped = string(buf[:n])
			fmt.Printf("punch: mapped %s\n", mapped)
		}
	}
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		t.Fatal("no peer line on stdin")
	}
	peerStr, ok := strings.CutPrefix(in.Text(), "peer ")
	peer, err := netip.ParseAddrPort(peerStr)
	if !ok || err != nil {
		t.Fatalf("stdin: %q, want peer ADDR (%v)", in.Text(), err)
	}
	heard := map[netip.AddrPort]bool{}
	end := time.Now().Add(3 * time.Second)
	for time.Now().Before(end) {
		c.WriteToUDPAddrPort([]byte("punch"), peer)
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		for {
			_, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if from != refl && !heard[from] {
				heard[from] = true
				fmt.Printf("punch: got from %s\n", from)
			}
		}
	}
	fmt.Println("punch: done")
	for in.Scan() {
	}
}
