// Package natrig builds home networks behind NAT routers out of Linux
// network namespaces, for tests of NAT traversal (DESIGN.md §8): a
// "public" segment holding servers (rendezvous, STUN, TURN) and routers,
// and behind each router a private LAN with its own hosts.
//
//	        public segment 203.0.113.0/24: bridge br0 in namespace "pub"
//	+-----------------+---------------------+---------------------+-- ...
//	|                 |                     |                     |
//	s1 .10            s2 .11                wan .101              wan .102
//	public hosts:     (optional)          [ router r1 ]         [ router r2 ]
//	STUN, TURN,                           [ nft: Cone ]         [ nft: Symmetric ]
//	signaling                               lan 192.168.1.1       lan 192.168.2.1
//	                                        |  (bridge)           |  (bridge)
//	                                        r1h1 192.168.1.10     r2h1 192.168.2.10
//	                                        r1h2 192.168.1.11     ...
//	                                        (default via .1)      (default via .1)
//
// Every host has one interface, veth0. Public hosts and routers' wan legs
// have a default route to a sink on the public segment (203.0.113.254,
// a permanent neighbour entry nobody answers): packets to addresses the
// rig does not have (a peer's private host candidate) are lost on the
// wire, as on the internet, instead of failing with "network is
// unreachable", which makes coturn stop relaying an allocation. A router has a veth
// "wan" on the public bridge and a bridge "lan" that its home's hosts plug
// into; it forwards, and its nftables table (in its own namespace only)
// does the NAT:
//
//   - Cone: "masquerade" on wan. Linux keeps a flow's source port when no
//     other flow holds it, so a socket keeps one public address:port
//     toward every destination: endpoint-independent mapping.
//   - Symmetric: "masquerade fully-random": each new destination
//     address:port gets a new random public port (endpoint-dependent
//     mapping), so the port a STUN server sees is useless to a peer.
//   - Both: only replies to flows the home started come in: a masquerade
//     maps back only a packet that matches a conntrack entry, address and
//     port (address-and-port-dependent filtering, a "port-restricted cone"
//     in RFC 3489's words, as most home routers are). Hole punching works
//     between two Cone homes because each side's outgoing check opens its
//     router for the other's address:port. The table also drops, in input
//     and forward, anything new from wan ("ct state new drop"), before
//     conntrack confirms it: a punch that arrives before ours left then
//     leaves no entry behind whose tuple would push our own mapping onto
//     another port.
//     A Symmetric home and a Cone home cannot reach each other directly
//     (the symmetric side's port toward the peer is not the one its peer
//     learns), so ICE must fall back to TURN.
//
// There is no hairpinning (hosts of one home talk over their LAN) and no
// IPv6 anywhere. Nothing appears in the root namespace: every veth is
// created with both ends inside rig namespaces, nft runs only inside router
// namespaces, and t.Cleanup deletes every namespace (and with them their
// links and tables), then checks that nothing is left. New skips the test,
// saying why, without Linux, root, iproute2's ip or nftables' nft.
//
// Processes run inside a host with Rig.RunPublic and Rig.RunHome
// (netnstest.Proc: watched line by line, killed at cleanup); tests
// usually re-execute their own binary in a helper role, as
// internal/netnstest's users do.
package natrig
