package lobby_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby"
	"github.com/pumpnet/pumpnet/rendezvous"
)

// chatRoom prints what one player hears.
type chatRoom struct{ heard []string }

func (c *chatRoom) Network_chat(p *lobby.Peer, m engine.Msg) {
	c.heard = append(c.heard, fmt.Sprintf("%s says %v", p.Name, m["text"]))
}

// Two players meet over the internet: one creates a room on a rendezvous
// server and tells the other its code; the other joins by the code. Each
// session connects to the other over WebRTC (directly through their NATs,
// or through a TURN relay given in Config.ICEServers) and plays as on a
// LAN. The rendezvous runs in the example; a game uses its own (the
// rendezvous package's cmd/rendezvous), e.g. "https://rdv.example.org".
func Example_internet() {
	srv, err := rendezvous.NewServer(rendezvous.Config{})
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	ctx := context.Background()

	ann, err := lobby.Join(ctx, lobby.Config{DisplayName: "ann", ServiceType: "chat",
		Rendezvous: hs.URL, CreateRoom: true})
	if err != nil {
		log.Fatal(err)
	}
	defer ann.Close()
	code := ann.Room() // what ann tells her friends

	bob, err := lobby.Join(ctx, lobby.Config{DisplayName: "bob", ServiceType: "chat",
		Rendezvous: hs.URL, Room: code})
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()
	heard := &chatRoom{}
	bob.Register(heard)

	// Each game pumps its session once a frame; here, until both are in.
	for deadline := time.Now().Add(30 * time.Second); len(ann.Peers()) == 0 || len(bob.Peers()) == 0; {
		if time.Now().After(deadline) {
			log.Fatal("no connection")
		}
		ann.PumpWait(ctx, 5*time.Millisecond)
		bob.PumpWait(ctx, 5*time.Millisecond)
	}
	fmt.Println("ann plays with", ann.Peers()[0].Name, "and bob with", bob.Peers()[0].Name)

	// A member is addressed by its ID, its key fingerprint.
	if p := ann.Peer(bob.ID()); p != nil {
		ann.Send(engine.Msg{"action": "chat", "text": "hi bob"}, engine.To(p))
	}
	for deadline := time.Now().Add(30 * time.Second); len(heard.heard) == 0 && time.Now().Before(deadline); {
		ann.PumpWait(ctx, 5*time.Millisecond)
		bob.PumpWait(ctx, 5*time.Millisecond)
	}
	fmt.Println(heard.heard)
	// Output:
	// ann plays with bob and bob with ann
	// [ann says hi bob]
}
