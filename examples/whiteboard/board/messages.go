package board

// Actions of the whiteboard protocol.
const (
	ActionStartLine = "startline"
	ActionDrawPoint = "drawpoint"
	ActionInitial   = "initial"
	ActionPlayers   = "players"
)

// PointMsg is "startline" or "drawpoint": from a client, a point; from the
// server, the same with the drawing player's ID.
type PointMsg struct {
	Action string `msgpack:"action" json:"action"`
	Point  Point  `msgpack:"point" json:"point"`
	ID     string `msgpack:"id,omitempty" json:"id,omitempty"`
}

// PlayerState is one player in an "initial" message.
type PlayerState struct {
	Colour Colour    `msgpack:"color" json:"color"`
	Lines  [][]Point `msgpack:"lines" json:"lines"`
}

// InitialMsg is what the server sends a newcomer: every player's colour
// and lines, the newcomer's own included, keyed by ID.
type InitialMsg struct {
	Action string                 `msgpack:"action" json:"action"`
	Lines  map[string]PlayerState `msgpack:"lines" json:"lines"`
}

// PlayersMsg is every player's colour by ID, sent to everyone whenever a
// player joins or leaves.
type PlayersMsg struct {
	Action  string            `msgpack:"action" json:"action"`
	Players map[string]Colour `msgpack:"players" json:"players"`
}

// MessageLimits returns the bounds (in bytes, and in msgpack array elements
// plus map entries) that the largest message of a board within MaxPlayers
// and MaxPoints stays under: the "initial" message, with every player's
// lines full. A point costs at most 7 bytes and 3 elements, a line at most
// 3 bytes and 1 element, a player at most 40 bytes and 6 elements besides.
// Configure the codec of both ends with at least these (the default
// msgpack codec allows 1 MiB but only 65,536 elements).
func MessageLimits() (bytes, elements int) {
	const perPlayerBytes = 40 + MaxPoints*(7+3)
	const perPlayerElements = 6 + MaxPoints*(3+1)
	return 64 + MaxPlayers*perPlayerBytes, 2 + MaxPlayers*perPlayerElements
}
