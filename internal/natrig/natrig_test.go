package natrig

// The rig's self-test: UDP from hosts behind each NAT to two public hosts
// that reflect the source address they see. It proves the masquerade (the
// router's public address, never a private one), the mappings (one public
// port per socket behind the cone NAT, a new one per destination behind
// the symmetric NAT) and the filtering (a packet from a port the home
// never sent to does not come in).

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of a re-executed test binary (TestRigHelperProcess).
const (
	roleEnv    = "PUMPNET_NATRIG_ROLE"    // reflect or probe
	targetsEnv = "PUMPNET_NATRIG_TARGETS" // probe: comma-separated address:port list
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
