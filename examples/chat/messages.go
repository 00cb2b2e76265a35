package main

// The chat protocol, as PodSixNet's Chat example speaks it. Every message is
// a map whose "action" names its handler.
//
//	client -> server  {action: nickname, nickname}   once, first (and on /nick)
//	client -> server  {action: message, message}     one per line typed
//	server -> all     {action: message, message, who}
//	server -> all     {action: players, players: [names]}  on join, rename, leave

// nicknameMsg names the sender; the server keeps it per channel.
type nicknameMsg struct {
	Action   string `msgpack:"action"`
	Nickname string `msgpack:"nickname"`
}

// chatMsg is a line of chat. Clients leave Who empty (the server ignores
// it); the server fills it with the sender's nickname.
type chatMsg struct {
	Action  string `msgpack:"action"`
	Message string `msgpack:"message"`
	Who     string `msgpack:"who"`
}

// playersMsg lists everyone connected, in order of arrival.
type playersMsg struct {
	Action  string   `msgpack:"action"`
	Players []string `msgpack:"players"`
}

// Limits on what the server accepts and relays.
const (
	maxNickRunes    = 32
	maxMessageRunes = 500
	defaultNick     = "anonymous"
)
