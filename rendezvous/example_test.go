package rendezvous_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

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

// A member takes its STUN and TURN servers, with TURN credentials made for
// it alone, from the create or join answer, and copies them into
// webrtc.Config.ICEServers (a browser game hands them to
// RTCPeerConnection as they are).
func ExampleRoom_ICEServers() {
	srv, err := rendezvous.NewServer(rendezvous.Config{
		PublicSTUN: "198.51.100.7:7777",
		TURN:       rendezvous.TURNConfig{Public: "198.51.100.7:3478"}, // served by srv.ServeTURN
		ExternalTURN: []rendezvous.ExternalTURN{{ // coturn: use-auth-secret, static-auth-secret=...
			URLs:   []string{"turn:turn.example.org:3478?transport=udp"},
			Secret: "shared with coturn",
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	cert, _ := netcode.GenerateCertificate()
	c, _ := rendezvous.NewClient(hs.URL, cert, nil)
	room, err := c.Create(context.Background(), "lightcycle", false, rendezvous.Record{Seats: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range room.ICEServers() {
		// The username is "<expiry unix time>:<member ID>".
		fmt.Println(s.URLs, s.Username != "" && strings.HasSuffix(s.Username, ":"+room.ID))
	}
	// Output:
	// [stun:198.51.100.7:7777] false
	// [turn:198.51.100.7:3478?transport=udp] true
	// [turn:turn.example.org:3478?transport=udp] true
}
