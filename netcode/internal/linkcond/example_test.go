package linkcond_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

// Example sends ten datagrams over a link with 20 ms of latency and 50 %
// loss, and reads back what survived.
func Example() {
	n := fakenet.New()
	raw, _ := n.Listen(netip.MustParseAddrPort("127.0.0.1:1000"))
	peer, _ := n.Listen(netip.MustParseAddrPort("127.0.0.1:2000"))
	defer peer.Close()

	lc, err := linkcond.Wrap(raw, linkcond.Config{
		Seed: 1,
		Send: linkcond.Direction{Latency: 20 * time.Millisecond, Loss: 0.5},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lc.Close()

	start := time.Now()
	for i := range 10 {
		lc.WriteToUDPAddrPort([]byte{byte(i)}, peer.AddrPort())
	}
	s := lc.Stats().Send
	buf := make([]byte, 16)
	for range s.Passed {
		peer.ReadFromUDPAddrPort(buf)
	}
	fmt.Println("offered:", s.Packets)
	fmt.Println("passed + dropped = offered:", s.Passed+s.Dropped() == s.Packets)
	fmt.Println("survivors took at least 20ms:", time.Since(start) >= 20*time.Millisecond)
	// Output:
	// offered: 10
	// passed + dropped = offered: true
	// survivors took at least 20ms: true
}
