// Package lobby is the Multipeer Connectivity half of pumpnet: games on one
// LAN, or in one room of a rendezvous server on the internet, find each
// other, form a session of 2-8 peers, lock their seats, and play. The
// session API is the same either way (see Over the internet).
//
// # Sessions
//
// Every peer runs the same code. Join listens on a UDP port, advertises the
// peer over mDNS/DNS-SD as _<ServiceType>._udp and browses for others of the
// same service type. For each pair of peers the lower identity (key
// fingerprint) dials, pinning the fingerprint the other advertised, so a
// pair holds exactly one connection. After the handshake both send a hello
// (identity, display name, initial data); the acceptor checks that the
// identity claimed is the key the dialer proved in the handshake, then asks
// Config.Accept. A peer is added (PeerAdded) once its connection is up and
// its hello arrived; it is removed (PeerRemoved, with the reason) when it
// leaves, times out (Config.Net.IdleTimeout, 10 s) or is closed.
//
// Messages work as on an engine server: Network_<action>(p *Peer, m)
// methods on registered listeners, Handle, HandleFunc; Send(msg, opts...)
// with engine's options — every peer by default, engine.To(peers...),
// engine.Except(peers...), a delivery mode (engine.Unreliable, ...) — and
// byte streams (see Streams). Sending to a peer that is not in the session
// (nil, removed, another session's) is an error matching ErrNotPeer.
//
// StopLookingForPeers locks the seats: the session stops advertising and
// refuses new offers with "session locked"; StartLookingForPeers reopens. A
// full session (MaxPeers, default 8, counting this peer) refuses with
// "session full", and advertises 0 open seats so newcomers can tell before
// they dial; refusals reach the newcomer as PeerRefused. Disconnect leaves
// the session; Close ends everything.
//
// # Lifecycle
//
// A Session keeps engine.Server's contract. Join blocks only while it sets
// up the socket and discovery, and honours its ctx then: a ctx done before
// or during setup makes it undo what it started and return an error
// matching ctx.Err(); the session outlives ctx (ctx's values still reach
// discovery). Pump never blocks; PumpWait(ctx, d) sleeps until there is
// work (messages, connections, discovery, the session's own timers), ctx
// ends, Close is called or d passes, d <= 0 meaning no limit. Every method
// belongs to the Pump goroutine except Close and Wake: Close is safe from
// any goroutine, also while Pump or PumpWait runs, idempotent, unblocks a
// PumpWait in progress, and returns once nothing the session started still
// runs (goroutines, socket, advertisement); like engine.Server.Close it
// discards unacknowledged data. Shutdown(ctx, reason), from the Pump
// goroutine, is the graceful way: it waits (until ctx ends at most) for
// every peer to acknowledge this one's reliable messages, then closes with
// reason, which each peer's PeerRemoved reason carries. After either, Pump
// delivers PeerRemoved for the peers left.
//
// Server returns the engine server under the session, for engine.HandleFunc
// and the like. The session admits its peers (see Seats and admission), and
// the engine server knows it (engine.NewSessionServer): its Peers, the
// "connected" and "disconnected" events and the OnConnect and OnDisconnect
// hooks a game sets on it see admitted peers only, once each ("connected"
// just before PeerAdded, with Peer.Name set; "disconnected" just after
// PeerRemoved); connections that are refused, or never say hello, never
// reach them. The session's own hooks are not those setters, so a game
// setting OnConnect on Server cannot undo its admission. A panic in the
// game's OnConnect closes that peer, which is then never added.
//
// # Seats and admission
//
// Admission is an agreement between the two ends of a pair's one
// connection, and a seat is held on each side before that side agrees:
//
//  1. The dialer (the lower identity) takes a seat before it dials: a
//     session dials only while its admitted peers plus its admissions in
//     progress (dials, and dialed connections waiting for the answer) are
//     fewer than MaxPeers-1.
//  2. The acceptor vets the dialer's hello against the same count of its
//     own (and the lock, the direction, the Accept hook). It refuses by
//     closing the connection with the reason, and the dialer frees its
//     seat and reports PeerRefused; or it admits the dialer (PeerAdded)
//     and answers with its own hello.
//  3. The dialer admits the acceptor when the answer arrives, unless it
//     locked or left in the meantime: then it closes the connection, and
//     the acceptor removes it again (PeerRemoved).
//
// So a session never holds more than MaxPeers-1 peers, seats reserved
// included, however many join at once; and once admissions in progress
// are over, membership is symmetric: if A lists B, B lists A. A
// connection that ends before both hellos arrived frees both seats.
// StopLookingForPeers cancels the dials in flight and closes the
// connections not yet admitted, so no PeerAdded follows it until
// StartLookingForPeers.
//
// Membership is agreed pair by pair, not for the group: when more peers
// than seats look at once, two members of one peer's session need not be
// members of each other (five peers with MaxPeers 3 can settle in a ring,
// each with two peers). With at most MaxPeers peers looking, every pair
// connects and the mesh is complete.
//
// # Callbacks
//
// Listener events (PeerAdded, PeerRemoved, PeerRefused, HostChanged,
// StreamReceived) and the Accept hook run inside Pump, like message
// handlers, and like them under recovery: a panic is recovered and reported as an "error" event
// (Network_error(p *Peer, err error), or Handle("error", ...); p is nil
// for HostChanged and record refusals) whose error matches
// engine.ErrPanic. The other listeners still get the event and the
// session carries on; a panicking Accept hook refuses the peer with
// "accept hook failed".
//
// Host is the lowest identity among this peer and its connected peers:
// every peer agrees on it once the mesh is complete, and HostChanged tells
// when it changes (the host left).
//
// # Streams
//
// A Stream is a reliable, ordered stream of bytes with one peer, carried
// beside its messages (Multipeer's streams): Stream(p) is the unnamed one;
// OpenStream(p, name) opens a named one, which the peer's side opens when
// the first bytes arrive; Streams(p) lists them. Config.Streams declares
// streams that the session opens with every peer as it is admitted, before
// PeerAdded, on both sides, without either game opening them (peerpy's
// initialize_streams).
//
// A declared stream with a ChunkSize N is fixed-size (peerpy): Write takes
// whole chunks only (another length is an error matching ErrChunkSize at
// Write time, and nothing is sent), and the reader gets every chunk as
// exactly N bytes. A chunk of another size from the peer closes that
// stream, and only it: what arrived before stays readable, then Read, Write
// and Err return an error matching ErrChunkSize that names the peer, the
// stream and the sizes; later chunks on it are dropped and it never
// reopens. The peer, its other streams and the other peers carry on.
//
// Data arrives in one of two ways. With no StreamReceived listener, it
// waits in the stream for Read, which never blocks (0, nil when nothing
// has arrived). A listener with a StreamReceived(p *Peer, stream string,
// data []byte) method (Multipeer's stream_receive; Register checks the
// signature) gets every chunk instead, inside Pump, on the goroutine that
// calls Pump, in the order sent, one call per chunk on a fixed-size
// stream; data is valid only during the call (the session reuses its
// memory), so copy what must be kept. There is no queue in between: a
// chunk is handed over as Pump takes its message from the connection.
//
// Streams follow io.Reader's conventions: after the peer's removal Read
// returns what had arrived, then io.EOF for good, and Write fails; a
// removed peer's stream never reopens. Everything is bounded: at most
// MaxStreams named streams per peer (a peer that opens more is
// disconnected), names of at most MaxStreamName bytes, chunk sizes of at
// most MaxChunkSize, and MaxStreamBuffer bytes unread across a peer's
// streams (a peer that sends more while the game does not read is
// disconnected).
//
// # Discovery
//
// Discovery speaks mDNS/DNS-SD (RFC 6762/6763) with its own responder and
// querier, beside Avahi and Bonjour on port 5353: the LAN is polled every
// Config.PollInterval (500 ms) with multicast queries, and a peer missing
// from 3 polls is gone (an advertisement that stops multicasts a goodbye;
// the connection's own end is noticed first anyway). Responders multicast
// a record at most once a second, so a peer that starts browsing just
// after another asked may find the others up to a second later.
// The advertisement's TXT record carries only what is needed to dial and
// verify (identity, protocol version, open seats, display name if it fits),
// under 400 bytes, validated both ways; initial data travels in the hello,
// never on the LAN. Config.Interface picks the interface.
//
// Records are hints and the authenticated connection is the truth: anyone
// on the LAN can advertise any identity at any address, and identities
// are free to make up. A record that says 0 seats for an identity this
// session was never with is reported once as PeerRefused(nil, ...)
// matching ErrSessionFull; these events are rate-limited to 8 at once and
// then one a second (the rest are dropped), and what a session remembers
// per identity (peers to redial later, peers it was with, full sessions
// reported) is bounded to 64 identities each, the oldest forgotten first. Discovery keeps
// every sighting of an identity (each instance label and port it is
// advertised under, up to 4), and the session gathers the addresses of all
// the sightings that offer a seat, IPv4 first, and dials them one at a
// time, each pinning the identity: a dial that fails (another key answered,
// or nothing did within the handshake timeout) backs off that address for
// 5 s, not the peer, and the next address is tried at once, least recently
// failed first. A peer reads as full only if every sighting of it says 0
// seats. Records that cannot be dialed (port 0, an unspecified, broadcast
// or multicast address, a negative seat count) are never dialed, whatever
// the discovery backend passes.
//
// # Over the internet
//
// Players on different networks meet in a room of a rendezvous server
// (package rendezvous; cmd/rendezvous runs one). Config.Rendezvous is the
// server's URL; one player sets CreateRoom (PublicRoom lists the room in
// the server's public list of the ServiceType) and Session.Room returns
// the room's code, which the others pass as Config.Room. Join blocks
// while it creates or joins the room (two round trips), and fails with
// the server's error (rendezvous.ErrRoomNotFound, ErrRoomFull, ...).
// Then everything is as on a LAN: PeerAdded, PeerRemoved, PeerRefused,
// Accept, seats and MaxPeers, StopLookingForPeers, the host, streams,
// Send, Request and Forward.
//
// What changes is underneath. Discovery is the room's roster: the
// session long-polls the rendezvous, and publishes its record there
// (identity, protocol version, seats open, display name) instead of on
// mDNS; a rendezvous member's ID is proven (it signed a nonce with its
// key) and is the session's identity, the fingerprint of the key that
// Config.Net.Certificate or Net.KeyFile gives (a new one otherwise).
// Connections are WebRTC ones (package webrtc, webrtc.ConnectPeer): for
// each pair the lower identity makes the offer, the rendezvous relays the
// offer and the answer, and ICE picks a path: host candidates on one
// network, server-reflexive ones through NATs that allow hole punching
// (STUN), a TURN relay when nothing else works (a symmetric NAT).
// The STUN and TURN servers are those the rendezvous hands out with each
// answer (its own STUN, its embedded TURN relay or a TURN server such as
// coturn, with credentials made for this member and refreshed while it
// polls), after any the game lists in Config.ICEServers. Every signal is
// signed with the sender's identity key and names its recipient; the
// offer's and the answer's SDP carry the fingerprint of the DTLS
// certificate each side will show, which WebRTC's handshake checks, and a
// native peer's DTLS key is its identity key (which the other side checks
// too). So neither the rendezvous nor anyone on the path can stand in for
// a member, and a peer that makes a new DTLS key for each connection (as
// a browser does) is bound to its identity all the same; its Peer's
// Fingerprint is its identity. The connection then goes through the same
// admission as on a LAN (hello, Accept, seats).
//
// Signals from the relay are hostile input: only room members' are
// taken; each is checked (version, kind, the attempt it belongs to, the
// sender's certificate and signature; FuzzOpenSignal), bounded
// (webrtc.MaxSignalBytes, 2 waiting per attempt), and an offer from the
// higher identity of a pair is ignored.
// A session takes one offer a second per peer; a session with no seat
// (locked, full) refuses an offer through the relay, without making a
// connection, and the offerer reports PeerRefused (with a nil peer, as a
// refusal seen in records is). StopLookingForPeers publishes 0 seats
// (the session stays in the room's roster, unlike on a LAN, where it
// stops advertising) and refuses offers with "session locked".
//
// The rendezvous is needed to meet, not to play: connected peers talk
// directly (or through TURN), so a rendezvous that restarts or vanishes
// mid-game ends no game. The session retries failed requests with a
// backoff (250 ms doubling to 30 s) and joins its room again by its code
// if the server forgot its membership (after an outage longer than the
// server's MemberTimeout); a restarted server has lost its rooms, and
// then the session stops asking. Session.RendezvousErr says what the last
// request met. Close and Disconnect leave the room (waiting 2 s at most
// for the server).
//
// A browser build (GOOS=js) joins rooms the same way, so a room holds
// native and browser members together: the browser makes its own DTLS key
// for each connection, and its signed signals bind that key to its
// identity, as above. Tested in headless Chromium beside a native member
// (webrtc/internal/browsertest, TestBrowserInLobbyRoom) and natively with
// a peer that makes a DTLS key per connection
// (TestInternetPeerWithConnectionKeys).
//
// Session.Addr is zero on an internet session (ICE picks its ports);
// Config.Interface restricts ICE to that interface's addresses;
// ListenAddr and PollInterval are LAN settings, and setting them on an
// internet session is an error, as are Room with CreateRoom and either
// without Rendezvous (all matching ErrConfig).
//
// A minimal program (Example_internet runs one):
//
//	s, err := lobby.Join(ctx, lobby.Config{DisplayName: "ann", ServiceType: "chat",
//		Rendezvous: "rdv.example.org:7777", CreateRoom: true}) // or Room: code
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	fmt.Println("room code:", s.Room())
//	s.Register(&room{s}) // the same listener as on a LAN
//	for {
//		s.PumpWait(ctx, 0)
//	}
//
// # Connect by ID
//
// A room member is addressed by its ID: its key fingerprint (the
// rendezvous roster's member ID, netcode.Fingerprint's hex; parse one
// with netcode.ParseFingerprint). Every member of a room is connected to
// every other, directly or through TURN, on demand: as soon as it appears
// in the roster, the lower identity of the pair offers, so a session
// holds one connection per pair and never routes through a third peer.
// Session.Peer(id) returns the member with that ID once it is added (nil
// before, or if it left), and Send(msg, engine.To(p)) or p.Request reach
// it. Where no direct or relayed path exists (no TURN server offered, and
// NATs that defeat hole punching), the pair never connects: the session
// does not route messages through the host by itself. A game can, with
// engine's request forwarding (the host's handler calls Peer.Forward to
// the addressee, p2py's bounce), since the host is connected to both.
//
// # Hosted mode
//
// A PodSixNet-style engine.Server can be found on the LAN too:
// AdvertiseServer makes it visible, Browse lists the servers of a service
// type (name, address, fingerprint, seats open, players), one entry per
// fingerprint (its first sighting by instance label and port), and
// ServerInfo.ConnectString is what engine.Connect takes.
//
// # A complete program
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/engine"
//		"github.com/pumpnet/pumpnet/lobby"
//	)
//
//	type room struct{ s *lobby.Session }
//
//	func (r *room) PeerAdded(p *lobby.Peer) {
//		fmt.Println("joined:", p.Name)
//		p.Send(engine.Msg{"action": "chat", "text": "hello from " + r.s.Name()})
//	}
//	func (r *room) PeerRemoved(p *lobby.Peer, reason error) { fmt.Println("left:", p.Name, reason) }
//	func (r *room) Network_chat(p *lobby.Peer, m engine.Msg) { fmt.Println(p.Name+":", m["text"]) }
//
//	func main() {
//		s, err := lobby.Join(context.Background(), lobby.Config{DisplayName: "ann", ServiceType: "chat"})
//		if err != nil {
//			panic(err)
//		}
//		defer s.Close()
//		s.Register(&room{s})
//		for {
//			s.PumpWait(context.Background(), 0) // until there is something to do
//		}
//	}
package lobby
