// Package webrtc is pumpnet's second transport: WebRTC data channels
// (pion/webrtc v4), the one unreliable datagram path every browser has.
// Its Conn is a netcode.Transport, so the engine runs over either
// (DESIGN.md §7, decision 9): engine.Server.Serve takes a Server's
// connections, engine.ClientConfig.Dial (or, in a browser build,
// engine.Connect with a signaling URL) makes a client of one. It imports
// netcode for the vocabulary it shares with the engine (Message,
// Fingerprint, CloseCode, CloseError, Stats, Transport), never engine.
//
// # Model
//
// A Server owns one UDP socket and answers signaling: a client POSTs a JSON
// offer ({"v":1,"sdp":...,"channels":[...]}) to its http.Handler and gets
// {"v":1,"sdp":...,"fingerprint":...} back, with every candidate already in
// the SDP (no trickle). The server is ICE-lite: its only candidates are the
// addresses of its socket (or ServerConfig.PublicAddrs), all connections
// share that one port, and it never sends connectivity checks of its own.
// Listen also serves the handler over HTTP on the same port number; mount
// the Server in your own http.Server for HTTPS or to serve pages beside it.
// Dial is the client, native or, under GOOS=js GOARCH=wasm, on the
// browser's RTCPeerConnection (pion's wasm build), with the same code.
//
// ConnectPeer connects two peers, neither of them a Server, for players
// behind home NATs (DESIGN.md §8): both run full ICE, gather host,
// server-reflexive (STUN) and relayed (TURN) candidates from
// Config.ICEServers, and exchange offer and answer (the same JSON as the
// HTTP exchange) over a Signaler the application provides, such as a
// rendezvous server's relay. ICE then picks a working pair: a direct path
// when the NATs allow hole punching (endpoint-independent mappings on both
// sides), else the TURN relay (a symmetric NAT facing a port-restricted
// one). Either side pins the other's key with PeerOptions.Fingerprint.
// The NAT tests (nat_test.go, on internal/natrig) cross real nftables
// NATs in network namespaces: two cone NATs connect directly, a symmetric
// and a cone one through TURN.
//
// Each configured channel i is a negotiated data channel (negotiated: true,
// SCTP stream i, so no DCEP round trip), plus a control channel (stream
// MaxChannels) for close reasons and pings:
//
//   - ReliableOrdered: ordered, reliable.
//   - ReliableUnordered: unordered, reliable.
//   - Unreliable: unordered, maxRetransmits 0.
//   - UnreliableSequenced: as Unreliable, with a 4-byte sequence number in
//     front; a message older than the newest delivered is dropped.
//
// Both sides must list the same channels (the server answers 409
// otherwise), as with netcode.
//
// # Mapping to netcode.Conn
//
//   - Send(channel, msg) copies msg into the channel's SCTP send buffer and
//     returns at once; a buffer holding Config.SendQueueBytes returns
//     ErrQueueFull. It never blocks.
//   - Flush does nothing: SCTP sends at once and bundles small messages.
//   - Receive, Wake (capacity 1), Done, Err, Close, CloseWithReason,
//     Shutdown, RemoteAddr and PeerFingerprint mean what they mean in
//     netcode. The close reason travels on the control channel before the
//     peer connection closes; Shutdown waits until every channel's
//     bufferedAmount is 0 (natively: acknowledged by the peer's SCTP).
//   - Stats: RTT from control-channel pings; bytes and packets of the
//     selected ICE pair (pion's GetStats; in a browser, payload counts);
//     Loss from gaps in UnreliableSequenced numbers only (SCTP does not
//     expose its loss). netcode's resend, pacing and authentication
//     counters have no counterpart.
//   - Receive queue: natively, a full queue stops reading a reliable
//     channel (SCTP flow control holds the sender back, as netcode's
//     window does); a browser has no receive flow control, so it ends the
//     connection with CodeReceiveOverflow. Unreliable messages are dropped
//     when the queue is full.
//   - Messages are at most Config.MaxMessageSize: 256 KiB by default, what
//     Chromium and Firefox accept (a=max-message-size), 1 MiB at most
//     between native peers. The bound is advertised in the SDP and
//     enforced on receipt.
//
// # Trust
//
// DTLS keys the data channels, and WebRTC checks the peer's certificate
// against the hash in the SDP it received. So whoever can change the
// answer in transit can impersonate the server: in production, signaling
// runs over HTTPS, and then the signaling server's TLS certificate vouches
// for the answer. A native client (or a page given the value) can also pin
// the server's key: DialOptions.Fingerprint is checked against the
// certificate DTLS saw (getRemoteCertificates in a browser). The
// Fingerprint is the SHA-256 of the certificate's public key, as netcode's:
// a server given its netcode identity (Config.Certificate from
// netcode.LoadKeyFile) has the same fingerprint on both transports, so one
// connect string pins both. Dial refuses http signaling with neither a
// pin nor InsecureAcceptAnyServer.
//
// A browser peer's PeerFingerprint is the key of the certificate its
// RTCPeerConnection made: a new one per connection unless the page keeps
// one (RTCPeerConnection.generateCertificate, stored in IndexedDB). It
// names the connection, not the player; game code that needs a lasting
// identity for browser players must authenticate them in-game (a token
// from the page's login).
//
// # Limits
//
// Signaling and handshakes are bounded (SECURITY.md, "Browser peers"):
//
//   - An offer is at most ServerConfig.MaxOfferBytes (64 KiB); a larger
//     Content-Length is refused (413) before any of it is read, and a
//     body is read through a bound, never allocated from its declared
//     length. The body must arrive within Config.HandshakeTimeout (the
//     handler sets the connection's read deadline, so a mounted handler
//     is bounded even in an http.Server without timeouts): else 408.
//   - One source address (IPv4, or IPv6 /64; ServerConfig.SourceAddr
//     behind a reverse proxy) holds at most ServerConfig.MaxHandshakesPerIP
//     signalings and pending handshakes at once (default a quarter of the
//     pending slots, 8): more get 429 at once, before the body is read.
//   - ServerConfig.MaxPendingHandshakes (32) bounds the handshakes between
//     an answered offer and open channels; an offer is given a slot only
//     once it is read and parsed, and more get 503 at once.
//   - Config.HandshakeTimeout (10 s) bounds each handshake from the
//     signaling exchange to open channels: a peer that goes silent after
//     its offer, or completes ICE and stalls DTLS or SCTP, is closed and
//     freed (its slots, peer connection and goroutines) by then.
//   - 429 and 503 carry Retry-After and make Dial return ErrRefused: a
//     client may retry, and gets a slot once pending handshakes end.
//   - The accept queue (ServerConfig.AcceptQueue, 64) bounds connections
//     made but not taken by Accept; beyond it they are closed with
//     CodeServerBusy.
//
// No mDNS and no TCP candidates are used; STUN and TURN only when
// Config.ICEServers lists them (a Server, ICE-lite, never uses them). A
// Signaler's message (ConnectPeer) is at most MaxSignalBytes. A
// connection's messages reach the engine through the same per-Pump budget
// as a native peer's (engine.MaxDispatchPerPump).
//
// # Example
//
//	srv, _ := webrtc.Listen("127.0.0.1:31426", nil)
//	go func() {
//		c, _ := srv.Accept(ctx)
//		for range c.Wake() {
//			for m, ok := c.Receive(); ok; m, ok = c.Receive() {
//				c.Send(m.Channel, m.Data) // echo
//			}
//		}
//	}()
//	c, _ := webrtc.Dial(ctx, srv.SignalURL(), nil,
//		webrtc.DialOptions{Fingerprint: srv.Fingerprint()})
//	c.Send(0, []byte("hello"))
package webrtc
