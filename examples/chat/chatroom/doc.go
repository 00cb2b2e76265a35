// Package chatroom is the chat example's server and protocol, without a
// terminal: examples/chat serves it over UDP, and examples/web serves the
// same room to browsers (WebRTC) beside native clients.
//
// The server keeps a nickname per peer (DefaultNick until a "nickname"
// arrives), announces a newcomer to everyone when its nickname arrives (or
// after NickGrace as DefaultNick), relays every "message" to everyone with
// the sender's name, and sends everyone "players" on join, rename and
// leave. Text is cleaned (control characters dropped) and bounded by
// MaxNickRunes and MaxMessageRunes.
package chatroom
