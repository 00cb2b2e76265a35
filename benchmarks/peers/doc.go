// Package peers measures pumpnet beside the transports it is meant to beat:
// ENet (the C library, libenet 1.3.x, through cgo; see ./enet) and kcp-go
// (github.com/xtaci/kcp-go/v5 in fast mode), in the scenarios of
// ../benchmarks — ping-pong, one-way throughput, the 60 Hz scale test —
// and in the same run as the raw-UDP baseline and pumpnet's netcode and
// engine, so that every ratio compares figures of one run on one machine.
//
// It is a module of its own because ENet needs cgo and the core module
// must stay free of it (DESIGN.md decisions 5 and 11). It needs
// libenet-dev (Debian: apt-get install libenet-dev) and a unix system.
// README.md describes the settings of each peer; run it with
//
//	cd benchmarks/peers && go test -run XXX -bench . -benchtime 2s
//
// The package has no non-test code; the drivers it shares with
// ../benchmarks are ../internal/harness (its import path lies under
// benchmarks/, so this module may import that internal package).
package peers
