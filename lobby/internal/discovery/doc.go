// Package discovery finds pumpnet games on the LAN: each peer or server
// advertises a Record under a DNS-SD service name and browses for the
// records of others (DESIGN decision 4, lobby sketch §5).
//
// Two backends implement Backend: MDNS, which speaks mDNS/DNS-SD through
// hashicorp/mdns, and Memory, a registry inside the process for tests and
// for several peers in one program. Both run the same TXT encoding,
// validation, filtering and aggregation.
//
// # Decisions
//
//   - hashicorp/mdns is wrapped, not exposed: its Query blocks for its
//     timeout, drops results on an unbuffered channel, passes on answers
//     for other services, mutates entries after sending them, sends no
//     goodbyes and logs to stderr. Browse therefore polls (one goroutine,
//     every 0.25 s or more, default 1 s) with a buffered channel that it
//     reads only after the query returned, keeps only
//     "<instance>.<service>.local." answers, logs nothing, and forgets a
//     record missed in MDNS.MissedPolls consecutive polls (default 3).
//     Departures are noticed sooner by the connection itself.
//   - A Record is a dialing hint, not an identity: the dialer pins Record.ID
//     (the key fingerprint) and the handshake verifies it, so a forged
//     record costs a failed handshake, not a wrong peer. Since anyone can
//     advertise any ID, Browse keeps every sighting of an ID (one record
//     per ID, instance label and port; addresses of one sighting merge)
//     rather than picking one that a neighbour could choose for us: at
//     most 4 per ID and 512 in all, sightings already tracked keeping their
//     place (Stats.Overflow counts the rest). A dialer tries the sightings
//     of an ID until one handshake succeeds. Two answers with
//     the same instance label cannot be told apart: hashicorp/mdns merges
//     them into one entry within a query.
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
//     <veth>": hashicorp/mdns joins its query socket's group without naming
//     an interface, which needs a multicast route.
//   - Use &MDNS{Interface: veth, MissedPolls: 2} (never a nil Interface
//     outside a namespace), Advertise with empty Addrs (the veth's
//     addresses), Browse with an interval of MinMDNSInterval or more. The
//     other side's record arrives after at most one interval plus 3/4 of
//     it; after Stop it is gone after MissedPolls more polls.
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
