// Package linkcond is a link conditioner: it wraps a PacketConn and makes
// its traffic suffer latency, jitter, independent and bursty loss,
// duplication, reordering and a bandwidth cap, separately per direction. It
// backs netcode's public link conditioner, used by tests and by release
// builds alike (a game's "-lag 50ms -loss 5%" flags).
//
// # Model
//
// Each Direction works on whole datagrams. On WriteToUDPAddrPort (Send) or
// when the reader goroutine receives one from the wrapped conn (Receive), the
// datagram's fate is decided at once: dropped, or delivered once or twice at
// computed due times. Held copies wait in a min-heap ordered by due time
// (ties keep arrival order), and one scheduler goroutine with one timer
// writes Send copies to the wrapped conn, or hands Receive copies to
// ReadFromUDPAddrPort, when they fall due. A copy due at once with nothing
// queued ahead of it skips the heap: a zero Config adds no delay, no
// reordering and no goroutine hop to writes. Buffers are recycled, so
// steady traffic allocates nothing.
//
// Randomness comes from one PCG stream per direction seeded by Config.Seed,
// so a seeded run repeats exactly for the same traffic.
//
// # Gilbert-Elliott burst loss
//
// Real losses come in bursts: a Wi-Fi fade, a microwave oven, a mobile
// handover or a full router queue loses several datagrams in a row, which
// hurts far more than the same average of isolated losses (a reliable
// channel's resend is lost too; an interpolation buffer runs dry). The
// Gilbert-Elliott model is a two-state Markov chain stepped once per
// datagram: in the good state a datagram moves to the bad state with
// probability BurstEnter; in the bad state it returns with probability
// BurstExit, and is lost with probability BurstLoss (default 1). Independent
// Loss applies on top, in both states. In the long run
//
//	fraction of datagrams in the bad state = BurstEnter / (BurstEnter + BurstExit)
//	mean burst length                     = 1 / BurstExit datagrams
//	mean gap between bursts               = 1 / BurstEnter datagrams
//
// To get an average burst loss L with bursts of B datagrams (BurstLoss 1):
// BurstExit = 1/B and BurstEnter = L·BurstExit/(1−L). For 2 % in bursts of 5:
// BurstExit 0.2, BurstEnter 0.0041.
//
// # Typical settings
//
// Rough starting points, per direction (halve a round trip for Latency);
// measure your own players' links when you can.
//
//	                 Latency  Jitter  Loss   BurstEnter BurstExit  Bandwidth
//	LAN, wired        0.2ms   0.1ms   0      0          -          0
//	home Wi-Fi        3ms     2ms     0.2%   0.002      0.3        0
//	busy Wi-Fi        8ms     8ms     0.5%   0.01       0.2        0
//	mobile (4G/LTE)   30ms    10ms    0.5%   0.002      0.05       250_000 (2 Mbit/s)
//	poor mobile       80ms    40ms    2%     0.01       0.1        40_000
//	transatlantic     40ms    2ms     0.1%   0          -          0
//
// Wi-Fi resends at its own layer, so it shows more jitter than loss; a
// mobile handover is a long burst (BurstExit 0.05 is 20 datagrams, a third
// of a second at 60 packets per second); a transatlantic fibre path is long
// but steady. Reorder of 0.1–1 % and Duplicate of 0.01–0.1 % are plenty to
// exercise the code that must survive them.
//
// # Goroutines and time
//
// Wrap starts two goroutines, a scheduler and a reader of the wrapped conn;
// Close stops both and waits for them. They block only on channels and
// timers and take time from the time package, so a Conn made inside a
// testing/synctest bubble over fakenet runs on the bubble's fake clock:
// latencies are exact and a minute of traffic takes milliseconds.
//
// # Example
//
// A game's command-line flags feeding the conditioner:
//
//	package main
//
//	import (
//		"flag"
//		"log"
//		"net"
//		"net/netip"
//		"time"
//
//		"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
//	)
//
//	func main() {
//		lag := flag.Duration("lag", 0, "added one-way latency")
//		loss := flag.Float64("loss", 0, "loss probability, 0..1")
//		flag.Parse()
//		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
//		if err != nil {
//			log.Fatal(err)
//		}
//		pc, err := linkcond.Wrap(udp, linkcond.Config{
//			Send:    linkcond.Direction{Latency: *lag, Loss: *loss},
//			Receive: linkcond.Direction{Latency: *lag, Loss: *loss},
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer pc.Close()
//		to := netip.MustParseAddrPort("127.0.0.1:31425")
//		pc.WriteToUDPAddrPort([]byte("hello"), to) // sent *lag later, or dropped
//		time.Sleep(*lag + 10*time.Millisecond)    // Close discards what is still held
//		log.Printf("%+v", pc.Stats().Send)
//	}
package linkcond
