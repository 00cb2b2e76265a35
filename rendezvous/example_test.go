package rendezvous_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/rendezvous"
)

// Two players meet in a room: the host creates it, the guest joins by
// code, and the guest's offer reaches the host with the guest's proven ID.
func Example() {
	srv, err := rendezvous.NewServer(rendezvous.Config{})
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv) // in a real game: https://your-rendezvous
	defer hs.Close()
	defer srv.Close()
	ctx := context.Background()

	hostCert, _ := netcode.GenerateCertificate()
	guestCert, _ := netcode.GenerateCertificate()
	host, _ := rendezvous.NewClient(hs.URL, hostCert, nil)
	guest, _ := rendezvous.NewClient(hs.URL, guestCert, nil)

	room, err := host.Create(ctx, "lightcycle", true, rendezvous.Record{Version: 1, Seats: 2, Name: "Ann"})
	if err != nil {
		log.Fatal(err)
	}
	list, _ := guest.List(ctx, "lightcycle")
	fmt.Println("public rooms:", len(list), list[0].Creator.Name, list[0].Code == room.Code)

	seat, err := guest.Join(ctx, room.Code, rendezvous.Record{Version: 1, Name: "Bob"})
	if err != nil {
		log.Fatal(err)
	}
	if err := seat.Signal(ctx, room.ID, []byte("sdp offer")); err != nil {
		log.Fatal(err)
	}
	ev, err := room.Poll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("members:", len(ev.Members), ev.Members[1].Record.Name)
	fmt.Printf("signal %q from the guest: %v\n", ev.Signals[0].Data, ev.Signals[0].From == seat.ID)
	// Output:
	// public rooms: 1 Ann true
	// members: 2 Bob
	// signal "sdp offer" from the guest: true
}
