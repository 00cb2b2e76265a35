package chatroom

// The chat protocol, as PodSixNet's Chat example speaks it. Every message is
// a map whose "action" names its handler.
//
//	client -> server  {action: nickname, nickname}   once, first (and on /nick)
//	client -> server  {action: message, message}     one per line typed
//	server -> all     {action: message, message, who}
//	server -> all     {action: players, players: [names]}  on join, rename, leave

// NicknameMsg names the sender; the server keeps it per channel.
type NicknameMsg struct {
	Action   string `msgpack:"action"`
	Nickname string `msgpack:"nickname"`
}

// ChatMsg is a line of chat. Clients leave Who empty (the server ignores
// it); the server fills it with the sender's nickname.
type ChatMsg struct {
	Action  string `msgpack:"action"`
	Message string `msgpack:"message"`
	Who     string `msgpack:"who"`
}

// PlayersMsg lists everyone connected, in order of arrival.
type PlayersMsg struct {
	Action  string   `msgpack:"action"`
	Players []string `msgpack:"players"`
}

// Limits on what the server accepts and relays, and the name of a player
// who sent none.
const (
	MaxNickRunes    = 32
	MaxMessageRunes = 500
	DefaultNick     = "anonymous"
)
