// Package lobby will own the Multipeer half of pumpnet: discovery of games on
// the LAN over mDNS/DNS-SD, sessions of 2-8 peers in which every pair holds
// exactly one connection, seat locking (StopLookingForPeers /
// StartLookingForPeers), accept/deny of offers, peer added/removed events, a
// deterministic host, and a hosted mode in which one server advertises and
// clients browse. It builds on engine.
//
// Nothing is implemented yet; see issue "lobby" in the project tracker.
package lobby
