package discovery_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
)

// Two games advertise on an in-memory registry; a browser finds both. On a
// LAN, use &discovery.MDNS{Interface: ifc} instead of NewMemory.
func Example() {
	var backend discovery.Backend = discovery.NewMemory()
	service, err := discovery.ServiceName("lightcycle")
	if err != nil {
		panic(err)
	}
	for i, name := range []string{"ann", "Zoë"} {
		id := strings.Repeat(fmt.Sprintf("%x", i+1), 64)
		ad, err := backend.Advertise(context.Background(), service, discovery.Record{
			Instance: id[:16],
			Addrs:    []netip.Addr{netip.AddrFrom4([4]byte{192, 168, 1, byte(20 + i)})},
			Port:     31425,
			ID:       id,
			Version:  1,
			Seats:    3 - i,
			Name:     name,
		})
		if err != nil {
			panic(err)
		}
		defer ad.Stop()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	found, err := backend.Browse(ctx, service, 500*time.Millisecond)
	if err != nil {
		panic(err)
	}
	for _, r := range <-found {
		fmt.Println(r.Name, r.Addrs, r.Port, r.Seats)
	}
	// Output:
	// ann [192.168.1.20] 31425 3
	// Zoë [192.168.1.21] 31425 2
}

// A Record's TXT strings: short keys, the name percent-encoded.
func ExampleRecord_TXT() {
	r := discovery.Record{ID: strings.Repeat("ab", 32), Version: 2, Seats: 1, Name: "Zoë's 100%"}
	txt, err := r.TXT()
	if err != nil {
		panic(err)
	}
	for _, s := range txt {
		fmt.Println(s)
	}
	back, err := discovery.ParseTXT(txt)
	fmt.Println(back.Name, err)
	// Output:
	// id=abababababababababababababababababababababababababababababababab
	// v=2
	// s=1
	// n=Zo%C3%AB's 100%25
	// Zoë's 100% <nil>
}

func ExampleServiceName() {
	fmt.Println(discovery.ServiceName("lightcycle"))
	_, err := discovery.ServiceName("Light_Cycle")
	fmt.Println(err)
	// Output:
	// _lightcycle._udp <nil>
	// discovery: invalid service: service type "Light_Cycle": only a-z, 0-9 and '-' allowed
}
