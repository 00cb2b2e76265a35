// Package board is the state of a shared whiteboard, as PodSixNet's
// Whiteboard example keeps it, and the messages that change it. It has no
// graphics and no networking and uses only the standard library, so the
// server and every client keep the same Board by applying the same
// messages, and it is tested without a display.
//
// # Players and drawings
//
// Each player has an ID ("1", "2", ...: the server's join counter), a
// Colour computed from it (ColourFor), and polylines: StartLine begins a
// line at a point, DrawPoint extends the player's newest line. A DrawPoint
// before any StartLine does nothing and reports false (PodSixNet's server
// would crash on it). Points are clamped to the Width×Height canvas.
//
// # Limits
//
// A board must fit in one "initial" message, so it is bounded: a player
// holds at most MaxPoints points. A StartLine or DrawPoint that goes over
// drops the player's oldest whole lines until it fits (the newest line is
// never dropped; a DrawPoint to a newest line that is already MaxPoints
// long is ignored). Because the rule depends only on the player's own
// lines, the server and every client drop the same lines, and stay equal.
// The server also admits at most MaxPlayers players. With the defaults, the
// largest initial message is about 0.5 MB and 263,000 msgpack elements:
// see MessageLimits.
//
// # Protocol
//
//	client -> server  {action: startline, point: [x, y]}
//	client -> server  {action: drawpoint, point: [x, y]}
//	server -> all     {action: startline|drawpoint, point, id}   the sender's id
//	server -> new     {action: initial, lines: {id: {color: [r, g, b], lines: [[[x, y], ...], ...]}}}
//	server -> all     {action: players, players: {id: [r, g, b]}} on join and leave
//
// A client that receives "players" forgets every player not listed, and
// with them their drawings.
//
// # Example
//
//	b := board.New()
//	b.Join("1", board.ColourFor(1))
//	b.StartLine("1", board.Point{10, 10})
//	b.DrawPoint("1", board.Point{20, 15})
//	fmt.Println(b.Lines("1")) // [[[10 10] [20 15]]]
package board
