// Package engine is the PodSixNet model in Go: what game code touches.
//
// A Server accepts clients and gives each a Peer (Peer.Value holds the
// game's state for that player). A Client connects to a server. Both
// dispatch messages to handlers by the message's "action": methods named
// Network_<action> on registered listeners (found by reflection once, at
// Register; the catch-all Network gets every message too), handlers added
// with Handle, and typed handlers added with HandleFunc, which decode
// straight into a struct. Every handler runs inside Pump, on the goroutine
// that calls it — once per frame from Ebitengine's Update, or from a
// headless server's tick loop — so game code needs no locks.
//
// # Words
//
// A peer is the other end of one connection: on a server, each connected
// client is a *Peer (PodSixNet calls it a Channel; a lobby's *lobby.Peer
// is the same type). A channel is a lane of one connection inside netcode,
// with its own delivery mode and sequence numbers (ENet's word): the
// engine opens one per Mode, and game code never names them. A Go channel
// (chan) is only ever called that, as in Wake. A session is a lobby's
// group of peers; a client has one connection, to its server.
//
// # A complete program
//
//	package main
//
//	import (
//		"fmt"
//		"log"
//		"time"
//
//		"github.com/pumpnet/pumpnet/engine"
//	)
//
//	// Chat is a message: its Action names the handler. (Without tags,
//	// a field named Action is the action too; other fields keep their
//	// Go names on the wire.)
//	type Chat struct {
//		Action string `msgpack:"action"`
//		Text   string `msgpack:"text"`
//	}
//
//	func main() {
//		srv, err := engine.Listen("127.0.0.1:0", nil)
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer srv.Close()
//		err = engine.HandleFunc(srv, "chat", func(p *engine.Peer, m Chat) {
//			if err := srv.Send(Chat{Action: "chat", Text: "echo: " + m.Text}); err != nil {
//				log.Print(err) // a full queue is an error, never a stall
//			}
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//
//		cl, err := engine.Connect(srv.ConnectString(), nil)
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer cl.Close()
//		done := false
//		err = engine.HandleFunc(cl, "chat", func(_ *engine.Client, m Chat) {
//			fmt.Println(m.Text)
//			done = true
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//		if err := cl.Send(Chat{Action: "chat", Text: "hello"}); err != nil { // queued until connected
//			log.Fatal(err)
//		}
//		for !done {
//			srv.Pump()
//			cl.Pump()
//			time.Sleep(time.Millisecond)
//		}
//	}
//
// # Addresses
//
// A client connects with the connect string Server.ConnectString prints,
// "dtls://host:port#fingerprint" ("host:port#fingerprint" works too): the
// fingerprint pins the server's key. An IPv6 host is written in brackets,
// "dtls://[::1]:31425#<fingerprint>" or "[2001:db8::7]:31425#<fingerprint>"
// (see ParseTarget). A server listening on the unspecified address
// (Listen(":31425") or Listen("[::]:31425")) takes IPv4 and IPv6 clients
// on one dual-stack socket; Peer.Addr shows an IPv4 client's address as
// IPv4 (never v4-mapped). netcode's per-source handshake limits count an
// IPv6 /64 as one source.
//
// # Events
//
// Besides the peer's messages, handlers receive built-in events:
// "connected" (a client: the server's greeting; a server: a new client),
// "socketConnect" (a client: the secure connection is up), "disconnected"
// (always the last event of a connection, whatever ended it; its reason
// says why) and "error" (a Go error: match it with errors.Is/As). A panic in
// game code the engine calls — a handler, a Request callback, OnAccept,
// OnConnect, OnDisconnect, ServerConfig.Gate — is recovered and reported as an "error"
// event holding a *PanicError (the action, the value, the stack); on a
// server it closes only that client's connection, on a client its
// connection. By the time a client's "disconnected" is delivered,
// everything it held is freed (its socket, reader and timers), whether it
// was closed or the server closed it or it timed out.
//
// A server made by NewSessionServer (the lobby's) carries a peer-to-peer
// session that admits its own members: its new peers are pending until
// the session's Admission admits them, and only admitted peers reach
// Peers, OnConnect, OnDisconnect and the "connected" and "disconnected"
// events; the session's SessionHooks, which see every connection, cannot
// be replaced through the Server.
//
// A message whose action no handler takes is dropped, and told once per
// action as an "error" event matching ErrUnhandled (a typo such as "mvoe"
// shows up at once instead of vanishing); the connection stays. A
// catch-all (a Network method, or Handle("", ...)) takes every message, so
// nothing is reported then. At most 64 actions are reported per Server or
// Client, then one event says the rest are not.
//
// # Closing
//
// Close (Client, Peer, Server) ends at once and discards what was not
// yet delivered: messages still waiting in the client's queue, and
// reliable messages the peer has not acknowledged. The peer is told: its
// "disconnected" error matches netcode.ErrUnsentData (code
// netcode.CodeUnsentData; the reason says how much was dropped) instead of
// a normal close, so a truncated stream is never mistaken for a whole one.
// Shutdown is the graceful way: it waits until everything was
// acknowledged, then closes normally. Client.Close and Server.Close are
// safe from any goroutine, also while Pump runs; once Client.Close
// returns, no event but "disconnected" follows and the connection is
// closed, even if Pump was just connecting.
//
// # Sending
//
// Send queues a message (a Msg map or a struct with an Action field) and
// returns at once; Pump flushes everything queued, packed into one datagram
// per peer per frame where it fits (and a timer flushes within 5 ms when the
// game does not pump). A client's messages sent before its connection is up
// wait in its queue, in order, and are handed to the connection as it has
// room; later sends wait behind them, so nothing overtakes. The queue holds
// ClientConfig.QueueLimit messages: beyond it Send returns ErrQueueFull at
// once.
//
// Send has one signature everywhere — Server, Peer, Client and
// lobby.Session: Send(msg, opts...). The options are a delivery mode
// (ReliableOrdered, the default; ReliableUnordered; Unreliable;
// UnreliableSequenced) and, on a server or session, the recipients: every
// peer by default, To(peers...) for a list (Multipeer's to_peer),
// Except(peers...) for all but some (a chat's echo to the others). Each
// kind of option may be given once: Send(m, Unreliable, ReliableOrdered)
// is an error matching ErrSendOption, not a silent choice. A server's Send
// encodes once for every recipient, and no Send allocates in steady state
// (pass a struct by pointer: Go copies a struct value passed as any).
//
// # Requests
//
// Request(ctx, msg, callback, opts...) sends a message whose handler may
// answer with Reply (or later with ReplyTo and the RequestID it kept);
// RequestFunc is its typed form, decoding the reply into a struct. The
// Timeout option bounds it (DefaultRequestTimeout without one or a ctx
// deadline), and cancelling ctx ends it. The callback runs inside Pump
// with the reply, ErrRequestTimeout, ctx's error, or a *RemoteError when the peer could
// not answer: it matches ErrRemote and, by its code, ErrNoHandler (nobody
// handles the action), ErrRequestTimeout or ErrClosed (a request the peer
// forwarded timed out or lost its connection). A server handler can
// Forward a request to another peer; the final answer, or the failure
// with its code, reaches the original requester; a Client can Forward
// too (a relay that is the client of another server). When the connection
// ends, pending requests fail with an error matching ErrClosed.
//
// # Loops
//
// A game calls Pump once per frame. A headless server either sleeps until
// traffic arrives (PumpWait) or runs a fixed-rate simulation with RunTicks,
// which schedules ticks against a fixed start so the rate never drifts.
//
// # Admission
//
// Server.OnAccept sets the accept/deny hook (peerpy's offer handler). It
// runs inside Pump, like every handler, once per arriving client and before
// anything else happens for it, with the client's address, its key (proven
// in the handshake) and the number of open peers (Arrival). A nil error
// admits the client; an error refuses it: the connection is closed with
// netcode.CodeRefused and the error's text, the client's "disconnected"
// error matches netcode.ErrRefused and carries that text, and the server's
// game never sees the client (no Peer, no OnConnect, no events). It runs
// after the handshake rather than during it so that game state needs no
// locks and the key is proven; a refused client costs one handshake (which
// netcode's handshake limits bound) and nothing after the refusal.
//
// # Strict connections
//
// Client and server agree on the codec when they connect: Listen, Connect
// and EndpointConfig name the codec as the transport's application
// protocol (ApplicationProtocol: "pumpnet engine 0, codec msgpack"), and
// two sides that name different ones are closed before either is
// connected, with netcode.CodeConfigMismatch and a reason naming both
// ("application protocols differ: client "...codec msgpack", server
// "...codec json""), instead of exchanging messages neither can decode.
// The client gets "error" then "disconnected" with that reason; the
// server's game sees nothing. An endpoint made for NewServer or
// ClientConfig.Endpoint must name the codec used with it (EndpointConfig
// names the default one; Connect checks).
//
// # One-shot sends
//
// SendOnce delivers one message to an address over a temporary connection
// (p2py's temporary connections): it dials, waits for the server's
// greeting (so a refusal is an error), sends reliably, waits for the
// acknowledgement and closes normally, returning nil only then; when ctx
// ends first it returns ctx's error at once. It blocks, keeps no state
// and leaves no goroutine or socket behind.
//
// # Memory
//
// An idle connection costs at most 32 KB on each side, heap and goroutine
// stacks after a garbage collection: a server's per-peer cost (its netcode
// connection and Peer), and a client's whole cost (its socket's netcode
// endpoint with its reader and writer goroutines, the connection, and the
// Client). Measured on linux/amd64 with 200 connections on 127.0.0.1 by
// benchmarks' TestEngineIdleMemory, which fails above the bound, and with
// 1,000 by BenchmarkIdleMemory's engine-server and engine-client rows
// (figures in benchmarks/README.md). Buffers grow with traffic and are
// given back within about 4 s once a connection is quiet again (see
// netcode's "Memory").
//
// # Wire format
//
// Each message travels in one netcode message: a kind byte (0 message,
// 1 request, 2 reply, 3 failed request), a varint request ID for kinds 1-3,
// then the codec payload (msgpack by default); a failed request carries a
// varint RemoteCode (0 failed, 1 no handler, 2 timed out, 3 closed) and at
// most 256 bytes of UTF-8 text instead. The engine opens one netcode
// channel per delivery mode, numbered as the Mode constants, and names
// "pumpnet engine 0, codec <name>" as netcode's application protocol
// (KEYS_READY parameters version 1, netcode/PROTOCOL.md §5); the 0 is the
// version of the framing above.
package engine
