package lobby

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/internal/fakenet"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// board takes the moves stream in StreamReceived, inside Pump.
type board struct {
	moves []string
}

func (b *board) StreamReceived(p *Peer, stream string, data []byte) {
	// data is only valid during the call: keep a copy (here, a string).
	b.moves = append(b.moves, fmt.Sprintf("%s on %q: %s", p.Name, stream, data))
}

// Two peers declare a fixed-size stream of 4-byte moves. It is open with
// each peer as soon as the peer is added, and every chunk reaches
// StreamReceived whole, in order, on the goroutine that calls Pump.
func Example_streamReceived() {
	streams := []StreamConfig{{Name: "moves", ChunkSize: 4}}
	// lobby.Join on a LAN; an in-memory LAN here.
	ann, bob := joinOnMemoryLAN(Config{DisplayName: "ann", ServiceType: "lightcycle", Streams: streams},
		Config{DisplayName: "bob", ServiceType: "lightcycle", Streams: streams})
	defer ann.Close()
	defer bob.Close()
	b := &board{}
	if err := bob.Register(b); err != nil {
		panic(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ann.Peer(bob.ID()) == nil && ctx.Err() == nil {
		ann.PumpWait(ctx, 10*time.Millisecond)
		bob.PumpWait(ctx, 10*time.Millisecond)
	}
	moves, err := ann.OpenStream(ann.Peer(bob.ID()), "moves") // opened at admission
	if err != nil {
		panic(err)
	}
	if _, err := moves.Write([]byte("N 03E 12S 07")); err != nil { // three whole chunks
		panic(err)
	}
	_, err = moves.Write([]byte("W 1"))
	fmt.Println("write of 3 bytes:", err)
	for len(b.moves) < 3 && ctx.Err() == nil {
		ann.PumpWait(ctx, 10*time.Millisecond)
		bob.PumpWait(ctx, 10*time.Millisecond)
	}
	for _, m := range b.moves {
		fmt.Println(m)
	}
	// Output:
	// write of 3 bytes: lobby: stream chunk size: write of 3 bytes on stream "moves", not a multiple of 4
	// ann on "moves": N 03
	// ann on "moves": E 12
	// ann on "moves": S 07
}

// joinOnMemoryLAN joins one session per config on an in-memory network and
// discovery registry (what lobby.Join does on a real LAN).
func joinOnMemoryLAN(cfgs ...Config) (*Session, *Session) {
	n, mem := fakenet.New(), discovery.NewMemory()
	var out []*Session
	for i, cfg := range cfgs {
		cfg.PollInterval = 50 * time.Millisecond
		pc, err := n.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 5, 0, byte(i + 1)}), 7000))
		if err != nil {
			panic(err)
		}
		ep, err := netcode.ListenPacket(pc, engine.EndpointConfig(cfg.Net))
		if err != nil {
			panic(err)
		}
		s, err := join(context.Background(), cfg, ep, mem)
		if err != nil {
			panic(err)
		}
		out = append(out, s)
	}
	return out[0], out[1]
}
