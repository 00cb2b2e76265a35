// Package engine will own the PodSixNet model that game code touches: a
// Server with one Channel per connected client, a Client that dials a server,
// handler dispatch to methods named Network_<action> (and the catch-all
// Network), a non-blocking Pump that runs every handler on the caller's
// goroutine, request/reply with timeouts and forwarding, and a fixed-tick loop
// helper for headless servers. It builds on codec and netcode.
//
// Nothing is implemented yet; see issue "engine" in the project tracker.
package engine
