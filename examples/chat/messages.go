package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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

// clean makes text from the network safe to print on a terminal: control
// characters (escape sequences, carriage returns, ...) and bidirectional
// overrides are removed, invalid UTF-8 becomes U+FFFD, the result is
// trimmed and cut to at most max runes.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			if r == '\t' {
				return ' '
			}
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
