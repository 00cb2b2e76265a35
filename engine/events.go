package engine

// Built-in events. Handlers receive them like messages: a handler whose
// message parameter is a Msg gets a map with "action" and the exported
// fields below; a handler whose parameter is the event's struct type gets
// the struct; an "error" handler whose parameter is `error` gets the error.
//
//   - "connected": on a client, the server's greeting, a message from the
//     server: take it as a Msg (`func (g *Game) Network_connected(m
//     engine.Msg)`), or as a struct of your own if your server greets
//     with more fields; on a server, a new client (local event, the
//     Connected struct, or a Msg with its fields); on a NewSessionServer,
//     a peer the session admitted.
//   - "socketConnect": on a client, the secure connection is up, before the
//     server's greeting (local event, SocketConnect).
//   - "disconnected": the connection ended, for any reason; always the last
//     event of a connection (local event, Disconnected).
//   - "error": something failed: a dial, an undecodable message, a handler
//     panic (local event, the error itself).

// Connected is the server-side "connected" event: a new client. (A client
// receives "connected" as the server's greeting message: see above.)
type Connected struct {
	Action      string `msgpack:"action"`
	Addr        string `msgpack:"addr"`
	Fingerprint string `msgpack:"fingerprint"`
}

// SocketConnect is the client-side "socketConnect" event.
type SocketConnect struct {
	Action string `msgpack:"action"`
	Addr   string `msgpack:"addr"`
}

// Disconnected is the "disconnected" event. Err matches net.ErrClosed for
// connection ends, or is the dial error when a client never connected.
type Disconnected struct {
	Action string `msgpack:"action"`
	Reason string `msgpack:"reason"`
	Err    error  `msgpack:"-"`
}
