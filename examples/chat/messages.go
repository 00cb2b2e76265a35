package main

import "github.com/pumpnet/pumpnet/examples/chat/chatroom"

// The chat protocol lives in package chatroom (shared with examples/web);
// these are its names in this command.
type (
	nicknameMsg = chatroom.NicknameMsg
	chatMsg     = chatroom.ChatMsg
	playersMsg  = chatroom.PlayersMsg
)

// Limits on what the server accepts and relays.
const (
	maxNickRunes    = chatroom.MaxNickRunes
	maxMessageRunes = chatroom.MaxMessageRunes
	defaultNick     = chatroom.DefaultNick
)
