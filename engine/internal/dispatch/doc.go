// Package dispatch routes messages to handlers the PodSixNet way: a
// message is a codec-encoded map whose "action" names its handler, a
// listener's method Network_<action> handles that action, and its method
// Network handles every action, after the specific one. Local events
// (connected, disconnected, error, socketConnect) are delivered the same
// way, as Go values, without bytes.
//
// A Table[P] is generic over the peer parameter P that handlers receive:
// *engine.Peer on a server, a *lobby.Peer in a lobby; a client's
// handlers take no peer. It is not safe for concurrent use: the engine
// calls it only inside Pump, on the game's goroutine, so handlers need no
// locks.
//
// # Handlers
//
// Register finds a listener's handler methods by reflection, once; Handle
// adds one func value; HandleFunc adds one typed func without reflection.
// Each listener is one Register, Handle or HandleFunc call. For each
// message, Dispatch runs, listener by listener in registration order, the
// listener's handler for the action and then its catch-all, each exactly
// once.
//
// A handler has one of two forms, and returns nothing:
//
//	func(P, M)  // servers, lobbies: the peer, then the message
//	func(M)     // clients: the message alone
//
// where the message parameter M is one of:
//
//   - codec.Msg, map[string]any (or another map type with that underlying
//     type) or any: the message decoded as a Msg. One Msg is decoded per
//     Dispatch and shared by every such handler of that Dispatch, in order.
//     A handler may keep it, but must treat it as read-only: a change is
//     seen by the handlers after it.
//   - a struct type T: the message decoded into T by the codec (keys match
//     the msgpack tag, else the json tag, else the field name; unknown keys
//     are ignored, missing ones leave the zero value). It is decoded once
//     per Dispatch per type, into storage the Table zeroes and reuses, and
//     each handler gets a copy; slices, maps and pointers inside are fresh
//     for each Dispatch (a handler may keep them) but shared by that
//     Dispatch's handlers of T. With HandleFunc, a struct of numbers is
//     dispatched with no allocation at all. Field types follow the codec:
//     msgpack does not narrow a float64 into a float32 field (an error), so
//     senders of Msg values should match the receivers' types.
//   - a pointer to a struct, *T: a value decoded for that handler alone,
//     fresh for each call; the handler owns it.
//   - an interface type with methods, such as error: only Event calls such
//     handlers (Dispatch skips them), with event values that implement it.
//
// Anything else is refused when the handler is registered, with an error
// that names the handler, its signature and the allowed forms: another
// number of parameters, a first parameter that is not P, a message
// parameter of type P, a channel, func, slice, string or number message
// parameter, a variadic function, or results. Register checks every
// Network method and registers nothing if one is wrong. Action names come
// from method names as they are: Network_socketConnect handles
// "socketConnect". Go's reflection cannot see unexported methods, so
// network_move is silently not a handler.
//
// Handlers with the Msg and error forms are called directly; handlers of
// struct types found by Register or given to Handle go through
// reflect.Value.Call (see the benchmarks); HandleFunc never does.
//
// # Errors
//
// Dispatch decodes every value its handlers need before running the first,
// so a message reaches all of them or none: bytes whose action cannot be
// read, or that cannot be decoded into a handler's type, return an error
// wrapping ErrBadMessage and the codec's error (codec.ErrDecode,
// codec.ErrLength, ...) and run nothing. The codec validates every input
// before its decoder sees it, so hostile bytes are an error, never a crash.
// A panic in a handler is recovered and returned as a *PanicError (which
// wraps ErrPanic and, if the panic value is an error, that error); the
// handlers after it do not run. The engine closes that peer's channel.
//
// Reserve marks actions as local-only, so that a peer cannot forge a
// "disconnected" message: Dispatch refuses them with ErrReserved.
//
// # Events
//
// Event(p, action, v) delivers v to the handlers of action (and the
// catch-alls) that can take it: Msg, map and any parameters get
// EventMsg(action, v) ({"action": action, ...} built from v unless v is
// already a Msg); other parameters get v itself if v's type is assignable
// to theirs (an error to error, a struct to that struct type). The others
// are skipped.
//
// # Example
//
//	package main
//
//	import (
//		"errors"
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/codec"
//		"github.com/pumpnet/pumpnet/engine/internal/dispatch"
//	)
//
//	type Player struct{ Name string }
//
//	type Move struct {
//		X float64 `msgpack:"x"`
//		Y float64 `msgpack:"y"`
//	}
//
//	type Game struct{}
//
//	func (g *Game) Network_move(p *Player, m Move)     { fmt.Println(p.Name, "moves to", m.X, m.Y) }
//	func (g *Game) Network_error(p *Player, err error) { fmt.Println(p.Name, "error:", err) }
//	func (g *Game) Network(p *Player, m codec.Msg)     { fmt.Println(p.Name, "sent", m.Action()) }
//
//	func main() {
//		c := codec.Default()
//		t := dispatch.New[*Player](c)
//		t.Reserve("connected", "disconnected", "error") // local events only
//		if err := t.Register(&Game{}); err != nil {
//			panic(err)
//		}
//		ann := &Player{Name: "ann"}
//		data, _ := c.Append(nil, codec.Msg{"action": "move", "x": 1.5, "y": 2})
//		if _, err := t.Dispatch(ann, data); err != nil { // Network_move, then Network
//			panic(err)
//		}
//		t.Event(ann, "error", errors.New("timeout")) // Network_error, then Network
//	}
package dispatch
