// Package netcode is pumpnet's transport: secure UDP connections with
// reliable and unreliable channels, for games.
//
// # Model
//
// An Endpoint owns one UDP socket. It can Accept connections (when made by
// Listen) and Dial them, on the same port. A Conn carries messages on
// numbered channels, each with a DeliveryMode (Config.Channels; default one
// ReliableOrdered channel):
//
//   - ReliableOrdered: exactly once, in order.
//   - ReliableUnordered: exactly once, as they arrive.
//   - Unreliable: at most once, as they arrive.
//   - UnreliableSequenced: at most once, never older after newer.
//
// Send copies a message into the connection's bounded queue and returns at
// once (ErrQueueFull when the queue is full; it never blocks). Flush packs
// everything queued into as few datagrams as possible (1200 bytes on the wire
// by default); if the application does not Flush, a timer does after
// Config.FlushDelay. Messages larger than a datagram are fragmented up to
// Config.MaxMessageSize (1 MiB by default); a large unreliable message stays
// unreliable (it is dropped whole if a fragment is lost). Receive returns
// delivered messages without blocking; Wake (per Conn or per Endpoint) tells
// a sleeping loop that there is something to receive.
//
// Acknowledgements, resends, keepalives and timeouts run on netcode's own
// goroutines, so a connection survives an application that stops calling
// Receive for a while (its peer's reliable data then waits: flow control).
// Acknowledgements ride on the connection's own packets: one owed for
// packets that arrived in order waits up to 25 ms (longer than a game's
// tick) for the next state or input to carry it; a gap, or a second
// unacknowledged packet, is acknowledged at once (PROTOCOL.md §5.1). Stats.OldestUnacked is the age of the oldest reliable message the peer
// has not acknowledged: it stays within a few round trips while the stream
// makes progress, so a reliable stream that stalls (the peer's game stopped
// reading, or the path carries keepalives but not data) is never silent.
//
// # Security
//
// Encryption is always on. A DTLS 1.2 handshake (pion/dtls v3, extended
// master secret required) authenticates the peers in one of three modes:
//
//   - pinned keys (default): each endpoint has a self-signed ECDSA P-256
//     certificate; its Fingerprint (SHA-256 of the public key) is its
//     identity, and the dialer pins the server's (DialOptions.Fingerprint).
//     Servers learn every client's fingerprint (Conn.PeerFingerprint).
//   - CA-verified: Config.RootCAs and DialOptions.ServerName.
//   - pre-shared key: Config.PSK and Config.PSKIdentity (ECDHE-PSK suites).
//
// Then packets are protected by netcode itself with keys exported from the
// handshake (AES-128-GCM, or ChaCha20-Poly1305 by Config.Suite): strictly
// increasing packet numbers, nonce = IV XOR packet number, the header as
// associated data, a 1024-packet replay window checked before and updated
// after authentication, key updates every 2^20 packets, and a bound on
// authentication failures. Before any handshake state exists, a stateless
// cookie exchange validates the client's address, so spoofed floods cost
// the server nothing but a 25-byte reply; a server never sends an address
// more than three times what it received before the handshake completes.
// Handshake slots (Config.MaxHandshakes) go only to a valid cookie followed
// by a syntactically valid ClientHello, at most Config.MaxHandshakesPerIP
// per source IP (IPv6: per /64), none to a source that failed
// Config.MaxFailedHandshakesPerIP handshakes in the last minute; when slots
// are short, a handshake that stalled (no second flight from the client
// within 1 s of the server's answer, or 5 s old) loses its slot to a
// newcomer from a source that holds and failed less. A dialing client
// repeats its first flight every 250 ms until the server answers, so it
// gets in soon after a slot frees; a server that lost a handshake it had
// answered says so (HANDSHAKE_LOST) and the client starts a fresh one. A full accept backlog (Config.AcceptBacklog)
// makes new connections wait for Accept; it never refuses them.
// netcode/PROTOCOL.md is the wire specification.
//
// # Closing
//
// Close ends a connection at once and tells the peer (best effort),
// discarding what was not yet acknowledged: if that included reliable
// messages, the peer sees CodeUnsentData (matching ErrUnsentData) instead
// of CodeNormal, so it can tell a truncated stream from a whole one.
// Shutdown, the graceful way, first waits until every reliable message was
// acknowledged. Both are idempotent. A connection that hears nothing for
// Config.IdleTimeout (10 s) ends with CodeTimeout; idle connections send a
// PING every Config.KeepAlive (1 s). After a connection ends, Err returns a
// *CloseError (code, reason, who closed) that matches net.ErrClosed, and
// ErrTimeout, ErrRefused (CodeServerBusy, CodeRefused) or ErrUnsentData by
// its code.
//
// # Example
//
//	srv, _ := netcode.Listen("127.0.0.1:31425", nil)
//	go func() {
//		c, _ := srv.Accept(ctx)
//		for range c.Wake() {
//			for m, ok := c.Receive(); ok; m, ok = c.Receive() {
//				c.Send(m.Channel, m.Data) // echo
//			}
//			c.Flush()
//		}
//	}()
//	c, _ := netcode.Dial(ctx, "127.0.0.1:31425", nil,
//		netcode.DialOptions{Fingerprint: srv.Fingerprint()})
//	c.Send(0, []byte("hello"))
//	c.Flush()
//
// # I/O path
//
// A connection seals its packets under its own lock into its endpoint's
// bounded outbound queue and never makes a system call under that lock:
// the goroutine that flushed writes them once the lock is released, and
// what the endpoint's reader goroutine sealed while handling datagrams
// (acknowledgements, data the acknowledgements released, cookie replies)
// goes to a writer goroutine, so the reader never waits on the socket or
// on a connection that is flushing. Each connection's packets leave in
// the order it sealed them. The queue holds at most 4,096 packets: a
// connection that finds it full waits, without polling, until the drainer
// makes room and seals for it (as a full socket buffer would make it wait). On Linux, reads and writes on a *net.UDPConn
// are batched: recvmmsg takes up to 32 datagrams at once, and a batch
// that found the socket's queue empty waits for the next datagram without
// the read that would only say so (one system call per datagram on a
// quiet socket, not two), sendmmsg up to 64; other platforms and other
// PacketConns (the in-memory network, the link conditioner, wrappers)
// move one datagram per call. Endpoint.FlushAll flushes every connection
// and writes all their packets together: a server's broadcast to N
// clients is a few sendmmsg calls (EndpointStats.ReadCalls, WriteCalls).
//
// Sockets get 7 MiB send buffers as quic-go sizes them; receive buffers
// stay the OS's unless Config.ReceiveBufferBytes asks (a deep receive
// queue is a latency queue for a game that falls behind, and helps a
// handshake flood); one warning through Config.Logger when the OS caps
// them. Sending is paced by a token bucket at the congestion controller's
// rate (at most a millisecond of the rate, or 10 datagrams, at once). A
// datagram the local socket refuses (ENOBUFS) is resent like a lost one,
// but its loss is not taken for congestion: the rate does not back off
// (EndpointStats.LocalDrops).
//
// # Memory
//
// Buffers grow on demand and are shared while idle. Reads go into 2 KiB
// slots until a peer with a larger Config.MaxDatagramSize sends a longer
// datagram (lost once, truncated; the endpoint reads into 64 KiB slots
// from then on). On Linux an endpoint borrows its batch of read slots and
// message headers from a process-wide pool when its socket has data and
// gives them back when a read finds the socket empty, and a sendmmsg call
// borrows its headers for the call: an idle endpoint holds no I/O buffer.
// A reliable channel's window of messages in flight starts at 16 entries
// and doubles up to Config.ReliableWindow as needed. What a connection
// keeps for reuse (message buffers and records, queues, window tables, and
// the endpoint's free packet buffers) and did not use for a trim interval
// (2 s) goes back to the garbage collector: after a burst, a quiet
// connection returns to its idle size within about 4 s, and a busy one
// keeps what it uses, allocating nothing. An idle connection
// costs a server about 9 KB (BenchmarkIdleMemory's netcode row); an engine
// connection's bound, on both sides, is in the engine's documentation.
//
// # Link conditioner
//
// Config.Link puts latency, jitter, loss (independent or bursty,
// Gilbert-Elliott), duplication, reordering and a bandwidth cap between an
// endpoint and its socket, per direction. It is meant for tests and for
// games' "-lag 80ms -loss 2%" flags, in release builds too.
package netcode
