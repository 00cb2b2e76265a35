// Package rendezvous lets players on different networks find each other:
// a server holds rooms with short codes and a public room list per
// service, relays each member's session record (what mDNS carries on a
// LAN: key fingerprint, protocol version, seats, name) and relays
// connection signaling (e.g. WebRTC SDP offers and answers) between
// members. It also answers STUN, can relay as a TURN server (pion/turn),
// and hands each member the STUN and TURN servers to use with
// time-limited TURN credentials, for its own relay or for a third-party
// one such as coturn. The lobby uses its Client to play over the internet
// (DESIGN.md decision 10); peers then connect to each other through ICE,
// not through the rendezvous.
//
// A complete server (cmd/rendezvous adds flags, TLS and shutdown):
//
//	package main
//
//	import (
//		"log"
//		"net"
//		"net/http"
//
//		"github.com/pumpnet/pumpnet/rendezvous"
//	)
//
//	func main() {
//		srv, err := rendezvous.NewServer(rendezvous.Config{ // defaults below
//			PublicSTUN: "198.51.100.7:7777",                           // offered to members
//			TURN:       rendezvous.TURNConfig{Public: "198.51.100.7:3478"}, // the embedded relay
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//		pc, err := net.ListenPacket("udp", ":7777")
//		if err != nil {
//			log.Fatal(err)
//		}
//		go srv.ServeSTUN(pc)
//		tc, err := net.ListenPacket("udp", ":3478")
//		if err != nil {
//			log.Fatal(err)
//		}
//		go srv.ServeTURN(tc)
//		log.Fatal(http.ListenAndServe(":7777", srv))
//	}
//
// And a member (see Example for one that runs):
//
//	cert, _ := netcode.LoadKeyFile("player.key")
//	c, _ := rendezvous.NewClient("https://rdv.example.org", cert, nil)
//	room, _ := c.Create(ctx, "lightcycle", true, rendezvous.Record{Version: 1, Seats: 3, Name: "Ann"})
//	fmt.Println("tell your friends:", room.Code)
//	ice := room.ICEServers() // STUN and TURN with credentials, for webrtc.Config.ICEServers
//	for {
//		ev, err := room.Poll(ctx) // roster changes and signals
//		...
//		room.Signal(ctx, ev.Members[1].ID, offer)
//	}
//
// # Protocol
//
// HTTP/1.1 or HTTP/2 with JSON bodies, so browser games (wasm) can use it
// with fetch; CORS is allowed from any origin (Config.AllowOrigin). Every
// endpoint but the list is a POST; unknown JSON fields are errors. Errors
// answer {"code": "...", "error": "..."} with the HTTP status named at
// each Err variable.
//
//	POST /v1/nonce   {}                                     -> {"nonce", "ttl_ms"}
//	POST /v1/create  {"service", "public", "record", "proof"} -> {"code", "id", "token", "ice_servers"?}
//	POST /v1/join    {"code", "record", "proof"}            -> {"code", "id", "token", "ice_servers"?}
//	GET  /v1/rooms?service=S                                -> {"rooms": [{"code", "members", "max_members", "creator"}]}
//	POST /v1/poll    {"token", "roster", "ack"}             -> {"roster", "members"?, "signals"?, "ice_servers"?}
//	POST /v1/signal  {"token", "to", "data"}                -> {}
//	POST /v1/update  {"token", "record"}                    -> {}
//	POST /v1/leave   {"token"}                              -> {}
//
// Identity is proven, not claimed. A member fetches a nonce, then signs
// SHA-256("pumpnet-rendezvous-v1" 0x00 host 0x00 nonce) with its ECDSA
// P-256 key (ASN.1, or WebCrypto's 64-byte r||s) and sends the signature
// with its DER certificate ("proof": {"nonce", "cert", "sig"}, bytes in
// base64). host is the HTTP Host the member addressed, so a proof made for
// one server does not work at another. The server consumes the nonce (once,
// within Config.NonceTTL, even when the proof then fails), verifies the
// signature and takes the member's ID from the certificate's key: the
// netcode.Fingerprint of that key, in hex. A record naming another ID is
// refused. The answer's token (secret: use HTTPS) authenticates the
// member's later requests; the sender of a signal is the token's member,
// never a field of the request. Joining again with the same key replaces
// the earlier membership.
//
// Events come by long-polling: a poll answers at once with the roster when
// its version differs from "roster", or with the signals not yet
// acknowledged ("ack" is the highest Seq received; a lost answer is
// repeated); otherwise it waits up to Config.PollTimeout. A member that
// makes no request for Config.MemberTimeout is removed; a room goes with
// its last member.
//
// "ice_servers" is WebRTC's RTCIceServer list, [{"urls": [...],
// "username", "credential"}], at most 8 entries: the rendezvous's STUN
// (Config.PublicSTUN), its embedded TURN (Config.TURN) and the external
// TURN servers (Config.ExternalTURN), each TURN entry with a credential
// for this member only. Create and join answers carry it (only to the
// member they admit: no other answer ever holds credentials); a poll
// answer carries a fresh list, replacing the old, once the credentials
// held are a third of Config.CredentialTTL old. The field is absent when
// the server offers no ICE server.
//
// # TURN credentials
//
// Credentials follow the TURN REST API scheme
// (draft-uberti-behave-turn-rest): username "<expiry>:<member ID>" with
// expiry a Unix time Config.CredentialTTL (default 10 minutes) after
// issue, password base64(HMAC-SHA1(secret, username)). A TURN server that
// knows the secret checks them with no user list: coturn does with
// use-auth-secret and static-auth-secret (TestCoturnCredentials, and
// TestNATRendezvousCoturn in the webrtc package, relay through coturn with
// them), and so does the embedded one. An expired credential makes no new
// allocation (401); an allocation made in time lives on while its client
// refreshes it, with coturn and with ServeTURN alike, so a game outlives
// its credentials. A member that keeps polling always holds a valid one;
// one that stopped (the lobby, say, once the game began) keeps its
// connections but needs to poll again before it makes new ones. Only
// members get credentials, but a credential is a bearer secret until it
// expires: a member that leaves can still allocate with it until then.
//
// The embedded relay (ServeTURN, pion/turn over UDP; RFC 6062 TCP
// allocations are refused) has these bounds, each a TURNConfig field:
// 1,024 allocations in all, twice Config.MaxMembers per member (a member
// makes one per peer connection), 64 per source (an IPv4 address or an
// IPv6 /64), relay ports 49152-65535, a 10-minute lifetime unless
// refreshed (a client may ask up to an hour), and relaying only to and
// from global unicast, non-private peer addresses (AllowPeer), so the
// relay cannot reach the server's own networks. A refused allocation gets
// 486 (Allocation Quota Reached); other members still allocate
// (TestTURNAllocationBounds). STUN requests to the relay (allocations,
// refreshes, permissions, bindings) count against Config.RequestRate per
// source; relayed data does not. An allocation costs about 11 KiB of heap
// and one goroutine (TestTURNMemoryPerAllocation: 11,052 B), plus one UDP
// socket: about 11 MiB at the default 1,024. The relay's bandwidth is not
// limited: every relayed byte crosses the server twice (in and out).
//
// # Bounds
//
// Every bound is a Config field; the defaults: 10,000 rooms, 8 members a
// room, 16 memberships per source (an IPv4 address or an IPv6 /64), 100
// rooms in a list answer, 32 KiB a body (read through
// http.MaxBytesReader), 16 KiB a signal, 32 signals and 64 KiB waiting per
// member (a signal beyond is refused with ErrQueueFull, nothing is dropped),
// 64 MiB waiting in all, 2 waiting polls a member and 32 a source, 65,536
// nonces outstanding (30 s each), 20 requests/s per source (burst 40),
// 60 s member expiry, 65,536 sources tracked.
//
// Memory: a member takes about 630 bytes without signals (measured by
// TestMemoryPerMember: 625 B with the longest name and service), a full
// room of 8 about 5 KiB; each member's queue adds at most 64 KiB of
// payload, and all queues together at most 64 MiB. At the default bounds
// that is under 50 MiB of rooms and members (80,000 members), 64 MiB of
// signals, and a few MiB of nonces and rate buckets (65,536 each, about
// 100 bytes apiece).
//
// Room codes are 6 characters of a 32-letter alphabet (2^30 codes). They
// cannot be enumerated: a source may join unknown codes 10 times a minute
// (burst 5) and all sources together 600 times a minute (burst 60), plus
// one guess per source per 10 minutes: a source that has not missed for
// 10 minutes is not bound by the server-wide allowance, so guessers
// elsewhere do not lock out players typing a right code. A source that has
// used its allowance is refused every join, so it cannot tell a hit from a
// refusal. TestCodeGuessing measures 104 codes tried by one source in 10
// minutes and 6,240 by 200 sources together (bound 6,461); with
// 10,000 rooms held (the most), one guess finds a room with probability
// 1e4/2^30 ≈ 9.3e-6, so all sources together expect about 8 finds a day
// on a full server and one in about 3.4 years against a single room (a
// single source: 0.13 a day on a full server). A code is
// not a password: a room's members see every joiner's proven key, and the
// lobby's host accepts or denies players.
//
// Run behind a reverse proxy, every request comes from the proxy's address
// and shares one source's rates; run the server at the edge (cmd/rendezvous
// serves TLS itself) or give the proxy generous limits.
//
// For many players run coturn beside the rendezvous (Config.ExternalTURN)
// rather than the embedded relay: it has bandwidth quotas, TCP and TLS
// relaying, and survives a rendezvous restart (an embedded relay's
// allocations end with the process).
package rendezvous
