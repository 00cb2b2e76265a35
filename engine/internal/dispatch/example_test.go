package dispatch_test

import (
	"errors"
	"fmt"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine/internal/dispatch"
)

// Player is the per-connection state a server's handlers receive.
type Player struct{ Name string }

// Move is a typed message.
type Move struct {
	X float64 `msgpack:"x"`
	Y float64 `msgpack:"y"`
}

// Game is a listener: its Network_<action> methods handle those actions,
// its Network method every action, after the specific one.
type Game struct{}

func (g *Game) Network_move(p *Player, m Move)     { fmt.Println(p.Name, "moves to", m.X, m.Y) }
func (g *Game) Network_error(p *Player, err error) { fmt.Println(p.Name, "error:", err) }
func (g *Game) Network(p *Player, m codec.Msg)     { fmt.Println(p.Name, "sent", m.Action()) }

// A server's table: a peer's message runs Network_move then Network; a
// local error event runs Network_error then Network. A peer cannot forge
// the reserved events.
func Example() {
	c := codec.Default()
	t := dispatch.New[*Player](c)
	t.Reserve("connected", "disconnected", "error")
	if err := t.Register(&Game{}); err != nil {
		panic(err)
	}
	ann := &Player{Name: "ann"}

	data, _ := c.Append(nil, codec.Msg{"action": "move", "x": 1.5, "y": 2})
	n, err := t.Dispatch(ann, data)
	fmt.Println(n, "handlers ran, error:", err)

	t.Event(ann, "error", errors.New("timeout"))

	forged, _ := c.Append(nil, codec.Msg{"action": "disconnected"})
	_, err = t.Dispatch(ann, forged)
	fmt.Println(errors.Is(err, dispatch.ErrReserved))
	// Output:
	// ann moves to 1.5 2
	// ann sent move
	// 2 handlers ran, error: <nil>
	// ann error: timeout
	// ann sent error
	// true
}

// A client's handlers take no peer; HandleFunc adds a typed one without
// reflection.
func ExampleHandleFunc() {
	c := codec.Default()
	t := dispatch.New[struct{}](c) // a client has no peer value
	err := dispatch.HandleFunc(t, "move", func(_ struct{}, m Move) {
		fmt.Println("move to", m.X, m.Y)
	})
	if err != nil {
		panic(err)
	}
	if err := t.Handle("", func(m codec.Msg) { fmt.Println("got", m.Action()) }); err != nil {
		panic(err)
	}
	data, _ := c.Append(nil, codec.Msg{"action": "move", "x": 3, "y": 4})
	if _, err := t.Dispatch(struct{}{}, data); err != nil {
		panic(err)
	}
	// Output:
	// move to 3 4
	// got move
}

// Register refuses a handler whose signature is not an allowed form, and
// says which one and why.
func ExampleTable_Register() {
	t := dispatch.New[*Player](codec.Default())
	err := t.Register(&badListener{})
	fmt.Println(errors.Is(err, dispatch.ErrBadHandler))
	fmt.Println(err)
	// Output:
	// true
	// dispatch: bad handler: (*dispatch_test.badListener).Network_chat has signature func(string): its message parameter is string (a string); allowed forms: func(*dispatch_test.Player, M) and func(M), returning nothing, where M is codec.Msg, map[string]any, any, a struct, a pointer to a struct, or an interface such as error (local events only)
}

type badListener struct{}

func (*badListener) Network_chat(text string) {}
