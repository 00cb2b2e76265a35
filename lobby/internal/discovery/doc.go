// Package discovery finds pumpnet games on the LAN: each peer or server
// advertises a Record under a DNS-SD service name and browses for the
// records of others (DESIGN decision 4, lobby sketch §5).
//
// Two backends implement Backend: MDNS, which speaks mDNS/DNS-SD (RFC 6762,
// RFC 6763) beside Avahi and Bonjour, and Memory, a registry inside the process for tests and
// for several peers in one program. Both run the same TXT encoding,
// validation, filtering and aggregation.
//
// # Decisions
//
//   - mDNS is our own small responder and querier on github.com/miekg/dns
//     and golang.org/x/net (replacing hashicorp/mdns, DESIGN decision 4,
//     issue 12 defect 13). hashicorp/mdns v1.0.7 cannot be wrapped into
//     RFC 6762 behaviour: its client sends every query from an ephemeral
//     port (Avahi then answers as to a legacy resolver, capped at 512
//     bytes: with ten services Avahi logged "not fitting in legacy unicast
//     packet, dropping" and pumpnet never saw all records), its follow-up
//     asks PTR on the instance name (Avahi does not answer that), and its
//     server answers every query unicast to the source with the OS's TTL
//     64, no cache-flush bits, nothing in the Additional section, no legacy
//     ID or question, and rejects queries with TC set; none of it is
//     configurable. pion/mdns/v2 v2.2.2 (the only other candidate the
//     module proxy serves; grandcat/zeroconf and brutella/dnssd are not
//     available to us) also sends its questions from an ephemeral unicast
//     socket whenever it can open one, and never sets IP TTL 255.
//   - Browse polls (one goroutine, every 0.25 s or more, default 1 s; the
//     lobby uses 0.5 s): a multicast QM query from port 5353 for the PTR,
//     plus SRV and TXT questions by instance name and A/AAAA questions by
//     host name for what it lacks. Answers are cached whenever they arrive
//     (any querier's answers serve every browser), an instance counts as
//     present while its PTR arrived in the last 2 s (responders multicast a
//     record at most once a second), and a record missed in
//     MDNS.MissedPolls consecutive polls (default 3) is forgotten. No QU
//     bit: sockets share port 5353 with Avahi and other processes, and a
//     unicast answer to port 5353 reaches only one of them. No known-answer
//     lists in queries (every poll refreshes every record).
//   - The responder does not probe: instance labels and host names
//     ("<instance>.local.") are unique by construction (the key
//     fingerprint). Answers are not delayed by 20–120 ms. TTLs are 120 s
//     for every record (RFC 6762 recommends 4500 s for PTR and TXT; game
//     sessions come and go). Departures are noticed sooner by the
//     connection itself.
//   - A Record is a dialing hint, not an identity: the dialer pins Record.ID
//     (the key fingerprint) and the handshake verifies it, so a forged
//     record costs a failed handshake, not a wrong peer. Since anyone can
//     advertise any ID, Browse keeps every sighting of an ID (one record
//     per ID, instance label and port; addresses of one sighting merge)
//     rather than picking one that a neighbour could choose for us: at
//     most 4 per ID and 512 in all, sightings already tracked keeping their
//     place (Stats.Overflow counts the rest). A dialer tries the sightings
//     of an ID until one handshake succeeds. Two answers with
//     the same instance label cannot be told apart: the browser keeps the
//     newest SRV and TXT of a name.
//   - TXT keys: id (64 lowercase hex), v (protocol version), s (seats
//     open), p (players, omitted when 0), n (display name, omitted when
//     empty). The port travels in SRV, the addresses in A/AAAA. Strings
//     are printable ASCII without '\\' or '"'; the name is percent-encoded
//     (bytes outside that set and '%', '=') and cut to 63 bytes at a rune
//     boundary; the whole TXT stays below 400 bytes (280 at most). No
//     initial data: it travels in the hello after the handshake.
//   - Browse sends the first snapshot after the first poll (possibly
//     empty), then only changes; the channel holds the latest snapshot
//     only. Snapshots are sorted by ID, instance and port
//     (CompareRecords) and include the browser's own record.
//   - Service names are "_<type>._udp" built by ServiceName (RFC 6335
//     rules, lower case only).
//
// # Testing on a real network
//
// Unit tests never open a socket: they use Memory, and drive MDNS through
// fake queries and responders. A test of the real MDNS backend must keep
// all multicast inside network namespaces it creates and deletes (DESIGN
// §6). What it needs to know:
//
//   - Run one process per namespace (ip netns exec ns1 <test binary>
//     -test.run=...), e.g. the test re-executing itself. Do not setns a
//     locked thread: Browse opens its sockets on its own goroutine, which
//     may run on a thread in the host's namespace.
//   - Give each veth a 10.x address and "ip route add 224.0.0.0/4 dev
//     <veth>" (internal/netnstest does): multicast needs a route.
//   - Use &MDNS{Interface: veth, MissedPolls: 2} (never a nil Interface
//     outside a namespace), Advertise with empty Addrs (the veth's
//     addresses), Browse with an interval of MinMDNSInterval or more. The
//     other side's record arrives after at most a second (its responder's
//     rate limit) plus two intervals (SRV/TXT and A asked when they were
//     not in the PTR answer); after Stop it is gone after MissedPolls
//     more polls.
//   - A real Avahi runs per namespace with its own D-Bus system bus
//     (DBUS_SYSTEM_BUS_ADDRESS), configuration (--file, allow-interfaces,
//     use-ipv6=no, host-name), services directory and /run, in a private
//     mount namespace (unshare -m, bind mount over /etc/avahi/services);
//     see netns_test.go.
//   - If IPv6 is on, a fresh veth's link-local address is tentative for a
//     moment and IPv6 queries may fail: Browse then uses IPv4 only on that
//     interface (Stats.QueryErrors counts it). Disabling IPv6 on the veths
//     keeps the test simple.
//   - MDNS.Stats tells what was received and why entries were dropped.
//
// # Example
//
// A minimal program, with the in-memory backend (swap in
// &discovery.MDNS{Interface: ifc} on a real LAN):
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"net/netip"
//		"strings"
//		"time"
//
//		"github.com/pumpnet/pumpnet/lobby/internal/discovery"
//	)
//
//	func main() {
//		var backend discovery.Backend = discovery.NewMemory()
//		service, err := discovery.ServiceName("lightcycle")
//		if err != nil {
//			panic(err)
//		}
//		ad, err := backend.Advertise(service, discovery.Record{
//			Instance: "0123456789abcdef",
//			Addrs:    []netip.Addr{netip.MustParseAddr("192.168.1.20")},
//			Port:     31425,
//			ID:       strings.Repeat("0123456789abcdef", 4),
//			Version:  1,
//			Seats:    3,
//			Name:     "ann",
//		})
//		if err != nil {
//			panic(err)
//		}
//		defer ad.Stop()
//
//		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
//		defer cancel()
//		found, err := backend.Browse(ctx, service, 500*time.Millisecond)
//		if err != nil {
//			panic(err)
//		}
//		for snapshot := range found {
//			for _, r := range snapshot {
//				fmt.Println(r.Name, r.Addrs, r.Port, r.Seats)
//			}
//		}
//	}
package discovery
